-- Webhooks: where an actor asked its alerts to be posted. Server configuration, not log data
-- (a subscription is not an act between the parties); removing one keeps the row, so the
-- delivery log still says where each attempt went.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    actor       TEXT NOT NULL,
    url         TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    removed_at  TEXT
);
CREATE INDEX webhooks_actor ON webhooks (actor);
-- Every delivery attempt, append-only: the delivery log.
CREATE TABLE webhook_deliveries (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook     TEXT NOT NULL REFERENCES webhooks (id),
    alert       TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    at          TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    http_status INTEGER,
    error       TEXT
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook, seq);
CREATE TRIGGER webhook_deliveries_no_update BEFORE UPDATE ON webhook_deliveries
    BEGIN SELECT RAISE(ABORT, 'corridor: webhook_deliveries is append-only'); END;
CREATE TRIGGER webhook_deliveries_no_delete BEFORE DELETE ON webhook_deliveries
    BEGIN SELECT RAISE(ABORT, 'corridor: webhook_deliveries is append-only'); END;
