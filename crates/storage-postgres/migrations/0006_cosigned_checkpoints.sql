-- Checkpoints with the co-signatures of the genesis's witnesses (C2SP tlog-cosignature): the
-- log's signed note with a line per witness that co-signed it. A row per gathering round that
-- got more co-signatures than the last; rows are only ever inserted, and the latest (largest
-- size, then last inserted) is what clients are served, on every instance and after a restart.
CREATE TABLE cosigned_checkpoints (
    seq   bigserial PRIMARY KEY,
    size  bigint NOT NULL,
    note  text NOT NULL
);
CREATE INDEX cosigned_checkpoints_by_size ON cosigned_checkpoints (size, seq);
CREATE TRIGGER cosigned_checkpoints_append_only BEFORE UPDATE OR DELETE ON cosigned_checkpoints
    FOR EACH ROW EXECUTE FUNCTION corridor_refuse_change();
CREATE TRIGGER cosigned_checkpoints_no_truncate BEFORE TRUNCATE ON cosigned_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION corridor_refuse_change();
