-- Webhooks: where an actor asked its alerts to be posted. Server configuration, not log data
-- (a subscription is not an act between the parties); removing one keeps the row, so the
-- delivery log still says where each attempt went.
CREATE TABLE webhooks (
    id          text PRIMARY KEY,
    actor       text NOT NULL,
    url         text NOT NULL,
    created_at  text NOT NULL,
    removed_at  text
);
CREATE INDEX webhooks_actor ON webhooks (actor);
-- Every delivery attempt, append-only: the delivery log.
CREATE TABLE webhook_deliveries (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook     text NOT NULL REFERENCES webhooks (id),
    alert       text NOT NULL,
    attempt     integer NOT NULL,
    at          text NOT NULL,
    outcome     text NOT NULL,
    http_status integer,
    error       text
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook, seq);
CREATE TRIGGER webhook_deliveries_append_only BEFORE UPDATE OR DELETE ON webhook_deliveries
    FOR EACH ROW EXECUTE FUNCTION corridor_refuse_change();
CREATE TRIGGER webhook_deliveries_no_truncate BEFORE TRUNCATE ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION corridor_refuse_change();
