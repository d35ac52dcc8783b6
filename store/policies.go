package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Policy is an access policy's identity and which of its versions is
// current. The rules themselves are in its PolicyVersions.
type Policy struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Kind           string `json:"kind"`
	Description    string `json:"description,omitempty"`
	CurrentVersion int    `json:"current_version"`
	// ShadowVersion is the version attached in report-only mode beside the
	// current one (0: none): evaluated and logged, never enforced.
	ShadowVersion int       `json:"shadow_version,omitempty"`
	ShadowSince   time.Time `json:"shadow_since,omitzero"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// PolicyVersion is one immutable saved state of a policy: the document as
// JSON, who saved it and why (Note: "imported", "restored from version 2").
type PolicyVersion struct {
	PolicyID  string          `json:"policy_id"`
	Version   int             `json:"version"`
	Document  json.RawMessage `json:"document"`
	AuthorID  string          `json:"author_id,omitempty"`
	Author    string          `json:"author"`
	Note      string          `json:"note,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

const policyColumns = `id, name, kind, description, current_version, created_at, updated_at, shadow_version, shadow_since`

func scanPolicy(row interface{ Scan(...any) error }) (Policy, error) {
	var p Policy
	var created, updated, since int64
	err := row.Scan(&p.ID, &p.Name, &p.Kind, &p.Description, &p.CurrentVersion, &created, &updated, &p.ShadowVersion, &since)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	if since != 0 {
		p.ShadowSince = fromMS(since)
	}
	return p, err
}

// Policy returns a policy by ID.
func (s *Store) Policy(ctx context.Context, id string) (Policy, error) {
	p, err := scanPolicy(s.q.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policies WHERE id = ?`+s.forUpdate(), id))
	if err != nil {
		return p, notFound("store: policy", err)
	}
	return p, nil
}

// PolicyByName returns a policy by its unique name.
func (s *Store) PolicyByName(ctx context.Context, name string) (Policy, error) {
	p, err := scanPolicy(s.q.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policies WHERE name = ?`, name))
	if err != nil {
		return p, notFound("store: policy by name", err)
	}
	return p, nil
}

// Policies lists every policy by name. Policies are platform-wide: only
// platform admins author them.
func (s *Store) Policies(ctx context.Context) ([]Policy, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+policyColumns+` FROM policies ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("store: policies: %w", err)
	}
	defer rows.Close()
	var out []Policy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("store: policies: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CreatePolicy inserts p with v as its version 1, assigning IDs and times.
// A taken name is ErrAlreadyExists.
func (s *Store) CreatePolicy(ctx context.Context, p *Policy, v *PolicyVersion) error {
	return s.InTx(ctx, func(tx *Store) error {
		now := tx.Now()
		if p.ID == "" {
			p.ID = NewID()
		}
		p.CurrentVersion, p.CreatedAt, p.UpdatedAt = 1, now, now
		_, err := tx.q.ExecContext(ctx, `INSERT INTO policies (`+policyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)`,
			p.ID, p.Name, p.Kind, p.Description, p.CurrentVersion, ms(now), ms(now))
		if isUniqueViolation(err) {
			return fmt.Errorf("store: policy %q: %w", p.Name, ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("store: create policy: %w", err)
		}
		v.PolicyID, v.Version, v.CreatedAt = p.ID, 1, now
		return tx.insertPolicyVersion(ctx, v)
	})
}

// AddPolicyVersion stores v as the next version of policy p.ID and makes it
// current, updating the policy's name, kind and description from p. When
// base is not 0 it is the version the author started from: if another save
// happened since, nothing is stored and the error is ErrConflict, so two
// admins editing at once do not silently overwrite each other.
func (s *Store) AddPolicyVersion(ctx context.Context, p *Policy, base int, v *PolicyVersion) error {
	return s.InTx(ctx, func(tx *Store) error {
		cur, err := tx.Policy(ctx, p.ID)
		if err != nil {
			return err
		}
		if base != 0 && base != cur.CurrentVersion {
			return fmt.Errorf("store: policy %q is at version %d, not %d: %w", cur.Name, cur.CurrentVersion, base, ErrConflict)
		}
		next, err := tx.nextPolicyVersion(ctx, p.ID)
		if err != nil {
			return err
		}
		now := tx.Now()
		p.CurrentVersion, p.CreatedAt, p.UpdatedAt = next, cur.CreatedAt, now
		p.ShadowVersion, p.ShadowSince = cur.ShadowVersion, cur.ShadowSince
		_, err = tx.q.ExecContext(ctx, `UPDATE policies SET name = ?, kind = ?, description = ?, current_version = ?,
			updated_at = ? WHERE id = ?`, p.Name, p.Kind, p.Description, p.CurrentVersion, ms(now), p.ID)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: policy %q: %w", p.Name, ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("store: update policy: %w", err)
		}
		v.PolicyID, v.Version, v.CreatedAt = p.ID, p.CurrentVersion, now
		return tx.insertPolicyVersion(ctx, v)
	})
}

// nextPolicyVersion is the number the next saved version of a policy
// takes: a report-only version may be newer than the current one.
func (s *Store) nextPolicyVersion(ctx context.Context, policyID string) (int, error) {
	var n int
	if err := s.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM policy_versions WHERE policy_id = ?`, policyID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: policy versions: %w", err)
	}
	return n + 1, nil
}

// AddShadowVersion stores v as the next version of policy policyID without
// making it current, and attaches it in report-only mode (replacing any
// shadow attached before).
func (s *Store) AddShadowVersion(ctx context.Context, policyID string, v *PolicyVersion) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.Policy(ctx, policyID); err != nil {
			return err
		}
		next, err := tx.nextPolicyVersion(ctx, policyID)
		if err != nil {
			return err
		}
		v.PolicyID, v.Version, v.CreatedAt = policyID, next, tx.Now()
		if err := tx.insertPolicyVersion(ctx, v); err != nil {
			return err
		}
		return tx.SetPolicyShadow(ctx, policyID, next)
	})
}

// SetPolicyShadow attaches version n of a policy in report-only mode, or
// detaches the shadow when n is 0. The current version cannot be its own
// shadow (ErrConflict); a version that does not exist is ErrNotFound.
func (s *Store) SetPolicyShadow(ctx context.Context, policyID string, n int) error {
	return s.InTx(ctx, func(tx *Store) error {
		p, err := tx.Policy(ctx, policyID)
		if err != nil {
			return err
		}
		since := int64(0)
		if n != 0 {
			if n == p.CurrentVersion {
				return fmt.Errorf("store: version %d of %q is already enforced: %w", n, p.Name, ErrConflict)
			}
			if _, err := tx.PolicyVersion(ctx, policyID, n); err != nil {
				return err
			}
			since = ms(tx.Now())
		}
		_, err = tx.q.ExecContext(ctx, `UPDATE policies SET shadow_version = ?, shadow_since = ?, updated_at = ? WHERE id = ?`,
			n, since, ms(tx.Now()), policyID)
		if err != nil {
			return fmt.Errorf("store: set policy shadow: %w", err)
		}
		return nil
	})
}

// PromoteShadow makes the report-only version of a policy the enforced one
// and detaches it; only when version is still the shadow (a second click,
// or someone else's change meanwhile, is ErrConflict). It returns the
// policy as it was before.
func (s *Store) PromoteShadow(ctx context.Context, policyID string, version int) (Policy, error) {
	var before Policy
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if before, err = tx.Policy(ctx, policyID); err != nil {
			return err
		}
		res, err := tx.q.ExecContext(ctx, `UPDATE policies SET current_version = shadow_version, shadow_version = 0,
			shadow_since = 0, updated_at = ? WHERE id = ? AND shadow_version = ? AND shadow_version <> 0`, ms(tx.Now()), policyID, version)
		if err != nil {
			return fmt.Errorf("store: promote shadow: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("store: promote: version %d of %q is not in report-only mode: %w", version, before.Name, ErrConflict)
		}
		return nil
	})
	return before, err
}

// PolicyShadows maps the ID of every policy with a report-only version to
// that version.
func (s *Store) PolicyShadows(ctx context.Context) (map[string]int, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id, shadow_version FROM policies WHERE shadow_version <> 0`)
	if err != nil {
		return nil, fmt.Errorf("store: policy shadows: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

func (s *Store) insertPolicyVersion(ctx context.Context, v *PolicyVersion) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO policy_versions (policy_id, version, document, author_id, author, note, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, v.PolicyID, v.Version, string(v.Document), v.AuthorID, v.Author, v.Note, ms(v.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: add policy version: %w", err)
	}
	return nil
}

const versionColumns = `policy_id, version, document, author_id, author, note, created_at`

func scanPolicyVersion(row interface{ Scan(...any) error }) (PolicyVersion, error) {
	var v PolicyVersion
	var doc string
	var created int64
	err := row.Scan(&v.PolicyID, &v.Version, &doc, &v.AuthorID, &v.Author, &v.Note, &created)
	v.Document, v.CreatedAt = json.RawMessage(doc), fromMS(created)
	return v, err
}

// PolicyVersion returns version n of a policy.
func (s *Store) PolicyVersion(ctx context.Context, policyID string, n int) (PolicyVersion, error) {
	v, err := scanPolicyVersion(s.q.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM policy_versions
		WHERE policy_id = ? AND version = ?`, policyID, n))
	if err != nil {
		return v, notFound("store: policy version", err)
	}
	return v, nil
}

// CurrentPolicyVersion returns a policy and its current version in one
// read, so the two always agree.
func (s *Store) CurrentPolicyVersion(ctx context.Context, policyID string) (Policy, PolicyVersion, error) {
	var p Policy
	var v PolicyVersion
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if p, err = tx.Policy(ctx, policyID); err != nil {
			return err
		}
		v, err = tx.PolicyVersion(ctx, policyID, p.CurrentVersion)
		return err
	})
	return p, v, err
}

// PolicyVersions lists a policy's versions, newest first.
func (s *Store) PolicyVersions(ctx context.Context, policyID string) ([]PolicyVersion, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+versionColumns+` FROM policy_versions WHERE policy_id = ?
		ORDER BY version DESC`, policyID)
	if err != nil {
		return nil, fmt.Errorf("store: policy versions: %w", err)
	}
	defer rows.Close()
	var out []PolicyVersion
	for rows.Next() {
		v, err := scanPolicyVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("store: policy versions: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// PolicyHeads maps every policy ID to its current version, for a cache that
// must notice a save made by another process.
func (s *Store) PolicyHeads(ctx context.Context) (map[string]int, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id, current_version FROM policies`)
	if err != nil {
		return nil, fmt.Errorf("store: policy heads: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// errIsNoRows reports sql.ErrNoRows for the few optional lookups.
func errIsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
