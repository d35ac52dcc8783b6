-- +goose Up
-- Nothing on SQLite: its data_version moves on every commit. The PostgreSQL
-- twin adds the change-notification trigger for oauth_client_auth_failures.
SELECT 1;
