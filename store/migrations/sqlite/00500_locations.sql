-- +goose Up
-- Networks a user has passed step-up MFA from: IPv4 /24 or IPv6 /48. A user
-- keeps at most five; the least recently used is dropped.
CREATE TABLE user_locations (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    network      TEXT NOT NULL,
    country      TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, network)
);
