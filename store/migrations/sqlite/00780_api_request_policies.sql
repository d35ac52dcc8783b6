-- +goose Up
-- The "API request" policy kind (issue 14). SQLite cannot change a CHECK
-- constraint in place, so policies is rebuilt. Its children are rebuilt
-- first, pointing at the new table, so that dropping the old one cascades
-- into nothing; renaming the new table then rewrites their references
-- (legacy_alter_table is off). oauth_clients.policy_id has no foreign key.
CREATE TABLE policies_new (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('user_access', 'machine_to_machine', 'client_registration', 'api_request')),
    description     TEXT NOT NULL DEFAULT '',
    current_version INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
INSERT INTO policies_new (id, name, kind, description, current_version, created_at, updated_at)
    SELECT id, name, kind, description, current_version, created_at, updated_at FROM policies;

CREATE TABLE policy_versions_new (
    policy_id  TEXT NOT NULL REFERENCES policies_new (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    document   TEXT NOT NULL,
    author_id  TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version)
);
INSERT INTO policy_versions_new (policy_id, version, document, author_id, author, note, created_at)
    SELECT policy_id, version, document, author_id, author, note, created_at FROM policy_versions;

CREATE TABLE policy_attachments_new (
    point      TEXT NOT NULL CHECK (point IN ('portal', 'm2m', 'registration')),
    target     TEXT NOT NULL DEFAULT '',
    policy_id  TEXT NOT NULL REFERENCES policies_new (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (point, target)
);
INSERT INTO policy_attachments_new (point, target, policy_id, created_at)
    SELECT point, target, policy_id, created_at FROM policy_attachments;

DROP TABLE policy_versions;
DROP TABLE policy_attachments;
DROP TABLE policies;
ALTER TABLE policies_new RENAME TO policies;
ALTER TABLE policy_versions_new RENAME TO policy_versions;
ALTER TABLE policy_attachments_new RENAME TO policy_attachments;
CREATE INDEX policy_attachments_policy ON policy_attachments (policy_id);

-- Where "API request" policies apply: requests the authorizer is asked
-- about whose path lies under path_prefix (segment-wise), on host (any
-- when ''), for api (any when ''; the registered API's identifier, RFC
-- 8707, once APIs are registered). The most specific route decides.
CREATE TABLE api_policy_routes (
    id          TEXT PRIMARY KEY,
    api         TEXT NOT NULL DEFAULT '',
    host        TEXT NOT NULL DEFAULT '',
    path_prefix TEXT NOT NULL DEFAULT '/',
    policy_id   TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    UNIQUE (api, host, path_prefix)
);
CREATE INDEX api_policy_routes_policy ON api_policy_routes (policy_id);
