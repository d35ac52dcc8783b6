-- +goose Up
-- Every failed client authentication counts itself in
-- oauth_client_auth_failures, and anyone can fail without credentials: the
-- count must not notify, or anyone could keep every replica's caches cold.
-- What the caches read of this table is the set of running blocks, so only
-- placing, moving or lifting a block notifies: a new row only WHEN it
-- carries a block (RecordClientAuthFailure inserts blocked_until 0), an
-- UPDATE only OF key or blocked_until (failures, window_start and expires_at
-- are store/engine.go's quietColumns), and any DELETE. Row triggers, so that
-- a purge matching nothing notifies nobody.
DROP TRIGGER oauth_client_auth_failures_changed ON oauth_client_auth_failures;
CREATE TRIGGER oauth_client_auth_failures_inserted AFTER INSERT ON oauth_client_auth_failures
    FOR EACH ROW WHEN (NEW.blocked_until <> 0) EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER oauth_client_auth_failures_changed AFTER DELETE OR UPDATE OF key, blocked_until ON oauth_client_auth_failures
    FOR EACH ROW EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER oauth_client_auth_failures_truncated AFTER TRUNCATE ON oauth_client_auth_failures
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
