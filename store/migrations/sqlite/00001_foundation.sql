-- +goose Up
-- Key/value settings the portal generates on first run (session keys…).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- A plan is a subscription tier; features is a JSON array of
-- {"name","scopes":[…],"app_types":[…],"max_apps":N}.
CREATE TABLE plans (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    features   TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    valid_from  INTEGER,
    valid_until INTEGER,
    plan_id     TEXT REFERENCES plans (id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Email domains route a signing-in user to their organization; a domain
-- belongs to at most one organization.
CREATE TABLE org_domains (
    domain TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX org_domains_org ON org_domains (org_id);

-- A user belongs to exactly one organization with one role; a person who
-- works for two partners has two accounts, as their two IdPs would issue two
-- subjects anyway. Platform administrators are a flag.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email          TEXT NOT NULL,
    email_verified INTEGER NOT NULL DEFAULT 0,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'member')),
    platform_admin INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    idp_groups     TEXT NOT NULL DEFAULT '[]',
    local_groups   TEXT NOT NULL DEFAULT '[]',
    attributes     TEXT NOT NULL DEFAULT '{}',
    password_hash  TEXT,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER,
    last_login_at  INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (org_id, email)
);
CREATE INDEX users_email ON users (email);

-- Portal sessions live server-side so they can be listed and ended; the
-- cookie carries a random token whose SHA-256 is token_hash.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    mfa_at        INTEGER,
    connection_id TEXT,
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Every change an admin or developer makes: who, what, before and after.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    at          INTEGER NOT NULL,
    org_id      TEXT,
    actor_id    TEXT NOT NULL DEFAULT '',
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    before      TEXT,
    after       TEXT
);
CREATE INDEX audit_events_org_at ON audit_events (org_id, at);
CREATE INDEX audit_events_at ON audit_events (at);
