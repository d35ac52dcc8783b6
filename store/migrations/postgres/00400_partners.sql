-- +goose Up
-- Invitations to join an organization. The link carries a random token;
-- only its SHA-256 is stored, so a copy of the database accepts nobody. An
-- invitation is used at most once (accepted_at) and lapses at expires_at.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'member')),
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by TEXT NOT NULL DEFAULT '',
    revoked_at  BIGINT
);
CREATE INDEX invitations_org ON invitations (org_id, created_at);
