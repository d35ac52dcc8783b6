package adminapi

import (
	"encoding/json"
	"net/http"
	"time"

	"portico/authserver"
	"portico/partners"
	"portico/store"
)

// AuditEvent is an audit event as the API shows it (the CLI's audit list).
type AuditEvent struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	OrgID      string          `json:"org_id,omitempty"`
	OrgSlug    string          `json:"org_slug,omitempty"`
	ActorID    string          `json:"actor_id,omitempty"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
}

var auditQuery = append(append([]queryParam{}, pageQuery[:3]...), queryParam{"q", "filter: the actor is this (an email, api-token:ID, or cli)"})

// audit lists the audit log of orgID ("" for every organization and the
// platform's own changes).
func (a *API) audit(c *call, orgID string) error {
	page, err := c.page()
	if err != nil {
		return err
	}
	events, info, err := a.cfg.Store.AuditPage(c.ctx(), orgID, page)
	if err != nil {
		return err
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.OrgID
	}
	slugs, err := a.cfg.Store.OrgSlugs(c.ctx(), ids)
	if err != nil {
		return err
	}
	out := make([]AuditEvent, 0, len(events))
	for _, e := range events {
		out = append(out, AuditEvent{ID: e.ID, At: e.At, OrgID: e.OrgID, OrgSlug: slugs[e.OrgID], ActorID: e.ActorID,
			Actor: e.Actor, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Before: e.Before, After: e.After})
	}
	return list(c, out, info)
}

func (a *API) platformAudit(c *call) error { return a.audit(c, "") }
func (a *API) orgAudit(c *call) error      { return a.audit(c, c.org.ID) }

var decisionQuery = append(append([]queryParam{}, pageQuery[:3]...),
	queryParam{"action", "only permit, deny or challenge"},
	queryParam{"client_id", "only this app"},
	queryParam{"user", "only this user (ID or email)"},
	queryParam{"point", "only this decision point"},
	queryParam{"since", "only decisions at or after this time (RFC 3339 or date)"},
	queryParam{"until", "only decisions before this time (RFC 3339 or date)"},
)

// decisions lists the decision log of orgID ("" for all), filtered.
func (a *API) decisions(c *call, orgID string) error {
	page, err := c.page()
	if err != nil {
		return err
	}
	f := store.DecisionFilter{OrgID: orgID, Action: c.QueryParam("action"), ClientID: c.QueryParam("client_id"),
		User: c.QueryParam("user"), Point: c.QueryParam("point")}
	errs := partners.FieldErrors{}
	for name, dst := range map[string]*time.Time{"since": &f.From, "until": &f.Until} {
		if v := c.QueryParam(name); v != "" {
			t, ok := parseWhen(v)
			if !ok {
				errs[name] = "Use an RFC 3339 time or a date."
			}
			*dst = t
		}
	}
	if len(errs) > 0 {
		return problem{Status: http.StatusBadRequest, Detail: "A filter is not valid; see errors.", Errors: errs}
	}
	ds, info, err := a.cfg.Store.DecisionPage(c.ctx(), f, page)
	if err != nil {
		return err
	}
	return list(c, ds, info)
}

func (a *API) platformDecisions(c *call) error { return a.decisions(c, "") }
func (a *API) orgDecisions(c *call) error      { return a.decisions(c, c.org.ID) }

// ScopeBody registers a portal-wide scope.
type ScopeBody struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (a *API) listScopes(c *call) error {
	scs, err := a.cfg.Store.Scopes(c.ctx())
	if err != nil {
		return err
	}
	return list(c, scs, store.PageInfo{})
}

func (a *API) createScope(c *call) error {
	if a.cfg.Registrar == nil {
		return errNoRegistrar
	}
	var b ScopeBody
	if err := c.bind(&b); err != nil {
		return err
	}
	sc, err := a.cfg.Registrar.CreateScope(c.ctx(), c.actor(), b.Name, b.Description)
	if err != nil {
		return err
	}
	return c.created("/scopes", sc)
}

// SigningKey is a new token-signing key.
type SigningKey struct {
	KID       string    `json:"kid"`
	Alg       string    `json:"alg"`
	CreatedAt time.Time `json:"created_at"`
}

func (a *API) rotateKeys(c *call) error {
	if a.cfg.Sealer == nil {
		return errNoRegistrar
	}
	keys, err := authserver.RotateKeys(c.ctx(), a.cfg.Store, a.cfg.Sealer, c.actor(), a.cfg.Now())
	if err != nil {
		return err
	}
	out := make([]SigningKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, SigningKey{KID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt})
	}
	return c.json(http.StatusOK, out)
}

// RegistrationTokenBody makes an initial access token for dynamic client
// registration: expires_in_hours 0 never expires, max_uses 0 is unlimited.
type RegistrationTokenBody struct {
	Description    string `json:"description"`
	ExpiresInHours int    `json:"expires_in_hours,omitempty"`
	MaxUses        int    `json:"max_uses,omitempty"`
}

// NewRegistrationToken is a created initial access token; token appears
// only in this answer.
type NewRegistrationToken struct {
	store.RegistrationToken
	Token string `json:"token"`
}

func (a *API) createRegistrationToken(c *call) error {
	if a.cfg.Registrar == nil {
		return errNoRegistrar
	}
	var b RegistrationTokenBody
	if err := c.bind(&b); err != nil {
		return err
	}
	t, plain, err := a.cfg.Registrar.CreateRegistrationToken(c.ctx(), c.org.ID, c.actor(), authserver.RegistrationTokenInput{
		Description: b.Description, TTL: time.Duration(b.ExpiresInHours) * time.Hour, MaxUses: b.MaxUses})
	if err != nil {
		return err
	}
	return c.created("/orgs/"+c.org.Slug+"/registration-tokens/"+t.ID, NewRegistrationToken{RegistrationToken: t, Token: plain})
}
