-- Checkpoints with the co-signatures of the genesis's witnesses (C2SP tlog-cosignature): the
-- log's signed note with a line per witness that co-signed it. A row per gathering round that
-- got more co-signatures than the last; rows are only ever inserted, and the latest (largest
-- size, then last inserted) is what clients are served, on every instance and after a restart.
CREATE TABLE cosigned_checkpoints (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    size  INTEGER NOT NULL,
    note  TEXT NOT NULL
);
CREATE INDEX cosigned_checkpoints_by_size ON cosigned_checkpoints (size, seq);
CREATE TRIGGER cosigned_checkpoints_no_update BEFORE UPDATE ON cosigned_checkpoints
    BEGIN SELECT RAISE(ABORT, 'corridor: cosigned_checkpoints is append-only'); END;
CREATE TRIGGER cosigned_checkpoints_no_delete BEFORE DELETE ON cosigned_checkpoints
    BEGIN SELECT RAISE(ABORT, 'corridor: cosigned_checkpoints is append-only'); END;
