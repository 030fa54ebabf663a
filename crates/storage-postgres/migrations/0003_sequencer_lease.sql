-- The sequencer lease: the one row says which server instance may append, in which epoch, until
-- when (by this server's clock, so instances' clocks never matter), and where it takes commands.
-- A takeover raises the epoch; every append checks its epoch against this row under a row lock
-- (FOR SHARE), so a takeover waits for an append in flight, and an append after a takeover fails.
CREATE TABLE sequencer_lease (
    id          int         PRIMARY KEY CHECK (id = 1),
    holder      text        NOT NULL,
    epoch       bigint      NOT NULL CHECK (epoch > 0),
    url         text        NOT NULL,
    expires_at  timestamptz NOT NULL
);
