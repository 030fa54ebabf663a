-- Evidence files: bytes named by their SHA-256 (lowercase hex), stored once however many reports
-- link them. Not part of the log (the log holds only salted commitments, so the accused cannot
-- test which file a source holds), but kept like it: rows are only ever inserted, and an upload
-- is acknowledged only once its file and link are committed.
CREATE TABLE evidence_files (
    sha256  text PRIMARY KEY,
    bytes   bytea NOT NULL
);
-- Which incident's report commits to which file, with the salt that opens the commitment: who
-- may read a file follows from the audiences of the incidents linked to it.
CREATE TABLE evidence_links (
    sha256      text NOT NULL REFERENCES evidence_files (sha256),
    incident    text COLLATE "C" NOT NULL,
    salt        text NOT NULL,
    commitment  text NOT NULL,
    uploader    text NOT NULL,
    at          text NOT NULL,
    PRIMARY KEY (sha256, incident, commitment)
);
CREATE TRIGGER evidence_files_append_only BEFORE UPDATE OR DELETE ON evidence_files
    FOR EACH ROW EXECUTE FUNCTION corridor_refuse_change();
CREATE TRIGGER evidence_files_no_truncate BEFORE TRUNCATE ON evidence_files
    FOR EACH STATEMENT EXECUTE FUNCTION corridor_refuse_change();
CREATE TRIGGER evidence_links_append_only BEFORE UPDATE OR DELETE ON evidence_links
    FOR EACH ROW EXECUTE FUNCTION corridor_refuse_change();
CREATE TRIGGER evidence_links_no_truncate BEFORE TRUNCATE ON evidence_links
    FOR EACH STATEMENT EXECUTE FUNCTION corridor_refuse_change();
