-- The log. Rows are only ever inserted (the trigger below refuses anything else); idx is dense
-- from 0 (checked by the sequencer and by `append` under a table lock, guarded here by the key).
CREATE TABLE entries (
    idx         bigint PRIMARY KEY CHECK (idx >= 0),
    time        text   NOT NULL,
    type        text   NOT NULL,
    actor       text   NOT NULL,
    key         text   NOT NULL,
    command_id  text   NOT NULL,
    commitment  text   NOT NULL,
    salt        bytea  NOT NULL CHECK (octet_length(salt) = 32),
    command     bytea  NOT NULL,
    signature   bytea  NOT NULL,
    leaf_hash   bytea  NOT NULL CHECK (octet_length(leaf_hash) = 32),
    UNIQUE (actor, command_id)
);

-- Signed tree heads, verbatim, one per size; also never changed once written.
CREATE TABLE checkpoints (
    size  bigint PRIMARY KEY CHECK (size >= 0),
    note  text   NOT NULL
);

CREATE FUNCTION corridor_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'corridor: % is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END
$$;

CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION corridor_refuse_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION corridor_refuse_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION corridor_refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION corridor_refuse_change();

-- Query projections: rebuilt from the log at will.
-- COLLATE "C": ORDER BY kind, id must be byte order, as Rust sorts strings (`verify` compares
-- the stored rows with the replay's, sorted in Rust), whatever the database's locale.
-- body is text, not jsonb: jsonb refuses "\u0000", which a signed string may hold, and text
-- gives back exactly what was written. Readers parse it into a serde_json::Value, whose
-- equality ignores key order.
CREATE TABLE projections (
    kind  text COLLATE "C" NOT NULL,
    id    text COLLATE "C" NOT NULL,
    body  text NOT NULL,
    PRIMARY KEY (kind, id)
);
