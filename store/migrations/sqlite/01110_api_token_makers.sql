-- +goose Up
-- Who made each admin API credential, so that it stops when its maker may
-- no longer act: the member who made it in the portal (created_by_user_id),
-- or the credential it was made with through the API (created_by_token_id).
-- Both '' for the command line. Rows made before this migration take the
-- member from their api_token.create audit event, and the credential from
-- the "api-token:ID" or "api-client:CLIENT (grant ID)" label the API wrote.
ALTER TABLE api_tokens ADD COLUMN created_by_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN created_by_token_id TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET created_by_user_id = COALESCE((SELECT MIN(a.actor_id) FROM audit_events a
    WHERE a.action = 'api_token.create' AND a.target_type = 'api_token' AND a.target_id = api_tokens.id), '');
UPDATE api_tokens SET created_by_token_id = SUBSTR(created_by, 11) WHERE created_by LIKE 'api-token:%';
UPDATE api_tokens SET created_by_token_id = RTRIM(SUBSTR(created_by, INSTR(created_by, ' (grant ') + 8), ')')
    WHERE created_by LIKE 'api-client:% (grant %)';

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN created_by_token_id;
ALTER TABLE api_tokens DROP COLUMN created_by_user_id;
