-- +goose Up
-- Failed client authentication at the token, introspection and revocation
-- endpoints, counted per client ("client:<client_id>") and per source
-- address ("addr:<address or IPv6 /64>"), so that every replica sees the
-- same throttle. A row matters until expires_at.
CREATE TABLE oauth_client_auth_failures (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_start  INTEGER NOT NULL,
    blocked_until INTEGER NOT NULL DEFAULT 0,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX oauth_client_auth_failures_blocked ON oauth_client_auth_failures (blocked_until);
CREATE INDEX oauth_client_auth_failures_expires ON oauth_client_auth_failures (expires_at);
