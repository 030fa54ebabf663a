-- The log. Rows are only ever inserted; idx is dense from 0 (checked by the sequencer, guarded here).
CREATE TABLE entries (
    idx         INTEGER PRIMARY KEY,
    time        TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    command_id  TEXT    NOT NULL,
    commitment  TEXT    NOT NULL,
    salt        BLOB    NOT NULL,
    command     BLOB    NOT NULL,
    signature   BLOB    NOT NULL,
    leaf_hash   BLOB    NOT NULL,
    UNIQUE (actor, command_id)
);

-- Signed tree heads, verbatim, one per size.
CREATE TABLE checkpoints (
    size  INTEGER PRIMARY KEY,
    note  TEXT    NOT NULL
);

-- Query projections: rebuilt from the log at will.
CREATE TABLE projections (
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL,
    body  TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
