-- +goose Up
-- Consents may name a client that has no oauth_clients row: an MCP agent
-- identified by its Client ID Metadata Document URL (00701). The foreign
-- key to oauth_clients goes; DeleteClient removes a deleted client's
-- consents itself.
CREATE TABLE oauth_consents_new (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
INSERT INTO oauth_consents_new (user_id, client_id, scopes, created_at, granted_at)
    SELECT user_id, client_id, scopes, created_at, granted_at FROM oauth_consents;
DROP TABLE oauth_consents;
ALTER TABLE oauth_consents_new RENAME TO oauth_consents;
CREATE INDEX oauth_consents_client ON oauth_consents (client_id);
