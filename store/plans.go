package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Feature is one capability of a plan: the API scopes and app types it
// grants and, optionally, a cap on how many apps an organization may have.
type Feature struct {
	Name     string   `json:"name"`
	Scopes   []string `json:"scopes,omitempty"`
	AppTypes []string `json:"app_types,omitempty"`
	MaxApps  int      `json:"max_apps,omitempty"`
}

// Plan is a subscription tier.
type Plan struct {
	ID        string
	Slug      string
	Name      string
	Features  []Feature
	CreatedAt time.Time
	UpdatedAt time.Time
}

func scanPlan(row interface{ Scan(...any) error }) (Plan, error) {
	var p Plan
	var features string
	var created, updated int64
	if err := row.Scan(&p.ID, &p.Slug, &p.Name, &features, &created, &updated); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(features), &p.Features); err != nil {
		return p, fmt.Errorf("plan %s features: %w", p.Slug, err)
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}

const planColumns = `id, slug, name, features, created_at, updated_at`

// Plan returns a plan by ID.
func (s *Store) Plan(ctx context.Context, id string) (Plan, error) {
	p, err := scanPlan(s.q.QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans WHERE id = ?`+s.forUpdate(), id))
	return p, notFoundOrNil("store: plan", err)
}

// PlanBySlug returns a plan by slug.
func (s *Store) PlanBySlug(ctx context.Context, slug string) (Plan, error) {
	p, err := scanPlan(s.q.QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans WHERE slug = ?`, slug))
	return p, notFoundOrNil("store: plan by slug", err)
}

// Plans lists every plan by name.
func (s *Store) Plans(ctx context.Context) ([]Plan, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+planColumns+` FROM plans ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: plans: %w", err)
	}
	defer rows.Close()
	var out []Plan
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: plans: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CreatePlan inserts p, assigning its ID and timestamps.
func (s *Store) CreatePlan(ctx context.Context, p *Plan) error {
	now := s.Now()
	if p.ID == "" {
		p.ID = NewID()
	}
	p.CreatedAt, p.UpdatedAt = now, now
	features, err := json.Marshal(nonNil(p.Features))
	if err != nil {
		return err
	}
	_, err = s.q.ExecContext(ctx, `INSERT INTO plans (id, slug, name, features, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, p.ID, p.Slug, p.Name, string(features), ms(now), ms(now))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: plan %q: %w", p.Slug, ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: create plan: %w", err)
	}
	return nil
}

// UpdatePlan changes a plan in one transaction and returns it before and after.
func (s *Store) UpdatePlan(ctx context.Context, id string, update func(*Plan) error) (before, after Plan, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		if before, err = tx.Plan(ctx, id); err != nil {
			return err
		}
		after = before
		after.Features = append([]Feature(nil), before.Features...)
		if err := update(&after); err != nil {
			return err
		}
		after.ID, after.CreatedAt, after.UpdatedAt = before.ID, before.CreatedAt, tx.Now()
		features, err := json.Marshal(nonNil(after.Features))
		if err != nil {
			return err
		}
		_, err = tx.q.ExecContext(ctx, `UPDATE plans SET slug = ?, name = ?, features = ?, updated_at = ? WHERE id = ?`,
			after.Slug, after.Name, string(features), ms(after.UpdatedAt), id)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: plan %q: %w", after.Slug, ErrAlreadyExists)
		}
		return err
	})
	return before, after, err
}

// notFoundOrNil is notFound for a possibly nil error.
func notFoundOrNil(op string, err error) error {
	if err == nil {
		return nil
	}
	return notFound(op, err)
}

// nonNil makes a nil slice marshal as [] rather than null.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
