-- +goose Up
-- Organization attributes (JSON object of name -> value; a list is
-- comma-separated), read by param_in_attribute conditions of API-request
-- policies ("the {region} is one of the organization's regions"), like
-- users.attributes. organizations already notifies other replicas.
ALTER TABLE organizations ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE organizations DROP COLUMN attributes;
