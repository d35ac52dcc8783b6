-- +goose Up
-- Passkeys (WebAuthn credentials), their single-use ceremony challenges, how
-- each session was authenticated (amr), the acr_values an app asked for,
-- and an organization's "members must use passkeys" setting
-- (docs/PASSKEYS.md).

-- One row per registered passkey. credential_id is the authenticator's id
-- (base64url); sign_count only moves forward (a regression is refused).
CREATE TABLE webauthn_credentials (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   TEXT NOT NULL UNIQUE,
    public_key      BLOB NOT NULL,
    attestation     TEXT NOT NULL DEFAULT '',
    sign_count      INTEGER NOT NULL DEFAULT 0,
    transports      TEXT NOT NULL DEFAULT '',
    aaguid          TEXT NOT NULL DEFAULT '',
    user_verified   INTEGER NOT NULL DEFAULT 0,
    backup_eligible INTEGER NOT NULL DEFAULT 0,
    backup_state    INTEGER NOT NULL DEFAULT 0,
    attachment      TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- A ceremony's challenge: bound to what started it (a session, or this
-- browser's pending sign-in), taken once by a DELETE whose affected row
-- decides, and short-lived.
CREATE TABLE webauthn_challenges (
    id         TEXT PRIMARY KEY,
    binding    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    user_id    TEXT NOT NULL DEFAULT '',
    data       TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX webauthn_challenges_expires ON webauthn_challenges (expires_at);

-- How the session was authenticated: a JSON object from RFC 8176 method
-- ("pwd", "otp", "hwk", "swk", "user", "fed"...) to the unix-ms time it was
-- last used, and the upstream identity provider's own amr/acr when it gave them.
CREATE TABLE session_auth (
    session_id   TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE ON UPDATE CASCADE,
    methods      TEXT NOT NULL DEFAULT '{}',
    upstream_amr TEXT NOT NULL DEFAULT '',
    upstream_acr TEXT NOT NULL DEFAULT ''
);

ALTER TABLE oauth_auth_requests ADD COLUMN acr_values TEXT NOT NULL DEFAULT '';

-- The organization requires passkeys: no TOTP, no password-only sign-in.
ALTER TABLE organizations ADD COLUMN require_passkey INTEGER NOT NULL DEFAULT 0;
