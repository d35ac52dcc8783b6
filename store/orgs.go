package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// OrgStatus is whether an organization is allowed to operate at all.
type OrgStatus string

// Organization statuses.
const (
	OrgActive    OrgStatus = "active"
	OrgSuspended OrgStatus = "suspended"
)

// Organization is a partner or customer.
type Organization struct {
	ID      string
	Slug    string
	Name    string
	Domains []string // lower-case email domains used for IdP discovery
	Status  OrgStatus
	// ValidFrom and ValidUntil bound the partnership; a zero value is open.
	ValidFrom  time.Time
	ValidUntil time.Time
	PlanID     string
	// RequireMFA makes everyone enrol a second factor at their first
	// sign-in, before they get a session.
	RequireMFA bool
	// RequirePasskey makes passkeys the only second factor its members may
	// use and sign-in without one impossible (docs/PASSKEYS.md).
	RequirePasskey bool
	// Attributes are the organization's own facts by name (a list is
	// comma-separated), for param_in_attribute conditions; never nil when
	// read from the store.
	Attributes map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// InactiveReason says why the organization may not sign in, launch apps or
// get tokens at now, or "" when it may. Every entry point asks this one
// question so that none of them forgets the partnership window.
func (o Organization) InactiveReason(now time.Time) string {
	switch {
	case o.Status == OrgSuspended:
		return "the organization is suspended"
	case !o.ValidFrom.IsZero() && now.Before(o.ValidFrom):
		return "the partnership has not started yet"
	case !o.ValidUntil.IsZero() && !now.Before(o.ValidUntil):
		return "the partnership has ended"
	}
	return ""
}

const orgColumns = `id, slug, name, status, valid_from, valid_until, COALESCE(plan_id, ''), require_mfa, require_passkey, attributes, created_at, updated_at`

func scanOrg(row interface{ Scan(...any) error }) (Organization, error) {
	var o Organization
	var from, until sql.NullInt64
	var created, updated int64
	var status, attrs string
	if err := row.Scan(&o.ID, &o.Slug, &o.Name, &status, &from, &until, &o.PlanID, &o.RequireMFA, &o.RequirePasskey, &attrs, &created, &updated); err != nil {
		return o, err
	}
	if err := json.Unmarshal([]byte(attrs), &o.Attributes); err != nil || o.Attributes == nil {
		o.Attributes = map[string]string{}
	}
	o.Status = OrgStatus(status)
	o.ValidFrom, o.ValidUntil = fromNullMS(from), fromNullMS(until)
	o.CreatedAt, o.UpdatedAt = fromMS(created), fromMS(updated)
	return o, nil
}

func (s *Store) loadDomains(ctx context.Context, o *Organization) error {
	rows, err := s.q.QueryContext(ctx, `SELECT domain FROM org_domains WHERE org_id = ? ORDER BY domain`, o.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	o.Domains = nil
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return err
		}
		o.Domains = append(o.Domains, d)
	}
	return rows.Err()
}

func (s *Store) orgWhere(ctx context.Context, op, where string, arg any) (Organization, error) {
	o, err := scanOrg(s.q.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations WHERE `+where+s.forUpdate(), arg))
	if err != nil {
		return o, notFound(op, err)
	}
	if err := s.loadDomains(ctx, &o); err != nil {
		return o, fmt.Errorf("%s: %w", op, err)
	}
	return o, nil
}

// Organization returns the organization with the given ID.
func (s *Store) Organization(ctx context.Context, id string) (Organization, error) {
	return s.orgWhere(ctx, "store: organization", "id = ?", id)
}

// OrganizationBySlug returns the organization with the given slug.
func (s *Store) OrganizationBySlug(ctx context.Context, slug string) (Organization, error) {
	return s.orgWhere(ctx, "store: organization by slug", "slug = ?", slug)
}

// OrganizationByDomain returns the organization that owns an email domain.
func (s *Store) OrganizationByDomain(ctx context.Context, domain string) (Organization, error) {
	return s.orgWhere(ctx, "store: organization by domain",
		"id = (SELECT org_id FROM org_domains WHERE domain = ?)", strings.ToLower(domain))
}

// Organizations lists every organization by name.
func (s *Store) Organizations(ctx context.Context) ([]Organization, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+orgColumns+` FROM organizations ORDER BY name, slug`)
	if err != nil {
		return nil, fmt.Errorf("store: organizations: %w", err)
	}
	var out []Organization
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: organizations: %w", err)
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.loadDomains(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CreateOrganization inserts o, assigning its ID and timestamps. A taken slug
// or domain is ErrAlreadyExists.
func (s *Store) CreateOrganization(ctx context.Context, o *Organization) error {
	return s.InTx(ctx, func(tx *Store) error {
		now := tx.Now()
		if o.ID == "" {
			o.ID = NewID()
		}
		if o.Status == "" {
			o.Status = OrgActive
		}
		o.CreatedAt, o.UpdatedAt = now, now
		_, err := tx.q.ExecContext(ctx, `INSERT INTO organizations
			(id, slug, name, status, valid_from, valid_until, plan_id, require_mfa, require_passkey, attributes, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?)`,
			o.ID, o.Slug, o.Name, string(o.Status), nullMS(o.ValidFrom), nullMS(o.ValidUntil), o.PlanID, o.RequireMFA, o.RequirePasskey,
			attrsJSON(o.Attributes), ms(now), ms(now))
		if isUniqueViolation(err) {
			return fmt.Errorf("store: organization %q: %w", o.Slug, ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("store: create organization: %w", err)
		}
		return tx.setDomains(ctx, o)
	})
}

func (s *Store) setDomains(ctx context.Context, o *Organization) error {
	if _, err := s.q.ExecContext(ctx, `DELETE FROM org_domains WHERE org_id = ?`, o.ID); err != nil {
		return err
	}
	for i, d := range o.Domains {
		o.Domains[i] = strings.ToLower(d)
	}
	slices.Sort(o.Domains)
	o.Domains = slices.Compact(o.Domains)
	for _, d := range o.Domains {
		_, err := s.q.ExecContext(ctx, `INSERT INTO org_domains (domain, org_id) VALUES (?, ?)`, d, o.ID)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: domain %q: %w", d, ErrDomainTaken)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// UpdateOrganization loads the organization, lets update change it and
// writes it back in one transaction. It returns the values before and after,
// for the audit log.
func (s *Store) UpdateOrganization(ctx context.Context, id string, update func(*Organization) error) (before, after Organization, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		before, err = tx.Organization(ctx, id)
		if err != nil {
			return err
		}
		after = before
		after.Domains = slices.Clone(before.Domains)
		after.Attributes = maps.Clone(before.Attributes)
		if err := update(&after); err != nil {
			return err
		}
		after.ID, after.CreatedAt, after.UpdatedAt = before.ID, before.CreatedAt, tx.Now()
		_, err := tx.q.ExecContext(ctx, `UPDATE organizations SET slug = ?, name = ?, status = ?,
			valid_from = ?, valid_until = ?, plan_id = NULLIF(?, ''), require_mfa = ?, require_passkey = ?, attributes = ?,
			updated_at = ? WHERE id = ?`,
			after.Slug, after.Name, string(after.Status), nullMS(after.ValidFrom), nullMS(after.ValidUntil),
			after.PlanID, after.RequireMFA, after.RequirePasskey, attrsJSON(after.Attributes), ms(after.UpdatedAt), id)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: organization %q: %w", after.Slug, ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("store: update organization: %w", err)
		}
		return tx.setDomains(ctx, &after)
	})
	return before, after, err
}

// attrsJSON is an attributes map as the column stores it ("{}" for none).
func attrsJSON(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}
