package federation

import (
	"context"
	"net/http"
	"time"

	"portico/netguard"
)

// Identity is what an upstream says about the person who signed in.
type Identity struct {
	// Subject is the upstream's stable identifier for the person; it, not
	// the email, links later sign-ins to the same Portico user.
	Subject       string            `json:"sub"`
	Email         string            `json:"email"`
	EmailVerified bool              `json:"email_verified"`
	Name          string            `json:"name"`
	Groups        []string          `json:"groups,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	// AMR and ACR are what an OIDC upstream's ID token said about how the
	// person authenticated there (RFC 8176 amr, acr); empty when it did not.
	AMR []string `json:"amr,omitempty"`
	ACR string   `json:"acr,omitempty"`
}

// Connector is an opened connection. It is one of CallbackConnector or
// PasswordConnector, and may offer Tester or MetadataProvider.
type Connector interface{}

// CallbackConnector sends the browser to the upstream and handles its
// return to the callback.
type CallbackConnector interface {
	// LoginURL returns where to send the browser, and connData that the
	// caller keeps (sealed, server-side) until the callback: nonce, PKCE
	// verifier, SAML request ID. state is echoed back by the upstream.
	LoginURL(ctx context.Context, state string) (url string, connData []byte, err error)
	// HandleCallback checks the upstream's answer against connData and
	// returns who signed in. r is the callback request (query or POST form).
	HandleCallback(ctx context.Context, connData []byte, r *http.Request) (Identity, error)
}

// PasswordConnector checks an email and password itself (the sandbox IdP).
type PasswordConnector interface {
	// Login returns the identity and true for a right password, false for
	// a wrong one; err is for failures that are nobody's password.
	Login(ctx context.Context, email, password string) (Identity, bool, error)
}

// IdentityPool marks the connection type whose users Portico stores itself:
// the portal's own password sign-in (with its throttling, lockout and TOTP)
// handles them.
type IdentityPool interface {
	UsesIdentityPool()
}

// Tester is a connector that can check its upstream is reachable and
// configured, for the "test connection" button.
type Tester interface {
	Test(ctx context.Context) error
}

// MetadataProvider is a connector with metadata to give the upstream (a
// SAML service provider's metadata XML).
type MetadataProvider interface {
	Metadata() ([]byte, error)
}

// Env is what every connector gets from the portal when it is opened.
type Env struct {
	ConnectionID string
	OrgID        string
	// BaseURL is the portal's public base URL (the issuer).
	BaseURL string
	// CallbackURL is where upstreams return the browser; one URL for every
	// connection, since the state finds the pending sign-in.
	CallbackURL string
	// SAMLACSURL receives SAML responses by POST.
	SAMLACSURL string
	// SAMLMetadataURL is this connection's SP metadata URL, also its entity ID.
	SAMLMetadataURL string
	// HTTPClient makes every request to the upstream (discovery, metadata,
	// token, userinfo, keys). The portal gives one on netguard's dialer with
	// the operator's allow list; use it through Client.
	HTTPClient *http.Client
	Now        func() time.Time
}

// defaultClient reaches public addresses only; a process-wide value is
// fine here, since it holds no per-tenant state, only idle connections.
var defaultClient = netguard.Guard{}.Client(netguard.ClientOptions{})

// Client returns HTTPClient, or when there is none a netguard client that
// reaches public addresses only: an upstream URL comes from an org admin,
// so no connector may fetch it with an unguarded client.
func (e Env) Client() *http.Client {
	if e.HTTPClient != nil {
		return e.HTTPClient
	}
	return defaultClient
}
