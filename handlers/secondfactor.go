package handlers

import (
	"context"
	"errors"
	"time"

	"portico/federation/pool"
	"portico/store"
)

// checkSecondFactor accepts a current TOTP code not used before, or an
// unused recovery code. Sign-in and the launch step-up both use it.
func checkSecondFactor(ctx context.Context, st *store.Store, sealer *store.Sealer, userID, code string, now time.Time) (bool, error) {
	t, err := st.UserTOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.ConfirmedAt.IsZero()) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	secret, err := sealer.Open(t.Secret, totpPurpose(userID))
	if err != nil {
		return false, err
	}
	if step, ok := pool.CheckTOTP(string(secret), code, now); ok {
		return st.AcceptTOTPStep(ctx, userID, step, false)
	}
	if len(code) >= 12 {
		return st.UseRecoveryCode(ctx, userID, pool.HashRecoveryCode(code))
	}
	return false, nil
}
