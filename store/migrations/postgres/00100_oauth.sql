-- +goose Up
-- The OAuth 2.0 / OpenID Connect authorization server's tables.

-- API scopes that admins define. The OpenID Connect scopes (openid, profile,
-- email, offline_access, groups) are built in and not listed here.
CREATE TABLE oauth_scopes (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

-- A client application owned by an organization. client_id is public and
-- globally unique; id is the internal key. JSON arrays are kept in TEXT.
CREATE TABLE oauth_clients (
    id                           TEXT PRIMARY KEY,
    org_id                       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    client_id                    TEXT NOT NULL UNIQUE,
    name                         TEXT NOT NULL,
    type                         TEXT NOT NULL CHECK (type IN ('web', 'spa', 'native', 'service')),
    redirect_uris                TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris    TEXT NOT NULL DEFAULT '[]',
    grant_types                  TEXT NOT NULL DEFAULT '[]',
    scopes                       TEXT NOT NULL DEFAULT '[]',
    launch_url                   TEXT NOT NULL DEFAULT '',
    logo_url                     TEXT NOT NULL DEFAULT '',
    policy_id                    TEXT,
    enabled                      INTEGER NOT NULL DEFAULT 1,
    token_endpoint_auth_method   TEXT NOT NULL,
    jwks                         TEXT NOT NULL DEFAULT '',
    jwks_uri                     TEXT NOT NULL DEFAULT '',
    id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256',
    registration_token_hash      TEXT NOT NULL DEFAULT '',
    dynamic                      INTEGER NOT NULL DEFAULT 0,
    created_at                   BIGINT NOT NULL,
    updated_at                   BIGINT NOT NULL
);
CREATE INDEX oauth_clients_org ON oauth_clients (org_id);

-- Client secrets, stored as HMAC-SHA-256 under a server key. A client holds
-- at most two live secrets during a rotation; each has its own expiry.
CREATE TABLE oauth_client_secrets (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    hint       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX oauth_client_secrets_client ON oauth_client_secrets (client_id);

-- Signing keys. The private key is sealed with the portal's secret key;
-- retired_at is when it stopped signing, and the public key stays published
-- until every token it signed has expired.
CREATE TABLE oauth_signing_keys (
    id          TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    public_jwk  TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);

-- Authorization requests between /authorize and the token endpoint. The
-- code is stored as its SHA-256; a used code stays until it expires so that
-- a replay can be recognised and what it issued revoked.
CREATE TABLE oauth_auth_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL,
    org_id                TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL DEFAULT '[]',
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    response_mode         TEXT NOT NULL DEFAULT '',
    prompt                TEXT NOT NULL DEFAULT '[]',
    max_age               BIGINT,
    login_hint            TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    user_id               TEXT,
    auth_time             BIGINT,
    amr                   TEXT NOT NULL DEFAULT '[]',
    code_hash             TEXT UNIQUE,
    code_expires_at       BIGINT,
    code_used_at          BIGINT,
    access_jti            TEXT NOT NULL DEFAULT '',
    access_expires_at     BIGINT,
    family_id             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX oauth_auth_requests_expires ON oauth_auth_requests (expires_at);

-- A refresh-token family: every token rotated from one grant. Reusing a
-- rotated token revokes the family.
CREATE TABLE oauth_refresh_families (
    id             TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL,
    scopes         TEXT NOT NULL DEFAULT '[]',
    auth_time      BIGINT,
    amr            TEXT NOT NULL DEFAULT '[]',
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX oauth_refresh_families_org ON oauth_refresh_families (org_id);
CREATE INDEX oauth_refresh_families_expires ON oauth_refresh_families (expires_at);

CREATE TABLE oauth_refresh_tokens (
    hash              TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL REFERENCES oauth_refresh_families (id) ON DELETE CASCADE,
    created_at        BIGINT NOT NULL,
    used_at           BIGINT,
    access_jti        TEXT NOT NULL DEFAULT '',
    access_expires_at BIGINT
);
CREATE INDEX oauth_refresh_tokens_family ON oauth_refresh_tokens (family_id);

-- Revoked JWT access tokens, kept only until they would have expired.
CREATE TABLE oauth_revoked_jtis (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_revoked_jtis_expires ON oauth_revoked_jtis (expires_at);

-- jti values of private_key_jwt client assertions already accepted, so an
-- assertion cannot be replayed while it is still valid.
CREATE TABLE oauth_assertion_jtis (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);

-- Initial access tokens for dynamic client registration (RFC 7591): clients
-- registered with one belong to its organization.
CREATE TABLE oauth_registration_tokens (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    max_uses    BIGINT NOT NULL DEFAULT 0,
    uses        BIGINT NOT NULL DEFAULT 0,
    revoked_at  BIGINT
);
CREATE INDEX oauth_registration_tokens_org ON oauth_registration_tokens (org_id);

CREATE TRIGGER oauth_scopes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oauth_scopes
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER oauth_clients_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oauth_clients
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER oauth_client_secrets_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oauth_client_secrets
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER oauth_signing_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oauth_signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER oauth_revoked_jtis_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oauth_revoked_jtis
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER oauth_registration_tokens_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oauth_registration_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
