-- +goose Up
-- Nothing on SQLite: other processes' commits move the writer's
-- data_version, and this process counts its own (store/engine.go). The
-- PostgreSQL twin adds the change-notification triggers for the session
-- tables that the signed-in principal cache reads.
SELECT 1;
