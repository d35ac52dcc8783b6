-- +goose Up
-- Access policies. A policy is a name and a kind; its content lives in
-- immutable versions, and current_version says which one is evaluated.
CREATE TABLE policies (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('user_access', 'machine_to_machine', 'client_registration')),
    description     TEXT NOT NULL DEFAULT '',
    current_version INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Every save is a new row; rows are never updated, so any version can be
-- shown, compared and restored, and a decision names the exact version.
CREATE TABLE policy_versions (
    policy_id  TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    document   TEXT NOT NULL,
    author_id  TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version)
);

-- Attachments that are not an application (an application's policy is
-- oauth_clients.policy_id): the portal's sign-in ('portal', target ''),
-- machine-to-machine globally ('m2m', ''), client registration globally
-- ('registration', '') or for one plan ('registration', plan id).
CREATE TABLE policy_attachments (
    point      TEXT NOT NULL CHECK (point IN ('portal', 'm2m', 'registration')),
    target     TEXT NOT NULL DEFAULT '',
    policy_id  TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (point, target)
);
CREATE INDEX policy_attachments_policy ON policy_attachments (policy_id);

-- Every evaluation. Platform-wide, with org_id for tenant filtering; no
-- foreign keys, because the log must outlive what it talks about.
CREATE TABLE policy_decisions (
    id             TEXT PRIMARY KEY,
    at             INTEGER NOT NULL,
    point          TEXT NOT NULL,
    org_id         TEXT NOT NULL DEFAULT '',
    user_id        TEXT NOT NULL DEFAULT '',
    subject        TEXT NOT NULL DEFAULT '',
    client_id      TEXT NOT NULL DEFAULT '',
    context        TEXT NOT NULL DEFAULT '{}',
    policy_id      TEXT NOT NULL DEFAULT '',
    policy_version INTEGER NOT NULL DEFAULT 0,
    rule           INTEGER NOT NULL DEFAULT 0,
    action         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX policy_decisions_at ON policy_decisions (at);
CREATE INDEX policy_decisions_org_at ON policy_decisions (org_id, at);
