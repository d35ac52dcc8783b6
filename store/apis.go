package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// API is a resource server (RFC 8707, RFC 9728) that clients get tokens for:
// its Identifier is the `resource` they send and the `aud` of the tokens.
// OrgID is "" for an API the platform registered.
type API struct {
	ID          string        `json:"id"`
	OrgID       string        `json:"org_id,omitempty"`
	Identifier  string        `json:"identifier"`
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Scopes      []APIScope    `json:"scopes"`
	TokenTTL    time.Duration `json:"token_lifetime"` // 0: the server's default
	// RequireSenderConstrained: the API accepts only sender-constrained
	// (DPoP) tokens, never plain bearer ones.
	RequireSenderConstrained bool `json:"require_sender_constrained"`
	// PublishMetadata: Portico serves the API's RFC 9728 protected resource
	// metadata on its behalf.
	PublishMetadata bool      `json:"publish_metadata"`
	AllowedPlans    []string  `json:"allowed_plans,omitempty"` // plan ids
	AllowedOrgs     []string  `json:"allowed_orgs,omitempty"`  // organization ids
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// APIScope is one scope of an API.
type APIScope struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// ScopeNames lists the API's scope names.
func (a *API) ScopeNames() []string {
	out := make([]string, len(a.Scopes))
	for i, sc := range a.Scopes {
		out[i] = sc.Name
	}
	return out
}

// UsableBy reports whether clients of organization orgID on plan planID may
// get tokens for the API. The owner always may; otherwise the allow lists
// decide, and with both empty a platform API is open to every organization
// and an organization's API to its owner only.
func (a *API) UsableBy(orgID, planID string) bool {
	if a.OrgID != "" && a.OrgID == orgID {
		return true
	}
	if len(a.AllowedOrgs) == 0 && len(a.AllowedPlans) == 0 {
		return a.OrgID == ""
	}
	return slices.Contains(a.AllowedOrgs, orgID) || (planID != "" && slices.Contains(a.AllowedPlans, planID))
}

const apiColumns = `id, COALESCE(org_id, ''), identifier, name, description, token_lifetime_seconds,
	require_sender_constrained, publish_metadata, allowed_plans, allowed_orgs, created_at, updated_at`

func scanAPI(row interface{ Scan(...any) error }) (API, error) {
	var a API
	var ttl, sender, publish, created, updated int64
	var plans, orgs string
	if err := row.Scan(&a.ID, &a.OrgID, &a.Identifier, &a.Name, &a.Description, &ttl, &sender, &publish,
		&plans, &orgs, &created, &updated); err != nil {
		return a, err
	}
	a.TokenTTL = time.Duration(ttl) * time.Second
	a.RequireSenderConstrained, a.PublishMetadata = sender != 0, publish != 0
	if err := json.Unmarshal([]byte(plans), &a.AllowedPlans); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(orgs), &a.AllowedOrgs); err != nil {
		return a, err
	}
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	return a, nil
}

// loadAPIScopes fills in the scopes of each API.
func (s *Store) loadAPIScopes(ctx context.Context, apis []API) error {
	if len(apis) == 0 {
		return nil
	}
	idx := map[string]int{}
	for i := range apis {
		idx[apis[i].ID] = i
		apis[i].Scopes = []APIScope{}
	}
	rows, err := s.q.QueryContext(ctx, `SELECT api_id, name, description FROM oauth_scopes WHERE api_id IS NOT NULL ORDER BY name`)
	if err != nil {
		return fmt.Errorf("store: api scopes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var apiID string
		var sc APIScope
		if err := rows.Scan(&apiID, &sc.Name, &sc.Description); err != nil {
			return err
		}
		if i, ok := idx[apiID]; ok {
			apis[i].Scopes = append(apis[i].Scopes, sc)
		}
	}
	return rows.Err()
}

func (s *Store) apisWhere(ctx context.Context, where string, args ...any) ([]API, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+apiColumns+` FROM oauth_apis `+where+` ORDER BY identifier`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: apis: %w", err)
	}
	var out []API
	for rows.Next() {
		a, err := scanAPI(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.loadAPIScopes(ctx, out)
}

// APIs lists every registered API, the platform's and every
// organization's: for the platform admin and the authorization server.
func (s *Store) APIs(ctx context.Context) ([]API, error) { return s.apisWhere(ctx, "") }

// OrgAPIs lists the APIs organization orgID registered.
func (s *Store) OrgAPIs(ctx context.Context, orgID string) ([]API, error) {
	return s.apisWhere(ctx, "WHERE org_id = ?", orgID)
}

// API returns an API by id. orgID "" is the platform admin's view (any
// API); otherwise an API of another owner is ErrNotFound.
func (s *Store) API(ctx context.Context, orgID, id string) (API, error) {
	where, args := "WHERE id = ?", []any{id}
	if orgID != "" {
		where, args = "WHERE id = ? AND org_id = ?", []any{id, orgID}
	}
	list, err := s.apisWhere(ctx, where, args...)
	if err != nil {
		return API{}, err
	}
	if len(list) == 0 {
		return API{}, fmt.Errorf("store: api %q: %w", id, ErrNotFound)
	}
	return list[0], nil
}

// APIByIdentifier returns the API whose identifier is exactly identifier.
func (s *Store) APIByIdentifier(ctx context.Context, identifier string) (API, error) {
	list, err := s.apisWhere(ctx, "WHERE identifier = ?", identifier)
	if err != nil {
		return API{}, err
	}
	if len(list) == 0 {
		return API{}, fmt.Errorf("store: api %q: %w", identifier, ErrNotFound)
	}
	return list[0], nil
}

// CreateAPI registers an API with its scopes. A taken identifier or scope
// name is ErrAlreadyExists.
func (s *Store) CreateAPI(ctx context.Context, a *API) error {
	return s.InTx(ctx, func(tx *Store) error {
		if a.ID == "" {
			a.ID = NewID()
		}
		a.CreatedAt = tx.Now()
		a.UpdatedAt = a.CreatedAt
		plans, orgs := jsonList(a.AllowedPlans), jsonList(a.AllowedOrgs)
		_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_apis (id, org_id, identifier, name, description,
			token_lifetime_seconds, require_sender_constrained, publish_metadata, allowed_plans, allowed_orgs,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, nullString(a.OrgID), a.Identifier, a.Name, a.Description, int64(a.TokenTTL/time.Second),
			boolInt(a.RequireSenderConstrained), boolInt(a.PublishMetadata), plans, orgs, ms(a.CreatedAt), ms(a.UpdatedAt))
		if isUniqueViolation(err) {
			return fmt.Errorf("store: api %q: %w", a.Identifier, ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("store: create api: %w", err)
		}
		return tx.putAPIScopes(ctx, a)
	})
}

// putAPIScopes makes the API's stored scopes exactly a.Scopes.
func (s *Store) putAPIScopes(ctx context.Context, a *API) error {
	if _, err := s.q.ExecContext(ctx, `DELETE FROM oauth_scopes WHERE api_id = ?`, a.ID); err != nil {
		return fmt.Errorf("store: api scopes: %w", err)
	}
	for _, sc := range a.Scopes {
		_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_scopes (name, description, api_id, created_at) VALUES (?, ?, ?, ?)`,
			sc.Name, sc.Description, a.ID, ms(a.UpdatedAt))
		if isUniqueViolation(err) {
			return fmt.Errorf("store: scope %q: %w", sc.Name, ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("store: api scope: %w", err)
		}
	}
	return nil
}

// UpdateAPI changes an API (and its scopes) in one transaction; orgID as
// for API. It returns the API before and after.
func (s *Store) UpdateAPI(ctx context.Context, orgID, id string, update func(*API) error) (before, after API, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		if before, err = tx.API(ctx, orgID, id); err != nil {
			return err
		}
		after = before
		after.Scopes = slices.Clone(before.Scopes)
		after.AllowedPlans, after.AllowedOrgs = slices.Clone(before.AllowedPlans), slices.Clone(before.AllowedOrgs)
		if err := update(&after); err != nil {
			return err
		}
		after.ID, after.OrgID, after.CreatedAt, after.UpdatedAt = before.ID, before.OrgID, before.CreatedAt, tx.Now()
		_, err := tx.q.ExecContext(ctx, `UPDATE oauth_apis SET identifier = ?, name = ?, description = ?,
			token_lifetime_seconds = ?, require_sender_constrained = ?, publish_metadata = ?, allowed_plans = ?,
			allowed_orgs = ?, updated_at = ? WHERE id = ?`,
			after.Identifier, after.Name, after.Description, int64(after.TokenTTL/time.Second),
			boolInt(after.RequireSenderConstrained), boolInt(after.PublishMetadata), jsonList(after.AllowedPlans),
			jsonList(after.AllowedOrgs), ms(after.UpdatedAt), id)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: api %q: %w", after.Identifier, ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("store: update api: %w", err)
		}
		return tx.putAPIScopes(ctx, &after)
	})
	return before, after, err
}

// DeleteAPI removes an API and its scopes; orgID as for API.
func (s *Store) DeleteAPI(ctx context.Context, orgID, id string) error {
	q, args := `DELETE FROM oauth_apis WHERE id = ?`, []any{id}
	if orgID != "" {
		q, args = `DELETE FROM oauth_apis WHERE id = ? AND org_id = ?`, []any{id, orgID}
	}
	res, err := s.q.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: delete api: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete api %q: %w", id, ErrNotFound)
	}
	return nil
}

func jsonList(v []string) string {
	b, _ := json.Marshal(nonNil(v))
	return string(b)
}

// nullString stores "" as NULL.
func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}
