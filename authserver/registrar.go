package authserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portico/store"
)

// Registrar is the business of client registration: the portal's pages, the
// CLI and dynamic client registration (RFC 7591/7592) all go through it, so
// validation, the registration gate and the audit trail are the same for all
// three. Every change commits together with its audit event; bad input
// leaves stored data untouched.
type Registrar struct {
	st   Store
	hash *hasher
	gate Gate
	now  func() time.Time
}

// RegistrarConfig configures NewRegistrar.
type RegistrarConfig struct {
	Store  Store
	Sealer *store.Sealer // unseals the secret-hashing key
	Gate   Gate          // nil means DefaultGate
	Now    func() time.Time
}

// NewRegistrar makes a Registrar without a Server, for the CLI. The portal
// uses (*Server).Registrar instead.
func NewRegistrar(ctx context.Context, cfg RegistrarConfig) (*Registrar, error) {
	if cfg.Store == nil || cfg.Sealer == nil {
		return nil, errors.New("authserver: Store and Sealer are required")
	}
	h, err := loadHasher(ctx, cfg.Store, cfg.Sealer)
	if err != nil {
		return nil, err
	}
	if cfg.Gate == nil {
		cfg.Gate = DefaultGate{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Registrar{st: cfg.Store, hash: h, gate: cfg.Gate, now: cfg.Now}, nil
}

// Actor is who makes a change, for the audit log: a user, or a label such
// as "cli" or "dcr". It is the store's audit actor, so the portal and the
// CLI pass the one they already have.
type Actor = store.Actor

// auditEvent starts an audit event made by a; an actor without a label is
// recorded as "unknown".
func auditEvent(a Actor, orgID, action, targetType, targetID string) store.AuditEvent {
	if a.Label == "" {
		a.Label = "unknown"
	}
	return a.Event(orgID, action, targetType, targetID)
}

// RegisterInput is a client as a person or a script describes it. Optional
// fields left empty take the client type's defaults.
type RegisterInput struct {
	Name                    string           `json:"name"`
	Type                    store.ClientType `json:"type"`
	RedirectURIs            []string         `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string         `json:"post_logout_redirect_uris"`
	Scopes                  []string         `json:"scopes"`
	GrantTypes              []string         `json:"grant_types"`
	LaunchURL               string           `json:"launch_url"`
	LogoURL                 string           `json:"logo_url"`
	TokenEndpointAuthMethod string           `json:"token_endpoint_auth_method"`
	JWKS                    string           `json:"jwks"`
	JWKSURI                 string           `json:"jwks_uri"`
	IDTokenSignedAlg        string           `json:"id_token_signed_response_alg"`
	// TrustedIssuerID binds the new client to one of the organization's
	// trusted issuers (JWT bearer). Never read from dynamic registration.
	TrustedIssuerID string `json:"-"`
	// DPoPBound is RFC 9449 §5.2's dpop_bound_access_tokens from dynamic
	// registration: the client always uses DPoP, so its token requests
	// without a proof are refused (it sets RequireDPoP). A client can turn
	// it on for itself; only an admin (SetSecurity) turns it off.
	DPoPBound bool `json:"-"`
}

// Register creates a client in organization orgID and returns it with the
// secret's plaintext (empty for public and private_key_jwt clients), which is
// shown once and never stored. Invalid input is a *ValidationError naming
// every bad field; a refusal by the registration gate matches
// ErrRegistrationDenied; an unknown organization is store.ErrNotFound.
func (r *Registrar) Register(ctx context.Context, orgID string, actor Actor, in RegisterInput) (store.Client, string, error) {
	c, secret, _, err := r.register(ctx, orgID, actor, in, false, nil)
	return c, secret, err
}

// register is Register for all front doors; also, inside the same
// transaction, runs (the dynamic registration's use of its initial token).
func (r *Registrar) register(ctx context.Context, orgID string, actor Actor, in RegisterInput, dynamic bool, also func(tx *store.Store) error) (c store.Client, secret, regToken string, err error) {
	org, plan, err := orgAndPlan(ctx, r.st, orgID)
	if err != nil {
		return c, "", "", err
	}
	c, err = r.validate(ctx, org, plan, in, nil)
	if err != nil {
		return c, "", "", err
	}
	if err := r.admit(ctx, org, plan, &c); err != nil {
		return c, "", "", err
	}
	c.OrgID, c.ClientID, c.Enabled, c.Dynamic = org.ID, store.NewID(), true, dynamic
	now := r.now()
	if c.Type.Confidential() && c.TokenEndpointAuthMethod != authPrivateJWT && c.TokenEndpointAuthMethod != authNone {
		secret = newToken()
		c.Secrets = []store.ClientSecret{{Hash: r.hash.sum(purposeSecret, secret), Hint: hint(secret), CreatedAt: now}}
	}
	if dynamic {
		regToken = newToken()
		c.RegistrationTokenHash = r.hash.sum(purposeRegAccess, regToken)
	}
	err = r.st.InTx(ctx, func(tx *store.Store) error {
		if limit := maxApps(plan); limit > 0 {
			n, err := tx.CountClients(ctx, org.ID)
			if err != nil {
				return err
			}
			if n >= limit {
				return &ValidationError{Fields: []FieldError{{Field: "type",
					Message: fmt.Sprintf("the organization's plan allows %d applications, and it has %d", limit, n)}}}
			}
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		if err := tx.CreateClient(ctx, &c); err != nil {
			return err
		}
		if in.TrustedIssuerID != "" {
			if err := tx.BindClientIssuer(ctx, org.ID, c.ClientID, in.TrustedIssuerID); errors.Is(err, store.ErrNotFound) {
				return &ValidationError{Fields: []FieldError{{Field: "trusted_issuer", Message: "is not a trusted issuer of this organization"}}}
			} else if err != nil {
				return err
			}
		}
		return tx.Audit(ctx, auditEvent(actor, org.ID, "client.create", "client", c.ID), nil, c)
	})
	if err != nil {
		return store.Client{}, "", "", err
	}
	return c, secret, regToken, nil
}

// admit runs the standing check and the registration gate.
func (r *Registrar) admit(ctx context.Context, org store.Organization, plan *store.Plan, c *store.Client) error {
	now := r.now()
	if reason := standing(now, org, nil, nil); reason != "" {
		return fmt.Errorf("%w: %s", ErrRegistrationDenied, reason)
	}
	v, err := r.gate.Check(ctx, GateRequest{Point: PointRegistration, Now: now, Org: org, Plan: plan,
		Registering: c, Scopes: c.Scopes})
	if err != nil {
		if _, ok := store.Unavailable(err); ok {
			return fmt.Errorf("authserver: registration decision: %w", err)
		}
		return fmt.Errorf("%w: the access decision failed: %v", ErrRegistrationDenied, err)
	}
	if v.Action != Permit {
		return fmt.Errorf("%w: %s", ErrRegistrationDenied, v.Reason)
	}
	return nil
}

func maxApps(p *store.Plan) int {
	if p == nil {
		return 0
	}
	n := 0
	for _, f := range p.Features {
		n = max(n, f.MaxApps)
	}
	return n
}

// hint is the end of a secret, to tell two live secrets apart in the UI.
func hint(secret string) string { return "…" + secret[len(secret)-4:] }

// Update changes a client's settings (not its type or secrets). The same
// validation as Register applies; the change and its audit event commit
// together.
func (r *Registrar) Update(ctx context.Context, orgID, clientID string, actor Actor, in RegisterInput) (store.Client, error) {
	cur, err := r.st.ClientByClientID(ctx, orgID, clientID)
	if err != nil {
		return store.Client{}, err
	}
	org, plan, err := orgAndPlan(ctx, r.st, orgID)
	if err != nil {
		return store.Client{}, err
	}
	next, err := r.validate(ctx, org, plan, in, &cur)
	if err != nil {
		return store.Client{}, err
	}
	if err := r.admit(ctx, org, plan, &next); err != nil {
		return store.Client{}, err
	}
	return r.change(ctx, orgID, cur.ID, actor, "client.update", func(c *store.Client) error {
		c.Name, c.RedirectURIs, c.PostLogoutRedirectURIs = next.Name, next.RedirectURIs, next.PostLogoutRedirectURIs
		c.Scopes, c.GrantTypes, c.LaunchURL, c.LogoURL = next.Scopes, next.GrantTypes, next.LaunchURL, next.LogoURL
		c.TokenEndpointAuthMethod, c.JWKS, c.JWKSURI = next.TokenEndpointAuthMethod, next.JWKS, next.JWKSURI
		c.IDTokenSignedAlg = next.IDTokenSignedAlg
		c.RequireDPoP = c.RequireDPoP || next.RequireDPoP
		return fapiFits(c).err() // a FAPI 2.0 client stays within the profile
	})
}

// change runs update on a client inside a transaction with its audit event.
func (r *Registrar) change(ctx context.Context, orgID, id string, actor Actor, action string, update func(*store.Client) error) (store.Client, error) {
	var after store.Client
	err := r.st.InTx(ctx, func(tx *store.Store) error {
		before, a, err := tx.UpdateClient(ctx, orgID, id, update)
		if err != nil {
			return err
		}
		after = a
		return tx.Audit(ctx, auditEvent(actor, orgID, action, "client", id), before, after)
	})
	return after, err
}

// SetEnabled enables or disables a client. A disabled client gets no
// tokens, and its refresh tokens stop working until it is enabled again.
func (r *Registrar) SetEnabled(ctx context.Context, orgID, clientID string, actor Actor, enabled bool) (store.Client, error) {
	cur, err := r.st.ClientByClientID(ctx, orgID, clientID)
	if err != nil {
		return store.Client{}, err
	}
	action := "client.disable"
	if enabled {
		action = "client.enable"
	}
	return r.change(ctx, orgID, cur.ID, actor, action, func(c *store.Client) error {
		c.Enabled = enabled
		return nil
	})
}

// Delete removes a client and its secrets.
func (r *Registrar) Delete(ctx context.Context, orgID, clientID string, actor Actor) error {
	cur, err := r.st.ClientByClientID(ctx, orgID, clientID)
	if err != nil {
		return err
	}
	return r.st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteClient(ctx, orgID, cur.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, orgID, "client.delete", "client", cur.ID), cur, nil)
	})
}
