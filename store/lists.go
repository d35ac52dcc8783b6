package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The admin lists, read a page at a time (page.go). Each is a listQuery
// value so that TestListQueryPlans can run EXPLAIN QUERY PLAN on every one
// of them, with and without a cursor and a search, and fail on a full scan
// of a table that grows with customers.

var (
	// Organizations are searched by the start of the name, an ordered walk
	// of the name index however many match (a second range, on the slug,
	// would need every match sorted); OrganizationPage adds the
	// organization whose slug is exactly Q.
	orgList = listQuery{name: "organizations", from: "organizations", columns: orgColumns,
		key: "lower(name)", textKey: true, id: "id", search: []string{"lower(name)"}, lowerQ: true}
	memberList = listQuery{name: "members", from: "users", columns: userColumns, scope: []string{"org_id = ?"},
		key: "lower(name)", textKey: true, id: "id", search: []string{"lower(name)", "email"}, lowerQ: true}
	clientList = listQuery{name: "clients", from: "oauth_clients", columns: clientColumns, scope: []string{"org_id = ?"},
		key: "lower(name)", textKey: true, id: "id", search: []string{"lower(name)"}, lowerQ: true}
	inviteList = listQuery{name: "invitations", from: "invitations", columns: inviteColumns, scope: []string{"org_id = ?"},
		key: "created_at", id: "id", desc: true, search: []string{"email"}, lowerQ: true}
	// The audit log is searched by the actor's whole label (an email, or
	// "cli"): with the (actor, at, id) index that is an ordered walk, where
	// a prefix matching many actors would have to sort all their events.
	auditList = listQuery{name: "audit events", from: "audit_events", columns: auditColumns,
		key: "at", id: "id", desc: true, search: []string{"actor"}, lowerQ: true, exact: true}
	auditOrgList = listQuery{name: "audit events of an organization", from: "audit_events", columns: auditColumns,
		scope: []string{"org_id = ?"}, key: "at", id: "id", desc: true, search: []string{"actor"}, lowerQ: true, exact: true}
	appRefList = listQuery{name: "applications", from: "oauth_clients c JOIN organizations o ON o.id = c.org_id",
		columns: appRefColumns, key: "lower(c.name)", textKey: true, id: "c.id", search: []string{"lower(c.name)"}, lowerQ: true}
	policyAppList = listQuery{name: "applications of a policy", from: "oauth_clients c JOIN organizations o ON o.id = c.org_id",
		columns: appRefColumns, scope: []string{"c.policy_id = ?"}, key: "c.client_id", textKey: true, id: "c.client_id",
		search: []string{"c.client_id"}}
)

const (
	auditColumns = `id, at, COALESCE(org_id, ''), actor_id, actor, action, target_type, target_id,
		COALESCE(before, ''), COALESCE(after, '')`
	appKindCond   = `(c.type = 'service') = ?`
	appRefColumns = `c.client_id, c.name, c.type, c.org_id, o.slug, COALESCE(c.policy_id, '')`

	// Queries around the lists, named for TestListQueryPlans.
	qDomainsOf    = `SELECT org_id, domain FROM org_domains WHERE org_id IN (%s) ORDER BY org_id, domain`
	qOrgSlugs     = `SELECT id, slug FROM organizations WHERE id IN (%s)`
	qOrgsEnding   = `SELECT ` + orgColumns + ` FROM organizations WHERE valid_until >= ? AND valid_until < ? ORDER BY valid_until, id LIMIT ?`
	qOrgsOnPlan   = `SELECT COUNT(*) FROM organizations WHERE plan_id = ?`
	qSecretsOf    = `SELECT client_id, id, hash, hint, created_at, expires_at FROM oauth_client_secrets WHERE client_id IN (%s) ORDER BY created_at DESC, id`
	qAuditPurge   = `DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? ORDER BY at LIMIT ?)`
	qDecisionsOld = `DELETE FROM decisions WHERE id IN (SELECT id FROM decisions WHERE id < ? ORDER BY id LIMIT ?)`
)

func placeholders(n int) string { return "?" + strings.Repeat(", ?", n-1) }

// OrganizationPage lists organizations by name, a page at a time; Q matches
// the start of the name (any case), and the organization whose slug is Q
// comes first on the first page. Domains are loaded for the whole page in
// one query.
func (s *Store) OrganizationPage(ctx context.Context, p Page) ([]Organization, PageInfo, error) {
	orgs, info, err := listPage(ctx, s, orgList, p, nil, nil, nil, scanOrg)
	if err != nil {
		return nil, info, err
	}
	if q := strings.ToLower(strings.TrimSpace(p.Q)); q != "" && p.After == "" && p.Before == "" {
		o, err := scanOrg(s.q.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations WHERE slug = ?`, q))
		if err == nil && !slices.ContainsFunc(orgs, func(x Organization) bool { return x.ID == o.ID }) {
			orgs = append([]Organization{o}, orgs...)
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, info, fmt.Errorf("store: organizations: %w", err)
		}
	}
	return orgs, info, s.loadDomainsOf(ctx, orgs)
}

// loadDomainsOf fills in the domains of orgs with one query.
func (s *Store) loadDomainsOf(ctx context.Context, orgs []Organization) error {
	if len(orgs) == 0 {
		return nil
	}
	at := map[string]int{}
	args := make([]any, len(orgs))
	for i := range orgs {
		at[orgs[i].ID], args[i], orgs[i].Domains = i, orgs[i].ID, nil
	}
	rows, err := s.q.QueryContext(ctx, fmt.Sprintf(qDomainsOf, placeholders(len(args))), args...)
	if err != nil {
		return fmt.Errorf("store: domains: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var org, d string
		if err := rows.Scan(&org, &d); err != nil {
			return fmt.Errorf("store: domains: %w", err)
		}
		o := &orgs[at[org]]
		o.Domains = append(o.Domains, d)
	}
	return rows.Err()
}

// OrganizationsEndingBetween lists up to limit organizations whose
// partnership ends in [from, until), soonest first.
func (s *Store) OrganizationsEndingBetween(ctx context.Context, from, until time.Time, limit int) ([]Organization, error) {
	rows, err := s.q.QueryContext(ctx, qOrgsEnding, ms(from), ms(until), limit)
	if err != nil {
		return nil, fmt.Errorf("store: organizations ending: %w", err)
	}
	var out []Organization
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: organizations ending: %w", err)
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.loadDomainsOf(ctx, out)
}

// CountOrganizationsOnPlan returns how many organizations are on a plan.
func (s *Store) CountOrganizationsOnPlan(ctx context.Context, planID string) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, qOrgsOnPlan, planID).Scan(&n)
	return n, err
}

// OrgSlugs maps the given organization IDs to their slugs (unknown IDs are
// left out): a page of decisions or audit events names its organizations
// this way, without loading every organization.
func (s *Store) OrgSlugs(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	seen := map[string]bool{}
	var args []any
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			args = append(args, id)
		}
	}
	for len(args) > 0 {
		chunk := args[:min(len(args), 500)]
		args = args[len(chunk):]
		rows, err := s.q.QueryContext(ctx, fmt.Sprintf(qOrgSlugs, placeholders(len(chunk))), chunk...)
		if err != nil {
			return nil, fmt.Errorf("store: org slugs: %w", err)
		}
		for rows.Next() {
			var id, slug string
			if err := rows.Scan(&id, &slug); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = slug
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MemberPage lists an organization's users by name, a page at a time; Q
// matches the start of the name (any case) or of the email.
func (s *Store) MemberPage(ctx context.Context, orgID string, p Page) ([]User, PageInfo, error) {
	return listPage(ctx, s, memberList, p, []any{orgID}, nil, nil, scanUser)
}

// InvitationPage lists an organization's invitations, newest first; Q
// matches the start of the email.
func (s *Store) InvitationPage(ctx context.Context, orgID string, p Page) ([]Invitation, PageInfo, error) {
	return listPage(ctx, s, inviteList, p, []any{orgID}, nil, nil, scanInvite)
}

// ClientPage lists an organization's applications by name, a page at a
// time, without their secrets unless withSecrets (then in one query for the
// page); Q matches the start of the name (any case).
func (s *Store) ClientPage(ctx context.Context, orgID string, p Page, withSecrets bool) ([]Client, PageInfo, error) {
	cs, info, err := listPage(ctx, s, clientList, p, []any{orgID}, nil, nil, scanClient)
	if err != nil || !withSecrets || len(cs) == 0 {
		return cs, info, err
	}
	return cs, info, s.loadSecretsOf(ctx, cs)
}

func (s *Store) loadSecretsOf(ctx context.Context, cs []Client) error {
	at := map[string]int{}
	args := make([]any, len(cs))
	for i := range cs {
		at[cs[i].ID], args[i], cs[i].Secrets = i, cs[i].ID, nil
	}
	rows, err := s.q.QueryContext(ctx, fmt.Sprintf(qSecretsOf, placeholders(len(args))), args...)
	if err != nil {
		return fmt.Errorf("store: client secrets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var owner string
		var sec ClientSecret
		var created int64
		var expires any
		if err := rows.Scan(&owner, &sec.ID, &sec.Hash, &sec.Hint, &created, &expires); err != nil {
			return fmt.Errorf("store: client secrets: %w", err)
		}
		sec.CreatedAt = fromMS(created)
		if e, ok := expires.(int64); ok {
			sec.ExpiresAt = fromMS(e)
		}
		c := &cs[at[owner]]
		c.Secrets = append(c.Secrets, sec)
	}
	return rows.Err()
}

// AuditFilter selects audit events; a zero OrgID means every organization
// (platform admins only).
type AuditFilter struct {
	OrgID string
	// ActionPrefix keeps only actions starting with it ("scim." for the
	// directory's sync events); it needs OrgID.
	ActionPrefix string
	Limit        int
}

func scanAudit(row interface{ Scan(...any) error }) (AuditEvent, error) {
	var e AuditEvent
	var at int64
	var before, after string
	if err := row.Scan(&e.ID, &at, &e.OrgID, &e.ActorID, &e.Actor, &e.Action, &e.TargetType, &e.TargetID,
		&before, &after); err != nil {
		return e, err
	}
	e.At = fromMS(at)
	if before != "" {
		e.Before = []byte(before)
	}
	if after != "" {
		e.After = []byte(after)
	}
	return e, nil
}

// AuditEvents lists events, newest first: the first page of AuditPage.
func (s *Store) AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	if f.ActionPrefix != "" && f.OrgID != "" {
		return s.auditByActionPrefix(ctx, f)
	}
	events, _, err := s.AuditPage(ctx, f.OrgID, Page{Limit: f.Limit})
	return events, err
}

// auditByActionPrefix lists one organization's events whose action starts
// with f.ActionPrefix, newest first. The prefix becomes a half-open range
// [prefix, prefix with its last byte raised) so no LIKE escaping is needed.
func (s *Store) auditByActionPrefix(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	hi := []byte(f.ActionPrefix)
	hi[len(hi)-1]++
	action := "action"
	if s.e.pg {
		action += ` COLLATE "C"` // the byte-raised bound assumes byte-wise order
	}
	rows, err := s.q.QueryContext(ctx, `SELECT id, at, COALESCE(org_id, ''), actor_id, actor, action, target_type,
		target_id, COALESCE(before, ''), COALESCE(after, '') FROM audit_events
		WHERE org_id = ? AND `+action+` >= ? AND `+action+` < ? ORDER BY at DESC, id DESC LIMIT ?`,
		f.OrgID, f.ActionPrefix, string(hi), f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit events: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("store: audit events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditPage lists audit events newest first, of one organization or (orgID
// "") of all; Q is an actor (an email, or "cli"), matched whole.
func (s *Store) AuditPage(ctx context.Context, orgID string, p Page) ([]AuditEvent, PageInfo, error) {
	if orgID == "" {
		return listPage(ctx, s, auditList, p, nil, nil, nil, scanAudit)
	}
	return listPage(ctx, s, auditOrgList, p, []any{orgID}, nil, nil, scanAudit)
}

// DeleteAuditBefore deletes at most batch audit events older than t, the
// oldest first, and returns how many (see DeleteDecisionsBefore).
func (s *Store) DeleteAuditBefore(ctx context.Context, t time.Time, batch int) (int64, error) {
	res, err := s.q.ExecContext(ctx, qAuditPurge, ms(t), batch)
	if err != nil {
		return 0, fmt.Errorf("store: delete audit events: %w", err)
	}
	return res.RowsAffected()
}

func scanAppRef(row interface{ Scan(...any) error }) (AppRef, error) {
	var a AppRef
	err := row.Scan(&a.ClientID, &a.Name, &a.Type, &a.OrgID, &a.OrgSlug, &a.PolicyID)
	return a, err
}

// AppRefPage lists applications across organizations by name, a page at a
// time, for the policy page's picker; machines selects service clients
// (true) or the others (false). Q matches the start of the name. Platform
// admins only: it crosses tenants.
func (s *Store) AppRefPage(ctx context.Context, machines bool, p Page) ([]AppRef, PageInfo, error) {
	// The same expression as the index oauth_clients_machine_lname, so the
	// page is a walk of that index's machines or non-machines part.
	if s.e.pg {
		// There the expression is boolean, and the store passes booleans
		// as 0/1 integers, which a boolean does not compare with.
		return listPage(ctx, s, appRefList, p, nil, []string{fmt.Sprintf("(c.type = 'service') = %t", machines)}, nil, scanAppRef)
	}
	return listPage(ctx, s, appRefList, p, nil, []string{appKindCond}, []any{machines}, scanAppRef)
}

// PolicyAppPage lists the applications that use policyID, by client_id.
func (s *Store) PolicyAppPage(ctx context.Context, policyID string, p Page) ([]AppRef, PageInfo, error) {
	return listPage(ctx, s, policyAppList, p, []any{policyID}, nil, nil, scanAppRef)
}

// OrgClients lists an organization's applications by name without reading
// their secrets: the dashboard and other read-only views never show them.
func (s *Store) OrgClients(ctx context.Context, orgID string) ([]Client, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE org_id = ? ORDER BY name, client_id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: clients: %w", err)
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("store: clients: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
