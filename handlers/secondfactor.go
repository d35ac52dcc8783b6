package handlers

import (
	"context"
	"errors"
	"time"

	"portico/federation/pool"
	"portico/store"
)

// checkSecondFactor accepts a current TOTP code not used before, or an
// unused recovery code (also for people whose factor is a passkey). Sign-in and the launch step-up both use it.
func checkSecondFactor(ctx context.Context, st *store.Store, sealer *store.Sealer, userID, code string, now time.Time) (bool, error) {
	t, err := st.UserTOTP(ctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if err == nil && !t.ConfirmedAt.IsZero() {
		secret, err := sealer.Open(t.Secret, totpPurpose(userID))
		if err != nil {
			return false, err
		}
		if step, ok := pool.CheckTOTP(string(secret), code, now); ok {
			return st.AcceptTOTPStep(ctx, userID, step, false)
		}
	}
	// Recovery codes exist for anyone who enrolled a factor (TOTP or a
	// passkey) and recover either.
	return checkRecoveryCode(ctx, st, userID, code)
}

// factorResult is the outcome of one second-factor attempt.
type factorResult struct {
	OK bool
	// LockedUntil is set when the user's counter is locked: the code was
	// not looked at, or this failure reached the limit.
	LockedUntil time.Time
}

// factorAttempt runs check as one attempt on userID's second-factor
// counter, which every place that checks a factor shares: the attempt is
// counted before the code is looked at, a success clears the count, a
// failure waits by the delay schedule and locks at the limit.
func factorAttempt(ctx context.Context, st *store.Store, sleep sleeper, userID string, now time.Time, check func() (bool, error)) (factorResult, error) {
	key := mfaKey(userID)
	t, locked, err := reserve(ctx, st, key, mfaLimit, now)
	if err != nil || locked {
		return factorResult{LockedUntil: t.LockedUntil}, err
	}
	ok, err := check()
	if err != nil {
		return factorResult{}, err
	}
	if ok {
		return factorResult{OK: true}, st.ClearThrottle(ctx, key)
	}
	until, err := failedAttempt(ctx, st, key, mfaLimit, t, now)
	if err != nil {
		return factorResult{}, err
	}
	if until.IsZero() {
		sleep(ctx, failureDelay(t.Failures))
	}
	return factorResult{LockedUntil: until}, nil
}

// totpStepCheck is the check for a code from an authenticator being
// enrolled: the secret is the pending one, and the step is recorded (and
// the enrolment confirmed) by a conditional update, so a code counts once.
func totpStepCheck(ctx context.Context, st *store.Store, userID, secret, code string, now time.Time) func() (bool, error) {
	return func() (bool, error) {
		step, ok := pool.CheckTOTP(secret, code, now)
		if !ok {
			return false, nil
		}
		return st.AcceptTOTPStep(ctx, userID, step, true)
	}
}
