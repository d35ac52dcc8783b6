-- +goose Up
-- Access policies. A policy is a name and a kind; its content lives in
-- immutable versions, and current_version says which one is evaluated.
CREATE TABLE policies (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('user_access', 'machine_to_machine', 'client_registration')),
    description     TEXT NOT NULL DEFAULT '',
    current_version BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Every save is a new row; rows are never updated, so any version can be
-- shown, compared and restored, and a decision names the exact version.
CREATE TABLE policy_versions (
    policy_id  TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    document   TEXT NOT NULL,
    author_id  TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
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
    created_at BIGINT NOT NULL,
    PRIMARY KEY (point, target)
);
CREATE INDEX policy_attachments_policy ON policy_attachments (policy_id);

-- Every evaluation. Platform-wide, with org_id for tenant filtering; no
-- foreign keys, because the log must outlive what it talks about.
CREATE TABLE policy_decisions (
    id             TEXT PRIMARY KEY,
    at             BIGINT NOT NULL,
    point          TEXT NOT NULL,
    org_id         TEXT NOT NULL DEFAULT '',
    user_id        TEXT NOT NULL DEFAULT '',
    subject        TEXT NOT NULL DEFAULT '',
    client_id      TEXT NOT NULL DEFAULT '',
    context        TEXT NOT NULL DEFAULT '{}',
    policy_id      TEXT NOT NULL DEFAULT '',
    policy_version BIGINT NOT NULL DEFAULT 0,
    rule           BIGINT NOT NULL DEFAULT 0,
    action         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX policy_decisions_at ON policy_decisions (at);
CREATE INDEX policy_decisions_org_at ON policy_decisions (org_id, at);

CREATE TRIGGER policies_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policies
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER policy_versions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy_versions
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER policy_attachments_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy_attachments
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
