-- +goose Up
-- The authorization server keeps client-authentication blocks in memory and
-- reloads them when the data version moves (authserver/throttle.go), so a
-- block recorded on one replica must notify the others, as every table a
-- cache reads does.
CREATE TRIGGER oauth_client_auth_failures_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oauth_client_auth_failures
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
