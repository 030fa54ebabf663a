-- Authenticated reads of confidential data: who read what, when. Not part of the log (reads
-- are not commands), but kept like it: rows are only ever inserted. items and concerned are
-- JSON arrays of strings, kept as text like the projections.
CREATE TABLE read_audit (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         text NOT NULL,
    actor      text NOT NULL,
    key        text NOT NULL,
    path       text NOT NULL,
    items      text NOT NULL,
    concerned  text NOT NULL
);
CREATE TRIGGER read_audit_append_only BEFORE UPDATE OR DELETE ON read_audit
    FOR EACH ROW EXECUTE FUNCTION corridor_refuse_change();
CREATE TRIGGER read_audit_no_truncate BEFORE TRUNCATE ON read_audit
    FOR EACH STATEMENT EXECUTE FUNCTION corridor_refuse_change();
