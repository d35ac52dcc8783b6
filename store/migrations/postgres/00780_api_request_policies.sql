-- +goose Up
-- The "API request" policy kind (issue 14); PostgreSQL changes the CHECK
-- in place (the SQLite twin rebuilds the table).
ALTER TABLE policies DROP CONSTRAINT IF EXISTS policies_kind_check;
ALTER TABLE policies ADD CONSTRAINT policies_kind_check
    CHECK (kind IN ('user_access', 'machine_to_machine', 'client_registration', 'api_request'));

-- Where "API request" policies apply: see the SQLite twin.
CREATE TABLE api_policy_routes (
    id          TEXT PRIMARY KEY,
    api         TEXT NOT NULL DEFAULT '',
    host        TEXT NOT NULL DEFAULT '',
    path_prefix TEXT NOT NULL DEFAULT '/',
    policy_id   TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    UNIQUE (api, host, path_prefix)
);
CREATE INDEX api_policy_routes_policy ON api_policy_routes (policy_id);
