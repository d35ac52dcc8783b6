-- +goose Up
-- Clients identified by a Client ID Metadata Document (an https URL as
-- client_id) belong to no organization until a user signs in, so an
-- authorization request's org_id may be NULL. SQLite cannot drop NOT NULL
-- in place: the table (short-lived rows only) is rebuilt with the same
-- columns. Any later column added to this table must come in a migration
-- numbered after this one.
CREATE TABLE oauth_auth_requests_new (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL,
    org_id                TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL DEFAULT '[]',
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    response_mode         TEXT NOT NULL DEFAULT '',
    prompt                TEXT NOT NULL DEFAULT '[]',
    max_age               INTEGER,
    login_hint            TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    user_id               TEXT,
    auth_time             INTEGER,
    amr                   TEXT NOT NULL DEFAULT '[]',
    code_hash             TEXT UNIQUE,
    code_expires_at       INTEGER,
    code_used_at          INTEGER,
    access_jti            TEXT NOT NULL DEFAULT '',
    access_expires_at     INTEGER,
    family_id             TEXT NOT NULL DEFAULT '',
    resource              TEXT NOT NULL DEFAULT ''
);
INSERT INTO oauth_auth_requests_new (id, client_id, org_id, redirect_uri, scopes, state, nonce, response_mode, prompt,
    max_age, login_hint, code_challenge, code_challenge_method, created_at, expires_at, user_id, auth_time, amr,
    code_hash, code_expires_at, code_used_at, access_jti, access_expires_at, family_id, resource)
SELECT id, client_id, org_id, redirect_uri, scopes, state, nonce, response_mode, prompt,
    max_age, login_hint, code_challenge, code_challenge_method, created_at, expires_at, user_id, auth_time, amr,
    code_hash, code_expires_at, code_used_at, access_jti, access_expires_at, family_id, resource
FROM oauth_auth_requests;
DROP TABLE oauth_auth_requests;
ALTER TABLE oauth_auth_requests_new RENAME TO oauth_auth_requests;
CREATE INDEX oauth_auth_requests_expires ON oauth_auth_requests (expires_at);

-- An organization may refuse clients identified by a metadata document
-- (allow_client_metadata 0) even where the platform allows them.
CREATE TABLE org_oauth_settings (
    org_id                TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    allow_client_metadata INTEGER NOT NULL DEFAULT 1,
    updated_at            INTEGER NOT NULL
);
