package authserver

import (
	"context"
	"slices"
	"time"

	"portico/store"
)

// The FAPI 2.0 Security Profile, per client (store.Client.FAPI2). Its
// rules live where each is checked; this file holds the shared pieces:
//
//   - PAR required: requiresPAR (par.go), refused at /authorize with
//     invalid_request; redirect_uri required in the pushed request.
//   - PKCE with S256: checkPKCE (authorize.go), invalid_request.
//   - a confidential client authenticating with private_key_jwt, assertions
//     signed with PS256 or ES256: authenticateClient and
//     authenticateAssertion (clientauth.go), invalid_client.
//   - sender-constrained tokens (DPoP): requiresDPoP (dpop.go),
//     invalid_dpop_proof.
//   - iss in every authorization response: clientRedirect and issWriter.
//   - authorization codes live at most 60 seconds: codeLifetime.
//   - ID tokens signed with PS256 or ES256: idTokenAlg.
//
// SetSecurity refuses to turn the profile on for a client that cannot
// meet it (a public client, a secret-based one, an RS256 ID token).

// fapiAlgs are the algorithms FAPI 2.0 §5.4 allows.
var fapiAlgs = []string{algPS256, algES256}

// fapiCodeLifetime is FAPI 2.0 §5.3.2.2's bound on authorization codes.
const fapiCodeLifetime = 60 * time.Second

// codeLifetime is how long a code issued to the client lives.
func (s *Server) codeLifetime(e *clientEntry) time.Duration {
	if e.client.FAPI2 {
		return min(s.cfg.Lifetimes.Code, fapiCodeLifetime)
	}
	return s.cfg.Lifetimes.Code
}

// idTokenAlg is the algorithm ID tokens for the client are signed with: its
// registered one, except that a FAPI 2.0 client never gets RS256.
func idTokenAlg(e *clientEntry) string {
	if e.client.FAPI2 && !slices.Contains(fapiAlgs, e.client.IDTokenSignedAlg) {
		return algPS256
	}
	return e.client.IDTokenSignedAlg
}

// ClientSecurity is a change to a client's protocol requirements; nil
// fields stay as they are.
type ClientSecurity struct {
	RequirePAR  *bool
	RequireDPoP *bool
	FAPI2       *bool
}

// SetSecurity changes whether a client must push authorization requests,
// must use DPoP, or is held to the FAPI 2.0 Security Profile. These are a
// platform admin's decisions, not part of RegisterInput. Turning FAPI 2.0
// on for a client that cannot meet it is a ValidationError.
func (r *Registrar) SetSecurity(ctx context.Context, orgID, clientID string, actor Actor, in ClientSecurity) (store.Client, error) {
	cur, err := r.st.ClientByClientID(ctx, orgID, clientID)
	if err != nil {
		return store.Client{}, err
	}
	return r.change(ctx, orgID, cur.ID, actor, "client.security", func(c *store.Client) error {
		if in.RequirePAR != nil {
			c.RequirePAR = *in.RequirePAR
		}
		if in.RequireDPoP != nil {
			c.RequireDPoP = *in.RequireDPoP
		}
		if in.FAPI2 != nil {
			c.FAPI2 = *in.FAPI2
		}
		return fapiFits(c).err()
	})
}

// fapiFits lists why a FAPI 2.0 client's registration breaks the profile.
func fapiFits(c *store.Client) fieldErrors {
	var fe fieldErrors
	if !c.FAPI2 {
		return nil
	}
	if !c.Type.Confidential() {
		fe.add("fapi2", "a FAPI 2.0 client must be confidential (web or service)")
	}
	if c.TokenEndpointAuthMethod != authPrivateJWT {
		fe.add("token_endpoint_auth_method", "a FAPI 2.0 client must authenticate with private_key_jwt")
	}
	if c.IDTokenSignedAlg != "" && !slices.Contains(fapiAlgs, c.IDTokenSignedAlg) {
		fe.add("id_token_signed_response_alg", "a FAPI 2.0 client's ID tokens are signed with PS256 or ES256")
	}
	return fe
}
