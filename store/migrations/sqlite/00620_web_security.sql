-- +goose Up
-- Issue 10, findings 8 and 12.

-- privilege is what the session's holder could do when its token was
-- issued (role, platform admin); a session whose user's privileges have
-- changed since gets a new token on its next request.
ALTER TABLE sessions ADD COLUMN privilege TEXT NOT NULL DEFAULT '';

-- first_party clients are the platform's own: they get tokens without a
-- consent page. Set by platform admins only; new and dynamically
-- registered clients are third-party. Clients that exist at upgrade were
-- set up by an organization's developers through the portal and worked
-- without consent until now: they are marked first-party so no
-- integration (prompt=none renewals above all) breaks silently; dynamically
-- registered ones are not. Platform admins review the list afterwards.
ALTER TABLE oauth_clients ADD COLUMN first_party INTEGER NOT NULL DEFAULT 0;
UPDATE oauth_clients SET first_party = 1 WHERE dynamic = 0;

-- What a user allowed a third-party client: the union of every scope they
-- agreed to on its consent page.
CREATE TABLE oauth_consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX oauth_consents_client ON oauth_consents (client_id);
