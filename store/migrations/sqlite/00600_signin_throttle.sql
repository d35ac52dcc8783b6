-- +goose Up
-- Sign-in and second-factor throttles (docs/security-notes/mfa-signin.md).
-- key names what is counted: a (typed email, source network) pair, a source
-- network, or a user's second-factor attempts. Counts and locks are changed
-- by single conditional statements, so they hold across replicas.
CREATE TABLE auth_throttle (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    lockouts     INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX auth_throttle_updated ON auth_throttle (updated_at);

-- When this session's user last proved their first factor (a sign-in, or
-- the password typed again): enrolling a first second factor needs it
-- within the minute.
CREATE TABLE session_reauth (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE ON UPDATE CASCADE,
    at         INTEGER NOT NULL
);

-- An organization may require everyone to enrol a second factor at their
-- first sign-in.
ALTER TABLE organizations ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;

