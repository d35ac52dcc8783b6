-- +goose Up
-- Trusted token issuers: an organization's partner identity providers whose
-- JWTs Portico accepts as subject tokens (RFC 8693) and assertions (RFC 7523).
-- audiences, algorithms (JSON arrays) and attribute_claims (a JSON object
-- of attribute name -> claim name) are what a token must satisfy and how its
-- claims map onto Portico's.
CREATE TABLE trusted_issuers (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    issuer           TEXT NOT NULL,
    jwks_uri         TEXT NOT NULL DEFAULT '',
    audiences        TEXT NOT NULL DEFAULT '[]',
    subject_claim    TEXT NOT NULL DEFAULT 'sub',
    groups_claim     TEXT NOT NULL DEFAULT '',
    attribute_claims TEXT NOT NULL DEFAULT '{}',
    max_age_seconds  INTEGER NOT NULL DEFAULT 0,
    algorithms       TEXT NOT NULL DEFAULT '[]',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (org_id, issuer)
);
CREATE INDEX trusted_issuers_issuer ON trusted_issuers (issuer);

-- Seen jtis of assertions and subject tokens per issuer: a replay is an
-- INSERT that affects no row. Purged after expires_at.
CREATE TABLE trusted_issuer_jtis (
    issuer_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (issuer_id, jti)
);
CREATE INDEX trusted_issuer_jtis_expires ON trusted_issuer_jtis (expires_at);

-- A client bound to one trusted issuer: a JWT-bearer client without a
-- secret of its own (token_endpoint_auth_method none) accepts assertions
-- from that issuer only.
CREATE TABLE client_issuer_bindings (
    client_id TEXT PRIMARY KEY REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    org_id    TEXT NOT NULL,
    issuer_id TEXT NOT NULL REFERENCES trusted_issuers (id) ON DELETE CASCADE
);
CREATE INDEX client_issuer_bindings_issuer ON client_issuer_bindings (issuer_id);

-- +goose Down
DROP TABLE client_issuer_bindings;
DROP TABLE trusted_issuer_jtis;
DROP TABLE trusted_issuers;
