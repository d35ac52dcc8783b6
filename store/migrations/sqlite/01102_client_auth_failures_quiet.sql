-- +goose Up
-- Nothing on SQLite: other processes' commits move the writer's
-- data_version, and this process counts its own (store/engine.go, where
-- counting a client-authentication failure is quiet and placing a block is
-- not). The PostgreSQL twin narrows the change-notification triggers of
-- oauth_client_auth_failures to the same.
SELECT 1;
