-- Evidence files: bytes named by their SHA-256 (lowercase hex), stored once however many reports
-- link them. Not part of the log (the log holds only salted commitments, so the accused cannot
-- test which file a source holds), but kept like it: rows are only ever inserted, and an upload
-- is acknowledged only once its file and link are committed.
CREATE TABLE evidence_files (
    sha256  TEXT PRIMARY KEY,
    bytes   BLOB NOT NULL
);
-- Which incident's report commits to which file, with the salt that opens the commitment: who
-- may read a file follows from the audiences of the incidents linked to it.
CREATE TABLE evidence_links (
    sha256      TEXT NOT NULL REFERENCES evidence_files (sha256),
    incident    TEXT NOT NULL,
    salt        TEXT NOT NULL,
    commitment  TEXT NOT NULL,
    uploader    TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (sha256, incident, commitment)
);
CREATE TRIGGER evidence_files_no_update BEFORE UPDATE ON evidence_files
    BEGIN SELECT RAISE(ABORT, 'corridor: evidence_files is append-only'); END;
CREATE TRIGGER evidence_files_no_delete BEFORE DELETE ON evidence_files
    BEGIN SELECT RAISE(ABORT, 'corridor: evidence_files is append-only'); END;
CREATE TRIGGER evidence_links_no_update BEFORE UPDATE ON evidence_links
    BEGIN SELECT RAISE(ABORT, 'corridor: evidence_links is append-only'); END;
CREATE TRIGGER evidence_links_no_delete BEFORE DELETE ON evidence_links
    BEGIN SELECT RAISE(ABORT, 'corridor: evidence_links is append-only'); END;
