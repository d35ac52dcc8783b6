-- +goose Up
-- Pushed authorization requests (RFC 9126), DPoP (RFC 9449) and the FAPI 2.0
-- Security Profile.
--
-- Per-client requirements, set by a platform admin: require_par (every
-- authorization request must be pushed first), require_dpop (every token
-- request must carry a DPoP proof) and fapi2 (the whole profile).
ALTER TABLE oauth_clients ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oauth_clients ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oauth_clients ADD COLUMN fapi2 INTEGER NOT NULL DEFAULT 0;

-- The JWK thumbprint an authorization code (dpop_jkt, RFC 9449 §10) or a
-- public client's refresh-token family (§5) is bound to; '' when unbound.
ALTER TABLE oauth_auth_requests ADD COLUMN dpop_jkt TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_auth_requests ADD COLUMN pushed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oauth_refresh_families ADD COLUMN dpop_jkt TEXT NOT NULL DEFAULT '';

-- A pushed authorization request, by the keyed hash of its request_uri's
-- random part. Deleting the row is what uses it, so a request_uri works
-- once on whichever replica sees it first.
CREATE TABLE oauth_par_requests (
    handle_hash TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    params      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX oauth_par_requests_expires ON oauth_par_requests (expires_at);

-- DPoP proof jtis seen within their acceptance window (RFC 9449 §11.1):
-- the insert that affects a row is the first use; key is a hash of the
-- proof key's thumbprint and the jti.
CREATE TABLE oauth_dpop_jtis (
    key        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX oauth_dpop_jtis_expires ON oauth_dpop_jtis (expires_at);
