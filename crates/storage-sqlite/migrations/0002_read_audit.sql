-- Authenticated reads of confidential data: who read what, when. Not part of the log (reads
-- are not commands), but kept like it: rows are only ever inserted.
CREATE TABLE read_audit (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    key        TEXT NOT NULL,
    path       TEXT NOT NULL,
    items      TEXT NOT NULL,
    concerned  TEXT NOT NULL
);
CREATE TRIGGER read_audit_no_update BEFORE UPDATE ON read_audit
    BEGIN SELECT RAISE(ABORT, 'corridor: read_audit is append-only'); END;
CREATE TRIGGER read_audit_no_delete BEFORE DELETE ON read_audit
    BEGIN SELECT RAISE(ABORT, 'corridor: read_audit is append-only'); END;
