-- +goose Up
-- Apps an organization (in practice the platform's own) shares with others:
-- plan_id '' means every organization, otherwise organizations on that plan.
CREATE TABLE client_shares (
    client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    plan_id    TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, plan_id)
);
CREATE INDEX client_shares_plan ON client_shares (plan_id);
