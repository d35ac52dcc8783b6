package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"portico/store"
)

// APIInput is what an admin submits to register or change an API (a
// resource server). The platform admin passes orgID "" to the Registrar's
// API methods; an organization's admin passes the organization.
type APIInput struct {
	Identifier  string           `json:"identifier"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Scopes      []store.APIScope `json:"scopes"`
	// TokenLifetime of access tokens for the API; 0 keeps the server's.
	TokenLifetime            time.Duration `json:"token_lifetime"`
	RequireSenderConstrained bool          `json:"require_sender_constrained"`
	PublishMetadata          bool          `json:"publish_metadata"`
	AllowedPlans             []string      `json:"allowed_plans"` // plan ids; the platform's APIs only
	AllowedOrgs              []string      `json:"allowed_orgs"`  // organization ids
}

// Bounds of an API's access-token lifetime.
const (
	minAPITokenLifetime = 30 * time.Second
	maxAPITokenLifetime = 24 * time.Hour
)

// validateAPI checks an input into an API owned by orgID ("" the platform).
func (r *Registrar) validateAPI(ctx context.Context, orgID, selfID string, in APIInput) (store.API, error) {
	var fe fieldErrors
	a := store.API{OrgID: orgID, Identifier: strings.TrimSpace(in.Identifier), Name: strings.TrimSpace(in.Name),
		Description: strings.TrimSpace(in.Description), TokenTTL: in.TokenLifetime,
		RequireSenderConstrained: in.RequireSenderConstrained, PublishMetadata: in.PublishMetadata,
		AllowedPlans: dedupe(in.AllowedPlans), AllowedOrgs: dedupe(in.AllowedOrgs)}
	if msg := validAPIIdentifier(a.Identifier); msg != "" {
		fe.add("identifier", "%s", msg)
	} else if orgID != "" {
		// An organization may name only its own hosts: otherwise it could
		// get tokens whose aud is someone else's API.
		org, err := r.st.Organization(ctx, orgID)
		if err != nil {
			return a, err
		}
		if !hostWithin(a.Identifier, org.Domains) {
			fe.add("identifier", "must be on one of the organization's domains (%s)", strings.Join(org.Domains, ", "))
		}
	}
	if a.Name == "" || len(a.Name) > 100 {
		fe.add("name", "is required (at most 100 characters)")
	}
	if len(a.Description) > 500 {
		fe.add("description", "must be at most 500 characters")
	}
	if a.TokenTTL != 0 && (a.TokenTTL < minAPITokenLifetime || a.TokenTTL > maxAPITokenLifetime) {
		fe.add("token_lifetime", "must be between %s and %s (or 0 for the server's default)", minAPITokenLifetime, maxAPITokenLifetime)
	}
	a.TokenTTL = a.TokenTTL.Truncate(time.Second)
	if len(in.Scopes) == 0 || len(in.Scopes) > 100 {
		fe.add("scopes", "an API needs 1 to 100 scopes")
	}
	seen := map[string]bool{}
	for i, sc := range in.Scopes {
		field := fmt.Sprintf("scopes[%d]", i)
		sc.Name = strings.TrimSpace(sc.Name)
		switch {
		case !validScopeToken(sc.Name):
			fe.add(field, "must be 1–200 printable ASCII characters without spaces, quotes or backslashes")
		case IsBuiltinScope(sc.Name):
			fe.add(field, "%q is a built-in OpenID Connect scope", sc.Name)
		case seen[sc.Name]:
			fe.add(field, "%q is listed twice", sc.Name)
		case len(sc.Description) > 500:
			fe.add(field, "the description must be at most 500 characters")
		}
		seen[sc.Name] = true
		a.Scopes = append(a.Scopes, store.APIScope{Name: sc.Name, Description: strings.TrimSpace(sc.Description)})
	}
	// A scope name is global: it may not be a portal scope or another API's.
	if registry, err := r.st.Scopes(ctx); err != nil {
		return a, err
	} else {
		for i, sc := range a.Scopes {
			if j := slices.IndexFunc(registry, func(s store.Scope) bool { return s.Name == sc.Name }); j >= 0 &&
				(registry[j].APIID == "" || registry[j].APIID != selfID) {
				fe.add(fmt.Sprintf("scopes[%d]", i), "%q is already a scope of the portal or another API", sc.Name)
			}
		}
	}
	if orgID != "" && len(a.AllowedPlans) > 0 {
		fe.add("allowed_plans", "only the platform's APIs can be opened to a plan")
	}
	for i, id := range a.AllowedPlans {
		if _, err := r.st.Plan(ctx, id); errors.Is(err, store.ErrNotFound) {
			fe.add(fmt.Sprintf("allowed_plans[%d]", i), "%q is not a plan", id)
		} else if err != nil {
			return a, err
		}
	}
	for i, id := range a.AllowedOrgs {
		if _, err := r.st.Organization(ctx, id); errors.Is(err, store.ErrNotFound) {
			fe.add(fmt.Sprintf("allowed_orgs[%d]", i), "%q is not an organization", id)
		} else if err != nil {
			return a, err
		}
	}
	return a, fe.err()
}

// validAPIIdentifier checks RFC 8707 §2: an absolute URI without a
// fragment (and, as it recommends, without a query); https, or http on a
// loopback address for development.
func validAPIIdentifier(raw string) string {
	if raw == "" || len(raw) > 2000 {
		return "is required (an https URI, at most 2000 characters)"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "must be an absolute URI"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	case u.RawQuery != "" || strings.Contains(raw, "?"):
		return "must not have a query"
	case u.User != nil:
		return "must not contain user information"
	}
	return validWebURL(raw)
}

// hostWithin reports whether the URL's host is one of domains or below one.
func hostWithin(raw string, domains []string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, d := range domains {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// CreateAPI registers an API for organization orgID ("" the platform) and
// records it in the audit log.
func (r *Registrar) CreateAPI(ctx context.Context, orgID string, actor Actor, in APIInput) (store.API, error) {
	a, err := r.validateAPI(ctx, orgID, "", in)
	if err != nil {
		return a, err
	}
	err = r.st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateAPI(ctx, &a); err != nil {
			return apiConflict(err)
		}
		return tx.Audit(ctx, auditEvent(actor, orgID, "api.create", "api", a.ID), nil, a)
	})
	return a, err
}

// UpdateAPI replaces an API's settings and scopes. orgID as for CreateAPI;
// another owner's API is store.ErrNotFound.
func (r *Registrar) UpdateAPI(ctx context.Context, orgID, id string, actor Actor, in APIInput) (store.API, error) {
	cur, err := r.st.API(ctx, orgID, id)
	if err != nil {
		return cur, err
	}
	next, err := r.validateAPI(ctx, cur.OrgID, cur.ID, in)
	if err != nil {
		return cur, err
	}
	var after store.API
	err = r.st.InTx(ctx, func(tx *store.Store) error {
		var before store.API
		before, after, err = tx.UpdateAPI(ctx, orgID, id, func(a *store.API) error {
			a.Identifier, a.Name, a.Description, a.Scopes, a.TokenTTL = next.Identifier, next.Name, next.Description, next.Scopes, next.TokenTTL
			a.RequireSenderConstrained, a.PublishMetadata = next.RequireSenderConstrained, next.PublishMetadata
			a.AllowedPlans, a.AllowedOrgs = next.AllowedPlans, next.AllowedOrgs
			return nil
		})
		if err != nil {
			return apiConflict(err)
		}
		return tx.Audit(ctx, auditEvent(actor, cur.OrgID, "api.update", "api", id), before, after)
	})
	return after, err
}

// DeleteAPI removes an API and its scopes; tokens already issued for it
// live out their lifetime, and its grants stop refreshing.
func (r *Registrar) DeleteAPI(ctx context.Context, orgID, id string, actor Actor) error {
	return r.st.InTx(ctx, func(tx *store.Store) error {
		a, err := tx.API(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteAPI(ctx, orgID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, a.OrgID, "api.delete", "api", id), a, nil)
	})
}

// apiConflict turns a taken identifier or scope name into a field error.
func apiConflict(err error) error {
	if errors.Is(err, store.ErrAlreadyExists) {
		return &ValidationError{Fields: []FieldError{{Field: "identifier",
			Message: "the identifier or one of the scope names is already registered"}}}
	}
	return err
}

// SetOrgClientMetadata records whether organization orgID lets its users
// sign in to clients identified by a Client ID Metadata Document.
func (r *Registrar) SetOrgClientMetadata(ctx context.Context, orgID string, actor Actor, allow bool) error {
	return r.st.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.Organization(ctx, orgID); err != nil {
			return err
		}
		before, err := tx.OrgAllowsClientMetadata(ctx, orgID)
		if err != nil {
			return err
		}
		if err := tx.SetOrgAllowsClientMetadata(ctx, orgID, allow); err != nil {
			return err
		}
		type setting struct {
			AllowClientMetadata bool `json:"allow_client_metadata"`
		}
		return tx.Audit(ctx, auditEvent(actor, orgID, "org.client_metadata", "organization", orgID),
			setting{before}, setting{allow})
	})
}
