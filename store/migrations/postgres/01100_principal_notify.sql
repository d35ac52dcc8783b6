-- +goose Up
-- The portal caches the signed-in principal (session, how it was
-- authenticated, remembered locations, a required password change) per
-- session token and reloads it when the data version moves, so ending,
-- rotating or stepping up a session, forgetting a location or requiring a
-- new password on one replica (or from the CLI) must notify the others.
-- Row triggers, so that purges matching nothing notify nobody; the activity
-- stamps (a session's last_seen_at/expires_at, touched once a minute, and a
-- location's last_used_at, touched per launch) are left out through UPDATE
-- OF, as store/engine.go's quietColumns leaves them out of this process's
-- own count.
CREATE TRIGGER sessions_changed AFTER INSERT OR DELETE
    OR UPDATE OF id, token_hash, user_id, created_at, mfa_at, connection_id, ip, user_agent, privilege ON sessions
    FOR EACH ROW EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER sessions_truncated AFTER TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER session_auth_changed AFTER INSERT OR UPDATE OR DELETE ON session_auth
    FOR EACH ROW EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER user_locations_changed AFTER INSERT OR DELETE
    OR UPDATE OF user_id, network, country, created_at ON user_locations
    FOR EACH ROW EXECUTE FUNCTION portico_notify_change();
CREATE TRIGGER password_change_required_changed AFTER INSERT OR UPDATE OR DELETE ON password_change_required
    FOR EACH ROW EXECUTE FUNCTION portico_notify_change();
