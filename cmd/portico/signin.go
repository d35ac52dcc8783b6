package main

import (
	"context"
	"errors"
	"fmt"

	"portico/authserver"
	"portico/federation/builtin"
	"portico/handlers"
	"portico/store"
)

// signInConfig builds what the sign-in flow needs: the sealer for
// connection secrets (the same secret key as the signing keys), the
// registry of connection types, and, once the authorization server is
// wired, the adapter through which sign-in completes its requests.
func signInConfig(sealer *store.Sealer, oauth *authserver.Server) handlers.SignInConfig {
	sc := handlers.SignInConfig{Sealer: sealer, Registry: builtin.Registry()}
	if oauth != nil {
		sc.Completer = loginCompleter{oauth}
	}
	return sc
}

// loginCompleter adapts authserver to the interface the sign-in flow
// declares, so handlers need not know authserver's types.
type loginCompleter struct{ s *authserver.Server }

// CompleteLogin implements handlers.LoginCompleter.
func (l loginCompleter) CompleteLogin(ctx context.Context, id string, in handlers.CompletedSignIn) (string, error) {
	to, err := l.s.CompleteLogin(ctx, id, authserver.LoginUser{UserID: in.UserID, AuthTime: in.AuthTime, MFAAt: in.MFAAt,
		AMR: in.AMR, AuthMethods: in.AuthMethods, ConnectionID: in.ConnectionID, IP: in.IP, SteppedUp: in.SteppedUp})
	switch {
	case errors.Is(err, authserver.ErrStepUpRequired):
		return "", &handlers.StepUpError{Methods: authserver.StepUpMethods(err), Err: err}
	case errors.Is(err, authserver.ErrUnknownAuthRequest):
		return "", fmt.Errorf("%w: %w", handlers.ErrUnknownAuthRequest, err)
	case errors.Is(err, authserver.ErrReauthenticationRequired):
		return "", fmt.Errorf("%w: %w", handlers.ErrReauthenticationRequired, err)
	}
	return to, err
}
