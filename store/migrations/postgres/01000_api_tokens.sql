-- +goose Up
-- Credentials of the admin API (/api/v1). A row is either an API token
-- (token_hash set: the SHA-256 of a random secret shown once) or a client
-- grant (client_id set: that OAuth client's client-credentials access
-- tokens carrying the portico:admin scope act with this row's scope, role
-- and expiry). org_id NULL scopes the credential to the whole platform.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT UNIQUE,
    hint         TEXT NOT NULL DEFAULT '',
    client_id    TEXT UNIQUE REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    org_id       TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_org ON api_tokens (org_id, created_at);

-- Idempotency keys of admin API creates: the first answer to (credential,
-- key) is kept until expires_at and replayed for the same request body.
-- status 0 marks a request still in progress.
CREATE TABLE api_idempotency (
    token_id   TEXT NOT NULL,
    idem_key   TEXT NOT NULL,
    method     TEXT NOT NULL,
    path       TEXT NOT NULL,
    body_hash  TEXT NOT NULL,
    status     INTEGER NOT NULL DEFAULT 0,
    location   TEXT NOT NULL DEFAULT '',
    response   TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (token_id, idem_key)
);
CREATE INDEX api_idempotency_expires ON api_idempotency (expires_at);

-- +goose Down
DROP TABLE api_idempotency;
DROP TABLE api_tokens;
