-- +goose Up
-- The policy engine caches API request routes (policyeditor/engine.go) and
-- reloads them when the data version moves, so an attachment made on one
-- replica or by the CLI must notify the others.
CREATE TRIGGER api_policy_routes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_policy_routes
    FOR EACH STATEMENT EXECUTE FUNCTION portico_notify_change();
