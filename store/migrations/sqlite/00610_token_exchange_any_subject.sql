-- +goose Up
-- A client may exchange (RFC 8693) only subject tokens issued to it or
-- naming it in aud, unless a platform admin allows it to exchange tokens of
-- its organization's other clients too.
ALTER TABLE oauth_clients ADD COLUMN exchange_any_subject INTEGER NOT NULL DEFAULT 0;
