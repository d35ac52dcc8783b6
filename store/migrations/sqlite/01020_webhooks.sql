-- +goose Up
-- Outgoing webhooks (docs/OPERATIONS.md). A subscription names a URL, the
-- event types it wants (space-separated) and its signing secret, sealed
-- with the secret key: Standard Webhooks signs with HMAC, so the secret
-- must be recoverable (it is shown to the admin once, never again).
-- deny_sample_percent is the share of decision.denied events sent.
CREATE TABLE webhook_subscriptions (
    id                  TEXT PRIMARY KEY,
    url                 TEXT NOT NULL,
    events              TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    secret_sealed       TEXT NOT NULL,
    deny_sample_percent INTEGER NOT NULL DEFAULT 100,
    enabled             INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL
);

-- The delivery queue and log in one: a row per (event, subscription),
-- sent by whichever replica claims it first (a conditional UPDATE of
-- claimed_until), retried with backoff until delivered or given up.
-- Its id is the webhook-id header, the same on every retry.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         INTEGER NOT NULL,
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_sub ON webhook_deliveries (subscription_id, created_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- Audit events not yet turned into webhook deliveries or streamed to the
-- SIEM: written in the same transaction as the audit event (an outbox), so
-- no change is missed and none is sent that did not commit. A replica
-- leases rows (claimed_until) and deletes them once handled.
CREATE TABLE audit_outbox (
    audit_id      TEXT PRIMARY KEY,
    at            INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_outbox_at ON audit_outbox (at);

-- Inbound hooks (the billing system): a name and a sealed secret each.
CREATE TABLE inbound_hooks (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    secret_sealed TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- webhook-id values of inbound requests already accepted: a replay is an
-- INSERT that affects no row. Purged after the timestamp tolerance.
CREATE TABLE inbound_hook_seen (
    hook_id    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (hook_id, message_id)
);

-- +goose Down
DROP TABLE inbound_hook_seen;
DROP TABLE inbound_hooks;
DROP TABLE audit_outbox;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
