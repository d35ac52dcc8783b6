-- +goose Up
-- Indexes for the admin lists, each read a page at a time by keyset
-- (sort key, id), and searched by prefix on the same keys.
CREATE INDEX organizations_lname ON organizations (lower(name), id);
CREATE INDEX organizations_valid_until ON organizations (valid_until);
CREATE INDEX organizations_plan ON organizations (plan_id);
CREATE INDEX users_org_lname ON users (org_id, lower(name), id);
CREATE INDEX oauth_clients_org_lname ON oauth_clients (org_id, lower(name), id);
-- The policy page's picker: service apps (machine to machine) or the
-- others, by name.
CREATE INDEX oauth_clients_machine_lname ON oauth_clients ((type = 'service'), lower(name), id);
CREATE INDEX oauth_clients_policy ON oauth_clients (policy_id, client_id);
DROP INDEX invitations_org;
CREATE INDEX invitations_org ON invitations (org_id, created_at, id);
CREATE INDEX invitations_org_email ON invitations (org_id, email);
DROP INDEX audit_events_org_at;
DROP INDEX audit_events_at;
CREATE INDEX audit_events_org_at ON audit_events (org_id, at, id);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_actor ON audit_events (actor, at, id);

-- The decision log, compact (see store/decisions.go): distinct strings
-- once in decision_refs, a row of small integers per decision. id is the
-- time (Unix ms << 20) plus 20 bits that make it unique; 0 in a *_ref
-- column means empty.
CREATE TABLE decision_refs (
    id    INTEGER PRIMARY KEY,
    value TEXT NOT NULL UNIQUE,
    alt   TEXT
);
CREATE INDEX decision_refs_alt ON decision_refs (alt);
CREATE TABLE decisions (
    id          INTEGER PRIMARY KEY,
    point_ref   INTEGER NOT NULL,
    org_ref     INTEGER NOT NULL,
    who_ref     INTEGER NOT NULL,
    client_ref  INTEGER NOT NULL,
    outcome_ref INTEGER NOT NULL,
    action      TEXT NOT NULL,
    context_ref INTEGER NOT NULL,
    extra       BLOB
);
-- SQLite appends the rowid (id) to every index: each is in time order
-- within its key, which is what the newest-first filters walk.
CREATE INDEX decisions_org ON decisions (org_ref);
CREATE INDEX decisions_who ON decisions (who_ref);
CREATE INDEX decisions_client ON decisions (client_ref);
CREATE INDEX decisions_action ON decisions (action);

-- Carry the old log over. Its text IDs cannot be kept; the new ID keeps the
-- time and takes its low bits from the old row's position.
INSERT INTO decision_refs (value)
SELECT v FROM (
    SELECT 'p:' || point AS v FROM policy_decisions WHERE point <> ''
    UNION SELECT 'o:' || org_id FROM policy_decisions WHERE org_id <> ''
    UNION SELECT 'c:' || client_id FROM policy_decisions WHERE client_id <> ''
    UNION SELECT 'r:' || json_array(policy_id, policy_version, rule, action, reason) FROM policy_decisions
    UNION SELECT 'x:' || context FROM policy_decisions WHERE context NOT IN ('', '{}')
) WHERE true
ON CONFLICT (value) DO NOTHING;
INSERT INTO decision_refs (value, alt)
SELECT DISTINCT 'w:' || user_id || char(31) || subject, NULLIF(subject, '') FROM policy_decisions
WHERE user_id <> '' OR subject <> ''
ON CONFLICT (value) DO NOTHING;
INSERT INTO decisions (id, point_ref, org_ref, who_ref, client_ref, outcome_ref, action, context_ref, extra)
SELECT (d.at << 20) | (d.rowid & 1048575),
    COALESCE((SELECT r.id FROM decision_refs r WHERE r.value = 'p:' || d.point), 0),
    COALESCE((SELECT r.id FROM decision_refs r WHERE r.value = 'o:' || d.org_id), 0),
    COALESCE((SELECT r.id FROM decision_refs r WHERE r.value = 'w:' || d.user_id || char(31) || d.subject), 0),
    COALESCE((SELECT r.id FROM decision_refs r WHERE r.value = 'c:' || d.client_id), 0),
    COALESCE((SELECT r.id FROM decision_refs r WHERE r.value =
        'r:' || json_array(d.policy_id, d.policy_version, d.rule, d.action, d.reason)), 0),
    d.action,
    COALESCE((SELECT r.id FROM decision_refs r WHERE r.value = 'x:' || d.context), 0),
    NULL
FROM policy_decisions d WHERE true
ON CONFLICT (id) DO NOTHING;
DROP TABLE policy_decisions;
