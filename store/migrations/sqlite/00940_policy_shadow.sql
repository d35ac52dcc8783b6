-- +goose Up
-- Report-only (shadow) mode: a policy may have a saved version that is
-- evaluated beside the enforced one without taking effect. shadow_version is
-- 0 when none; shadow_since is when it was attached (unix ms), where the
-- policy page starts counting disagreements. A decision made while a shadow
-- was attached keeps the shadow's outcome in shadow_ref (a decision_refs
-- outcome, like outcome_ref), NULL otherwise.
ALTER TABLE policies ADD COLUMN shadow_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE policies ADD COLUMN shadow_since INTEGER NOT NULL DEFAULT 0;
ALTER TABLE decisions ADD COLUMN shadow_ref INTEGER;

-- +goose Down
ALTER TABLE decisions DROP COLUMN shadow_ref;
ALTER TABLE policies DROP COLUMN shadow_since;
ALTER TABLE policies DROP COLUMN shadow_version;
