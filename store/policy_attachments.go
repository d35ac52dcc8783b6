package store

import (
	"context"
	"fmt"
	"time"
)

// AttachPoint names a place a policy can be attached other than an
// application (an application's policy is Client.PolicyID).
type AttachPoint string

// Attachment points.
const (
	// AttachPortal is the portal's own sign-in (user access).
	AttachPortal AttachPoint = "portal"
	// AttachM2M is machine to machine for every service app without its own.
	AttachM2M AttachPoint = "m2m"
	// AttachRegistration is client registration, globally (target "") or for
	// one plan (target = plan ID).
	AttachRegistration AttachPoint = "registration"
)

// Valid reports whether p is one of the attachment points.
func (p AttachPoint) Valid() bool {
	return p == AttachPortal || p == AttachM2M || p == AttachRegistration
}

// Attachment says that a policy applies at a point; Target narrows the point
// (a plan ID for registration) and is empty for "everywhere".
type Attachment struct {
	Point     AttachPoint `json:"point"`
	Target    string      `json:"target,omitempty"`
	PolicyID  string      `json:"policy_id"`
	CreatedAt time.Time   `json:"created_at"`
}

// Attach makes policyID the policy of point/target, replacing any other, and
// returns the policy ID it replaced ("" when none).
func (s *Store) Attach(ctx context.Context, point AttachPoint, target, policyID string) (string, error) {
	var before string
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if before, err = tx.AttachedPolicy(ctx, point, target); err != nil {
			return err
		}
		_, err = tx.q.ExecContext(ctx, `INSERT INTO policy_attachments (point, target, policy_id, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (point, target) DO UPDATE SET policy_id = excluded.policy_id,
			created_at = excluded.created_at`, string(point), target, policyID, ms(tx.Now()))
		if err != nil {
			return fmt.Errorf("store: attach policy: %w", err)
		}
		return nil
	})
	return before, err
}

// Detach removes the policy of point/target and returns the one removed
// ("" when there was none).
func (s *Store) Detach(ctx context.Context, point AttachPoint, target string) (string, error) {
	var before string
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if before, err = tx.AttachedPolicy(ctx, point, target); err != nil || before == "" {
			return err
		}
		_, err = tx.q.ExecContext(ctx, `DELETE FROM policy_attachments WHERE point = ? AND target = ?`, string(point), target)
		return err
	})
	return before, err
}

// AttachedPolicy returns the policy ID attached at point/target, or "".
func (s *Store) AttachedPolicy(ctx context.Context, point AttachPoint, target string) (string, error) {
	var id string
	err := s.q.QueryRowContext(ctx, `SELECT policy_id FROM policy_attachments WHERE point = ? AND target = ?`,
		string(point), target).Scan(&id)
	if errIsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: attached policy: %w", err)
	}
	return id, nil
}

// Attachments lists every non-application attachment, or only those of
// policyID when it is not empty.
func (s *Store) Attachments(ctx context.Context, policyID string) ([]Attachment, error) {
	q := `SELECT point, target, policy_id, created_at FROM policy_attachments`
	var args []any
	if policyID != "" {
		q += ` WHERE policy_id = ?`
		args = append(args, policyID)
	}
	rows, err := s.q.QueryContext(ctx, q+` ORDER BY point, target`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: attachments: %w", err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var a Attachment
		var created int64
		if err := rows.Scan(&a.Point, &a.Target, &a.PolicyID, &created); err != nil {
			return nil, err
		}
		a.CreatedAt = fromMS(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetClientPolicy attaches policyID ("" detaches) to the application with
// the public clientID, whatever its organization: attaching is a platform
// admin's act. It returns the client as it was before.
func (s *Store) SetClientPolicy(ctx context.Context, clientID, policyID string) (Client, error) {
	var before Client
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if before, err = tx.LookupClient(ctx, clientID); err != nil {
			return err
		}
		var pol any
		if policyID != "" {
			pol = policyID
		}
		_, err = tx.q.ExecContext(ctx, `UPDATE oauth_clients SET policy_id = ?, updated_at = ? WHERE id = ?`,
			pol, ms(tx.Now()), before.ID)
		if err != nil {
			return fmt.Errorf("store: set client policy: %w", err)
		}
		return nil
	})
	return before, err
}

// AppRef is an application as the policy pages list it: enough to name it
// and its organization, without secrets.
type AppRef struct {
	ClientID string     `json:"client_id"`
	Name     string     `json:"name"`
	Type     ClientType `json:"type"`
	OrgID    string     `json:"org_id"`
	OrgSlug  string     `json:"org"`
	PolicyID string     `json:"policy_id,omitempty"`
}

// AppRefs lists up to limit applications of every organization by name,
// for the platform admin's pickers (the policy simulator's client).
func (s *Store) AppRefs(ctx context.Context, limit int) ([]AppRef, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT c.client_id, c.name, c.type, c.org_id, o.slug
		FROM oauth_clients c JOIN organizations o ON o.id = c.org_id ORDER BY c.name, c.client_id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: app refs: %w", err)
	}
	defer rows.Close()
	var out []AppRef
	for rows.Next() {
		var a AppRef
		if err := rows.Scan(&a.ClientID, &a.Name, &a.Type, &a.OrgID, &a.OrgSlug); err != nil {
			return nil, fmt.Errorf("store: app refs: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
