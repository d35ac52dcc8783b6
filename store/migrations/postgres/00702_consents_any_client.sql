-- +goose Up
-- Consents may name a client that has no oauth_clients row: an MCP agent
-- identified by its Client ID Metadata Document URL (00701). The foreign
-- key to oauth_clients goes; DeleteClient removes a deleted client's
-- consents itself.
ALTER TABLE oauth_consents DROP CONSTRAINT IF EXISTS oauth_consents_client_id_fkey;
