package adminapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/partners"
	"portico/store"
)

// principal is the credential a request came with: an API token, or the
// grant of the client whose access token it presented.
type principal struct {
	Token store.APIToken
	// ClientID is set when the caller presented a client-credentials
	// access token.
	ClientID string
}

// actor is how audit events name the caller: by the credential's ID, so
// every change made through the API leads back to one token or grant.
func (p *principal) actor() store.Actor {
	if p.ClientID != "" {
		return store.Actor{Label: "api-client:" + p.ClientID + " (grant " + p.Token.ID + ")"}
	}
	return store.Actor{Label: "api-token:" + p.Token.ID}
}

// manager is the caller as the partners service sees them: a platform
// credential is a platform admin, an organization's credential that
// organization's admin. A read credential gets the same rank so that the
// service lets it read (groups, tokens); it never reaches a write, which
// authorize refuses first for every route marked as one.
func (p *principal) manager() partners.Manager {
	return partners.Manager{Actor: p.actor(), OrgID: p.Token.OrgID, Role: store.RoleAdmin, PlatformAdmin: p.Token.OrgID == "",
		TokenID: p.Token.ID}
}

func unauthorized(detail string) problem {
	return problem{Status: http.StatusUnauthorized, Detail: detail,
		challenge: `Bearer realm="portico-admin-api", error="invalid_token"`}
}

// authenticate reads the Authorization header, and nothing else: cookies
// are never looked at, so a browser's session cannot be ridden into the
// API.
func (a *API) authenticate(c echo.Context) (*principal, error) {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return nil, problem{Status: http.StatusUnauthorized, Detail: "Send an API token or an access token as Authorization: Bearer.",
			challenge: `Bearer realm="portico-admin-api"`}
	}
	tok = strings.TrimSpace(tok)
	ctx := c.Request().Context()
	now := a.cfg.Now()
	if strings.HasPrefix(tok, partners.APITokenPrefix) {
		t, err := a.cfg.Store.APITokenByHash(ctx, partners.HashAPIToken(tok))
		if errors.Is(err, store.ErrNotFound) {
			return nil, unauthorized("The API token is not valid.")
		}
		if err != nil {
			return nil, err
		}
		if !t.Usable(now) {
			return nil, unauthorized("The API token has expired or was revoked.")
		}
		// An organization's token stops with its organization, as its
		// members' sessions and its apps' tokens do (a client grant is
		// checked through VerifyAccessToken below).
		if t.OrgID != "" {
			o, err := a.cfg.Store.Organization(ctx, t.OrgID)
			if errors.Is(err, store.ErrNotFound) {
				return nil, unauthorized("The API token is not valid.")
			}
			if err != nil {
				return nil, err
			}
			if r := o.InactiveReason(now); r != "" {
				return nil, unauthorized("The API token's organization may not use the API now: " + r + ".")
			}
		}
		if r, err := a.partners.MakerStanding(ctx, t); err != nil {
			return nil, err
		} else if r != "" {
			return nil, unauthorized("The API token no longer works: " + r + ".")
		}
		return &principal{Token: t}, nil
	}
	if a.cfg.Verifier == nil {
		return nil, unauthorized("The token is not valid.")
	}
	at, err := a.cfg.Verifier.VerifyAccessToken(ctx, tok)
	if errors.Is(err, authserver.ErrTokenNotValid) {
		return nil, unauthorized("The token is not valid.")
	}
	if err != nil {
		return nil, err
	}
	if at.User || at.SenderConstrained {
		// Grants are for machines; a DPoP-bound token needs a proof this
		// API does not check.
		return nil, unauthorized("Use a client-credentials access token without DPoP binding.")
	}
	if !slices.Contains(at.Scopes, AdminScope) {
		return nil, problem{Status: http.StatusForbidden, Detail: "The access token lacks the " + AdminScope + " scope.",
			challenge: `Bearer realm="portico-admin-api", error="insufficient_scope", scope="` + AdminScope + `"`}
	}
	g, err := a.cfg.Store.APITokenByClient(ctx, at.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem{Status: http.StatusForbidden, Detail: "This client has no admin API grant."}
	}
	if err != nil {
		return nil, err
	}
	if !g.Usable(now) {
		return nil, problem{Status: http.StatusForbidden, Detail: "This client's admin API grant has expired or was revoked."}
	}
	if g.OrgID != "" && g.OrgID != at.OrgID {
		return nil, problem{Status: http.StatusForbidden, Detail: "This client's admin API grant is for another organization."}
	}
	if g.OrgID == "" {
		// A platform-wide grant works only for a client of the platform's
		// own organization, also one made before that rule (or whose
		// organization has since lost its platform admins).
		platform, err := a.partners.IsPlatformOrg(ctx, at.OrgID)
		if err != nil {
			return nil, err
		}
		if !platform {
			return nil, problem{Status: http.StatusForbidden, Detail: "A platform-wide grant is not valid for a partner organization's client."}
		}
	}
	if r, err := a.partners.MakerStanding(ctx, g); err != nil {
		return nil, err
	} else if r != "" {
		return nil, problem{Status: http.StatusForbidden, Detail: "This client's admin API grant no longer works: " + r + "."}
	}
	return &principal{Token: g, ClientID: at.ClientID}, nil
}

// recordUse notes when the credential was last used and audits every
// call of a route that writes, whatever its outcome (a refused attempt to
// change something is worth knowing), with the credential's ID. Reads are
// not audited: a provisioning script polling lists would bury the changes
// under its reads, and cost a write each.
func (a *API) recordUse(c *call, r route) {
	if c.p == nil {
		return
	}
	ctx := c.Request().Context()
	now := a.cfg.Now()
	if err := a.cfg.Store.TouchAPIToken(ctx, c.p.Token.ID, now); err != nil {
		a.cfg.Log.Warn("admin api: touch token", "err", err)
	}
	if !r.Access.writes() {
		return
	}
	ev := c.actor().Event(c.p.Token.OrgID, "api.call", "api_token", c.p.Token.ID)
	use := map[string]any{"method": c.Request().Method, "path": c.Request().URL.Path, "operation": r.Op,
		"status": c.Response().Status}
	if err := a.cfg.Store.Audit(ctx, ev, nil, use); err != nil {
		a.cfg.Log.Warn("admin api: audit use", "err", err)
	}
}
