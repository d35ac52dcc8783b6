-- +goose Up
-- Nothing on SQLite: its data_version moves on every commit. The PostgreSQL
-- twin adds the change-notification trigger for api_policy_routes.
SELECT 1;
