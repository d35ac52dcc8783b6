-- +goose Up
-- An identity connection: how one organization's people authenticate.
-- config is the type's public JSON configuration; secret is its sealed
-- secret (upstream client secret, SAML SP key, sandbox password), opened
-- only by the connector. version grows on every change so that caches of
-- opened connectors know when to reopen.
CREATE TABLE connections (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    name          TEXT NOT NULL,
    config        TEXT NOT NULL DEFAULT '{}',
    secret        BLOB,
    enabled       INTEGER NOT NULL DEFAULT 1,
    show_on_login INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX connections_org ON connections (org_id);

-- Which connection types a platform admin lets an organization add; no row
-- means every type.
CREATE TABLE org_connection_types (
    org_id TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    types  TEXT NOT NULL DEFAULT '[]'
);

-- An upstream subject linked to a Portico user. The key is the connection and
-- the upstream's subject, never the email, so a changed email upstream still
-- finds the same person.
CREATE TABLE identities (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_login_at INTEGER NOT NULL,
    PRIMARY KEY (connection_id, subject)
);
CREATE INDEX identities_user ON identities (user_id);

-- A sign-in in progress, between leaving for the upstream (or passing the
-- first factor) and the session starting. state_hash finds it from the
-- callback; browser_hash ties it to the browser that started it, so a
-- response captured or forged elsewhere cannot be replayed into another
-- browser. conn_data is sealed: it holds the nonce and PKCE verifier.
CREATE TABLE pending_logins (
    id            TEXT PRIMARY KEY,
    state_hash    TEXT NOT NULL UNIQUE,
    browser_hash  TEXT NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL DEFAULT '',
    conn_data     BLOB,
    identity      BLOB,
    user_id       TEXT NOT NULL DEFAULT '',
    auth_request  TEXT NOT NULL DEFAULT '',
    next          TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX pending_logins_expires ON pending_logins (expires_at);

-- TOTP second factor. secret is sealed; last_step is the last accepted time
-- step, so a code is never accepted twice.
CREATE TABLE mfa_totp (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BLOB NOT NULL,
    confirmed_at INTEGER,
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);

-- One-time recovery codes, stored as SHA-256 of the code.
CREATE TABLE mfa_recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

-- Admin-issued password reset links; only the token's hash is kept.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);
