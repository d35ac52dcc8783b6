-- +goose Up
-- APIs (resource servers, RFC 8707 / RFC 9728). An API is registered by the
-- platform (org_id NULL) or by an organization. Its identifier is the https
-- URI clients send as `resource` and that access tokens carry in `aud`.
-- allowed_plans / allowed_orgs (JSON arrays of ids) restrict who may use it;
-- both empty means every organization for a platform API and only the owner
-- for an organization's API (the owner may always use its own).
CREATE TABLE oauth_apis (
    id                         TEXT PRIMARY KEY,
    org_id                     TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    identifier                 TEXT NOT NULL UNIQUE,
    name                       TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    token_lifetime_seconds     INTEGER NOT NULL DEFAULT 0,
    require_sender_constrained INTEGER NOT NULL DEFAULT 0,
    publish_metadata           INTEGER NOT NULL DEFAULT 0,
    allowed_plans              TEXT NOT NULL DEFAULT '[]',
    allowed_orgs               TEXT NOT NULL DEFAULT '[]',
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);
CREATE INDEX oauth_apis_org ON oauth_apis (org_id);

-- A scope belongs to an API, or (api_id NULL) is a portal-wide scope as
-- before. Names stay globally unique.
ALTER TABLE oauth_scopes ADD COLUMN api_id TEXT REFERENCES oauth_apis (id) ON DELETE CASCADE;
CREATE INDEX oauth_scopes_api ON oauth_scopes (api_id);

-- The resource (an API identifier) an authorization request or a refresh
-- grant is for; '' means the issuer itself, as before.
ALTER TABLE oauth_auth_requests ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_refresh_families ADD COLUMN resource TEXT NOT NULL DEFAULT '';
