package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/federation"
	"portico/partners"
	"portico/policyeditor"
	"portico/store"
	"portico/webhooks"
)

// Prefix is where the API lives.
const Prefix = "/api/v1"

// AdminScope is the scope a client-credentials access token must carry to
// reach the API (besides a grant to its client).
const AdminScope = "portico:admin"

// TokenVerifier checks Portico's own access tokens (authserver.Server).
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token string) (authserver.AccessToken, error)
}

// Config is what the API needs; handlers.New fills it in.
type Config struct {
	Store *store.Store
	// Registrar writes clients, scopes and APIs; nil answers those routes
	// with 503.
	Registrar *authserver.Registrar
	// Verifier checks client-credentials access tokens; nil accepts API
	// tokens only.
	Verifier TokenVerifier
	// Federation writes sign-in connections; nil answers them with 503.
	Federation *federation.Service
	// Issuers manages trusted token issuers; nil answers them with 503.
	Issuers IssuerRegistry
	// Locator finds countries for policy evaluation; nil knows none.
	Locator policyeditor.Locator
	// Sealer encrypts new signing keys; nil answers key rotation with 503.
	Sealer *store.Sealer
	// Webhooks is the service the portal's webhook pages use; nil builds
	// one on Store and Sealer (without a Sealer, creating a webhook or an
	// inbound hook answers 503).
	Webhooks *webhooks.Service
	Issuer   string
	Now      func() time.Time
	Log      *slog.Logger
}

// API is the mounted admin API.
type API struct {
	cfg      Config
	partners *partners.Service
	routes   []route
}

// access says who may call a route.
type access int

const (
	public        access = iota // no credential (the OpenAPI document)
	anyRead                     // any credential; the handler narrows by scope
	anyWrite                    // any credential with the admin role; the handler narrows by scope
	orgRead                     // a platform credential, or one of the :org in the path
	orgWrite                    // the same with the admin role
	platformRead                // platform credentials only
	platformWrite               // platform credentials with the admin role
)

// writes: the route changes something (and needs the admin role).
func (x access) writes() bool { return x == orgWrite || x == platformWrite || x == anyWrite }

// route is one operation: how it is mounted and how it is documented.
type route struct {
	Method, Path string // echo path below Prefix, with :params
	Op           string // operationId
	Summary      string
	Tag          string
	Access       access
	In           reflect.Type // request body; nil for none
	Out          reflect.Type // response body; nil for 204
	List         bool         // Out is the item type of a page
	Create       bool         // takes Idempotency-Key; answers 201
	// Secret: the answer holds a secret shown once (a token, a client
	// secret, an invitation link, a generated password), which is never
	// stored for an idempotent replay.
	Secret bool
	Update bool // takes If-Match
	Query  []queryParam
	H      func(c *call) error
}

// queryParam is a documented query parameter.
type queryParam struct {
	Name, Description string
}

// call is one request as a route handler sees it: the caller, and the
// organization named in the path when the route has :org.
type call struct {
	echo.Context
	api *API
	p   *principal
	org store.Organization
}

// New builds the API and its route table.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	a := &API{cfg: cfg, partners: &partners.Service{Store: cfg.Store, Now: cfg.Now}}
	a.routes = a.table()
	return a
}

// Routes lists the method and echo path of every operation, for tests.
func (a *API) Routes() [][2]string {
	out := make([][2]string, 0, len(a.routes))
	for _, r := range a.routes {
		out = append(out, [2]string{r.Method, Prefix + r.Path})
	}
	return out
}

// Mount registers every route on e, outside the portal's session and CSRF
// middleware: the API reads no cookie.
func (a *API) Mount(e *echo.Echo) {
	g := e.Group(Prefix)
	for _, r := range a.routes {
		g.Add(r.Method, r.Path, a.handle(r))
	}
	notFound := func(c echo.Context) error {
		return writeProblem(c, problem{Status: http.StatusNotFound, Detail: "No such route in the admin API."})
	}
	g.Any("", notFound)
	g.Any("/*", notFound)
}

// handle wraps a route: authentication, access, the organization in the
// path, idempotency, and errors as problem details.
func (a *API) handle(r route) echo.HandlerFunc {
	return func(ec echo.Context) error {
		ec.Response().Header().Set("Cache-Control", "no-store")
		c := &call{Context: ec, api: a}
		if r.Access == public {
			return a.answer(c, r.H(c))
		}
		p, err := a.authenticate(ec)
		if err != nil {
			return a.answer(c, err)
		}
		c.p = p
		err = a.authorize(c, r)
		if err == nil {
			if r.Create && ec.Request().Header.Get("Idempotency-Key") != "" {
				err = a.idempotent(c, r)
			} else {
				err = r.H(c)
			}
		}
		err = a.answer(c, err)
		a.recordUse(c, r)
		return err
	}
}

// authorize checks the caller against the route and loads :org.
func (a *API) authorize(c *call, r route) error {
	if r.Access.writes() && c.p.Token.Role != store.APIRoleAdmin {
		return problem{Status: http.StatusForbidden, Detail: "This credential may only read."}
	}
	if (r.Access == platformRead || r.Access == platformWrite) && c.p.Token.OrgID != "" {
		return problem{Status: http.StatusForbidden, Detail: "This route needs a platform credential."}
	}
	if strings.Contains(r.Path, ":org") {
		org, err := a.orgParam(c.Request().Context(), c.Param("org"))
		if err != nil {
			return err
		}
		// Another organization's data is "not found", never "forbidden":
		// a scoped credential learns nothing about what else exists.
		if c.p.Token.OrgID != "" && org.ID != c.p.Token.OrgID {
			return problem{Status: http.StatusNotFound, Detail: "No such organization."}
		}
		c.org = org
	}
	return nil
}

// orgParam finds an organization by slug or ID.
func (a *API) orgParam(ctx context.Context, v string) (store.Organization, error) {
	o, err := a.cfg.Store.OrganizationBySlug(ctx, v)
	if errors.Is(err, store.ErrNotFound) {
		o, err = a.cfg.Store.Organization(ctx, v)
	}
	if errors.Is(err, store.ErrNotFound) {
		return o, problem{Status: http.StatusNotFound, Detail: "No such organization."}
	}
	return o, err
}

// manager is the caller as the partners service sees them.
func (c *call) manager() partners.Manager {
	return c.p.manager()
}

// actor is the caller as audit events name them.
func (c *call) actor() store.Actor { return c.p.actor() }

// ctx is the request's context.
func (c *call) ctx() context.Context { return c.Request().Context() }

// bind decodes the JSON body into v, refusing unknown fields, so a typo in
// a field name is an error rather than a silent no-op.
func (c *call) bind(v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return problem{Status: http.StatusBadRequest, Detail: "The request body could not be read."}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return problem{Status: http.StatusBadRequest, Detail: "The request body is not the expected JSON: " + err.Error()}
	}
	if d.More() {
		return problem{Status: http.StatusBadRequest, Detail: "The request body has data after the JSON value."}
	}
	return nil
}

// json writes v with status.
func (c *call) json(status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, echo.MIMEApplicationJSON, append(b, '\n'))
}

// created answers 201 with a Location.
func (c *call) created(location string, v any) error {
	c.Response().Header().Set(echo.HeaderLocation, Prefix+location)
	return c.json(http.StatusCreated, v)
}

// answer writes err, if any, as a problem.
func (a *API) answer(c *call, err error) error {
	if err == nil || c.Response().Committed {
		return nil
	}
	p := a.toProblem(c, err)
	return writeProblem(c, p)
}
