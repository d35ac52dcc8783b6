-- +goose Up
-- Accounts whose password must be changed at the next sign-in: the first-run
-- administrator, whose password was printed to a console, and anyone given a
-- password by an operator. A row is removed when the person sets their own.
CREATE TABLE password_change_required (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

-- Self-service reset requests: who asked is not stored (the address may
-- not exist); the throttle counts them. Links requested by the person
-- themselves are password_resets rows with created_by 'self'.

-- A person's sign-in history is their audit events (signin.*) targeting
-- them: this index answers "the newest events about one target".
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, at, id);

-- +goose Down
DROP INDEX audit_events_target;
DROP TABLE password_change_required;
