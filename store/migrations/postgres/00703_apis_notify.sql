-- +goose Up
-- The authorization server caches the API registry (authserver/resource.go)
-- and reloads it when the data version moves, so a change to an API on one
-- replica must notify the others.
CREATE TRIGGER oauth_apis_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oauth_apis
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
