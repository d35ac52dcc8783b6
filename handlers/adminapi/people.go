package adminapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"portico/federation"
	"portico/federation/pool"
	"portico/store"
)

// UserBody creates an identity-pool user; without a password one is
// generated and shown once.
type UserBody struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Password *string  `json:"password,omitempty"`
	Role     string   `json:"role,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

// User is an identity-pool user; password appears only when generated.
type User struct {
	ID         string            `json:"id"`
	OrgID      string            `json:"org_id"`
	Email      string            `json:"email"`
	Name       string            `json:"name"`
	Role       string            `json:"role"`
	Groups     []string          `json:"groups"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Password   string            `json:"password,omitempty"`
}

func userOut(u store.User) User {
	g := u.LocalGroups
	if g == nil {
		g = []string{}
	}
	return User{ID: u.ID, OrgID: u.OrgID, Email: u.Email, Name: u.Name, Role: string(u.Role), Groups: g, Attributes: u.Attributes}
}

// ResetLinkBody issues a password reset link that works for
// expires_in_hours (1 to 168, default the pool's).
type ResetLinkBody struct {
	ExpiresInHours int `json:"expires_in_hours,omitempty"`
}

// ResetLinkOut is an issued reset link; the URL holds the only copy of the
// token.
type ResetLinkOut struct {
	URL       string    `json:"url"`
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expires_at"`
}

// AttributeBody sets an attribute: a comma-separated list; "" removes it.
type AttributeBody struct {
	Value string `json:"value"`
}

func (a *API) accounts() *pool.Accounts { return &pool.Accounts{Store: a.cfg.Store, Now: a.cfg.Now} }

func (a *API) createUser(c *call) error {
	var b UserBody
	if err := c.bind(&b); err != nil {
		return err
	}
	generated := ""
	if b.Password == nil {
		generated = pool.GeneratePassword()
		b.Password = &generated
	}
	role := store.Role(b.Role)
	if role == "" {
		role = store.RoleMember
	}
	u, err := a.accounts().CreateUser(c.ctx(), c.actor(), c.org.ID, pool.NewUser{Email: b.Email, Name: b.Name,
		Password: *b.Password, Role: role, Groups: b.Groups})
	if err != nil {
		return err
	}
	out := userOut(u)
	out.Password = generated
	return c.created("/orgs/"+c.org.Slug+"/members/"+u.ID, out)
}

func (a *API) resetLink(c *call) error {
	var b ResetLinkBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.ExpiresInHours < 0 || b.ExpiresInHours > 168 {
		return problem{Status: http.StatusUnprocessableEntity, Detail: "The input has problems; see errors.",
			Errors: map[string]string{"expires_in_hours": "Choose from 1 to 168 hours."}}
	}
	acc := a.accounts()
	acc.ResetTTL = time.Duration(b.ExpiresInHours) * time.Hour
	link, err := acc.IssueResetLink(c.ctx(), pool.Issuer{Actor: c.actor(), PlatformAdmin: c.p.Token.OrgID == ""}, c.org.ID, c.Param("id"))
	switch {
	case errors.Is(err, pool.ErrNotPoolUser):
		return problem{Status: http.StatusConflict, Detail: "This user signs in through an identity provider and has no Portico password."}
	case errors.Is(err, pool.ErrPlatformAdminTarget):
		return problem{Status: http.StatusForbidden, Detail: "Only a platform credential resets a platform admin's password."}
	case err != nil:
		return err
	}
	return c.json(http.StatusOK, ResetLinkOut{URL: link.URL(a.cfg.Issuer), Email: link.Email, ExpiresAt: link.ExpiresAt.UTC()})
}

func (a *API) setAttribute(c *call) error {
	var b AttributeBody
	if err := c.bind(&b); err != nil {
		return err
	}
	u, err := a.accounts().SetAttribute(c.ctx(), c.actor(), c.org.ID, c.Param("id"), c.Param("name"), b.Value)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, userOut(u))
}

// Connection is a sign-in connection; its secret is never shown, only
// whether there is one.
type Connection struct {
	ID          string            `json:"id"`
	OrgID       string            `json:"org_id"`
	Type        string            `json:"type"`
	Name        string            `json:"name"`
	Enabled     bool              `json:"enabled"`
	ShowOnLogin bool              `json:"show_on_login"`
	HasSecret   bool              `json:"has_secret"`
	Settings    map[string]string `json:"settings"`
	Version     int64             `json:"version"`
}

// ConnectionBody creates (type required) or changes a connection. settings
// are the type's settings by key (as `portico connection create` takes
// them as flags); secret replaces the stored secret and is never returned.
type ConnectionBody struct {
	Type        string            `json:"type,omitempty"`
	Name        *string           `json:"name,omitempty"`
	Enabled     *bool             `json:"enabled,omitempty"`
	ShowOnLogin *bool             `json:"show_on_login,omitempty"`
	Settings    map[string]string `json:"settings,omitempty"`
	Secret      *string           `json:"secret,omitempty"`
}

func (a *API) connectionOut(x store.Connection) Connection {
	j := Connection{ID: x.ID, OrgID: x.OrgID, Type: x.Type, Name: x.Name, Enabled: x.Enabled, ShowOnLogin: x.ShowOnLogin,
		HasSecret: len(x.Secret) > 0, Version: x.Version, Settings: map[string]string{}}
	if cfg, err := a.cfg.Federation.Registry.Decode(x.Type, x.Config); err == nil {
		j.Settings = cfg.Settings()
	}
	return j
}

var errNoFederation = problem{Status: http.StatusServiceUnavailable, Detail: "Sign-in connections are not configured in this portal."}

func (a *API) listConnections(c *call) error {
	if a.cfg.Federation == nil {
		return errNoFederation
	}
	xs, err := a.cfg.Store.Connections(c.ctx(), c.org.ID)
	if err != nil {
		return err
	}
	out := make([]Connection, 0, len(xs))
	for _, x := range xs {
		out = append(out, a.connectionOut(x))
	}
	return list(c, out, store.PageInfo{})
}

func (b ConnectionBody) input() federation.Input {
	s := b.Settings
	if s == nil {
		s = map[string]string{}
	}
	return federation.Input{Type: strings.TrimSpace(b.Type), Name: b.Name, Enabled: b.Enabled, ShowOnLogin: b.ShowOnLogin,
		Settings: s, Secret: b.Secret}
}

func (a *API) createConnection(c *call) error {
	if a.cfg.Federation == nil {
		return errNoFederation
	}
	var b ConnectionBody
	if err := c.bind(&b); err != nil {
		return err
	}
	x, err := a.cfg.Federation.Create(c.ctx(), c.actor(), c.org.ID, b.input())
	if err != nil {
		return err
	}
	return c.created("/orgs/"+c.org.Slug+"/connections/"+x.ID, a.connectionOut(x))
}

func (a *API) updateConnection(c *call) error {
	if a.cfg.Federation == nil {
		return errNoFederation
	}
	cur, err := a.cfg.Store.Connection(c.ctx(), c.org.ID, c.Param("id"))
	if err != nil {
		return err
	}
	var b ConnectionBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.Type != "" && b.Type != cur.Type {
		return problem{Status: http.StatusUnprocessableEntity, Detail: "The input has problems; see errors.",
			Errors: map[string]string{"type": "A connection's type does not change."}}
	}
	if err := c.ifMatch(a.connectionOut(cur)); err != nil {
		return err
	}
	in := b.input()
	in.Type = ""
	x, err := a.cfg.Federation.Update(c.ctx(), c.actor(), c.org.ID, cur.ID, in)
	if err != nil {
		return err
	}
	return c.withETag(a.connectionOut(x))
}
