-- +goose Up
-- Clients identified by a Client ID Metadata Document (an https URL as
-- client_id) belong to no organization until a user signs in, so an
-- authorization request's org_id may be NULL.
ALTER TABLE oauth_auth_requests ALTER COLUMN org_id DROP NOT NULL;

-- An organization may refuse clients identified by a metadata document
-- (allow_client_metadata 0) even where the platform allows them.
CREATE TABLE org_oauth_settings (
    org_id                TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    allow_client_metadata INTEGER NOT NULL DEFAULT 1,
    updated_at            BIGINT NOT NULL
);
