-- +goose Up
-- First-class groups. An organization defines its groups; source says who
-- owns each one: 'local' (admins in the portal or the CLI), 'idp' (a group
-- claim of a sign-in connection, refreshed at every sign-in, read-only) or
-- 'scim' (pushed by the partner's directory). external_id is the
-- directory's id for a SCIM group. The same name may exist once per source:
-- a policy's group condition matches the name whatever the source.
CREATE TABLE org_groups (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('local', 'idp', 'scim')),
    external_id TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (org_id, source, name),
    UNIQUE (org_id, external_id)
);

-- Membership. users.local_groups stays the names of the user's local and
-- scim groups and users.idp_groups the last sign-in's claim, so the policy
-- engine's request (their union) reads one row as before; the store keeps
-- them equal to this table in the same transaction.
CREATE TABLE org_group_members (
    group_id TEXT NOT NULL REFERENCES org_groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id   TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX org_group_members_user ON org_group_members (user_id);

-- A user the partner's directory manages over SCIM: the directory's
-- userName and externalId (the latter also matches the upstream subject at
-- federated sign-in).
CREATE TABLE scim_users (
    user_id     TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_name   TEXT NOT NULL,
    external_id TEXT,
    UNIQUE (org_id, user_name),
    UNIQUE (org_id, external_id)
);

-- One SCIM bearer token per organization: only its keyed hash is kept
-- (HMAC-SHA256 under a server key), with a short hint to recognise it.
CREATE TABLE scim_tokens (
    org_id     TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    hint       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at INTEGER
);

-- The groups users already carry become rows.
INSERT INTO org_groups (id, org_id, name, source, external_id, created_at, updated_at)
SELECT lower(hex(randomblob(16))), org_id, name, 'local', NULL, MIN(created_at), MIN(created_at)
FROM (SELECT DISTINCT u.org_id AS org_id, trim(j.value) AS name, u.created_at AS created_at
      FROM users u, json_each(u.local_groups) j WHERE trim(j.value) <> '')
GROUP BY org_id, name;
INSERT INTO org_groups (id, org_id, name, source, external_id, created_at, updated_at)
SELECT lower(hex(randomblob(16))), org_id, name, 'idp', NULL, MIN(created_at), MIN(created_at)
FROM (SELECT DISTINCT u.org_id AS org_id, trim(j.value) AS name, u.created_at AS created_at
      FROM users u, json_each(u.idp_groups) j WHERE trim(j.value) <> '')
GROUP BY org_id, name;
INSERT INTO org_group_members (group_id, user_id, org_id, added_at)
SELECT DISTINCT g.id, u.id, u.org_id, u.created_at
FROM users u, json_each(u.local_groups) j
JOIN org_groups g ON g.org_id = u.org_id AND g.source = 'local' AND g.name = trim(j.value);
INSERT INTO org_group_members (group_id, user_id, org_id, added_at)
SELECT DISTINCT g.id, u.id, u.org_id, u.created_at
FROM users u, json_each(u.idp_groups) j
JOIN org_groups g ON g.org_id = u.org_id AND g.source = 'idp' AND g.name = trim(j.value);
