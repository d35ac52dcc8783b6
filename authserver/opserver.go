package authserver

import (
	"context"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// opServer is the op.Server that op.RegisterServer routes to. It only
// forwards: each endpoint and grant lives in its own file on *Server.
// Methods it does not override (device flow) answer with
// op's "not supported" errors. Introspection does not pass through op at
// all (serveIntrospection).
type opServer struct {
	op.UnimplementedServer
	s *Server
}

func (o *opServer) Keys(ctx context.Context, r *op.Request[struct{}]) (*op.Response, error) {
	return o.s.serveKeys(ctx)
}

func (o *opServer) VerifyAuthRequest(ctx context.Context, r *op.Request[oidc.AuthRequest]) (*op.ClientRequest[oidc.AuthRequest], error) {
	return o.s.verifyAuthRequest(ctx, r)
}

func (o *opServer) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	return o.s.authorize(ctx, r)
}

func (o *opServer) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	e, err := o.s.authenticate(ctx, r.Data)
	if err != nil {
		return nil, err
	}
	return o.s.opClient(e), nil
}

func (o *opServer) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	e := entryOf(r.Client)
	jkt, err := o.s.tokenBinding(ctx, e, r.Form)
	if err != nil {
		return nil, err
	}
	return o.s.issued("authorization_code", string(e.client.Type))(o.s.codeExchange(ctx, e, r.Data, r.Form["resource"], jkt))
}

func (o *opServer) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	e := entryOf(r.Client)
	jkt, err := o.s.tokenBinding(ctx, e, r.Form)
	if err != nil {
		return nil, err
	}
	return o.s.issued("refresh_token", string(e.client.Type))(o.s.refresh(ctx, e, r.Data, r.Form["resource"], jkt))
}

func (o *opServer) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	e := entryOf(r.Client)
	jkt, err := o.s.tokenBinding(ctx, e, r.Form)
	if err != nil {
		return nil, err
	}
	return o.s.issued("client_credentials", string(e.client.Type))(o.s.clientCredentials(ctx, e, r.Data, r.Form["resource"], jkt))
}

func (o *opServer) TokenExchange(ctx context.Context, r *op.ClientRequest[oidc.TokenExchangeRequest]) (*op.Response, error) {
	e := entryOf(r.Client)
	jkt, err := o.s.tokenBinding(ctx, e, r.Form)
	if err != nil {
		return nil, err
	}
	return o.s.issued("token_exchange", string(e.client.Type))(o.s.tokenExchange(ctx, e, r.Data, r.Form, jkt))
}

func (o *opServer) JWTProfile(ctx context.Context, r *op.Request[oidc.JWTProfileGrantRequest]) (*op.Response, error) {
	return o.s.issued("jwt_bearer", "")(o.s.jwtBearer(ctx, r))
}

func (o *opServer) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	return o.s.revoke(ctx, entryOf(r.Client), r.Data)
}

func (o *opServer) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	return o.s.userinfo(ctx, r.Data.AccessToken)
}

func (o *opServer) EndSession(ctx context.Context, r *op.Request[oidc.EndSessionRequest]) (*op.Redirect, error) {
	return o.s.endSession(ctx, r.Data)
}

// tokenResponse wraps a token response with the headers RFC 6749 §5.1 asks for.
func tokenResponse(data any) *op.Response {
	return &op.Response{Header: http.Header{"Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}, Data: data}
}

// issued counts a token response that succeeded, then passes it on.
func (s *Server) issued(grant, clientType string) func(*op.Response, error) (*op.Response, error) {
	return func(resp *op.Response, err error) (*op.Response, error) {
		if err == nil && s.cfg.Metrics != nil {
			if clientType == "" {
				clientType = "unknown"
			}
			s.cfg.Metrics.TokenIssued(grant, clientType)
		}
		return resp, err
	}
}
