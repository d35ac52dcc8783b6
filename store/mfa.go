package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// TOTP is a user's authenticator-app enrollment.
type TOTP struct {
	UserID      string
	Secret      []byte    // sealed by the caller
	ConfirmedAt time.Time // zero until the user proved the app works
	LastStep    int64     // last accepted 30-second step: no code counts twice
	CreatedAt   time.Time
}

// UserTOTP returns userID's TOTP enrollment, confirmed or not.
func (s *Store) UserTOTP(ctx context.Context, userID string) (TOTP, error) {
	var x TOTP
	var confirmed sql.NullInt64
	var created int64
	err := s.q.QueryRowContext(ctx, `SELECT user_id, secret, confirmed_at, last_step, created_at FROM mfa_totp
		WHERE user_id = ?`, userID).Scan(&x.UserID, &x.Secret, &confirmed, &x.LastStep, &created)
	x.ConfirmedAt, x.CreatedAt = fromNullMS(confirmed), fromMS(created)
	return x, notFoundOrNil("store: totp", err)
}

// PutTOTP starts (or restarts) an unconfirmed enrollment with a new secret.
func (s *Store) PutTOTP(ctx context.Context, userID string, sealedSecret []byte) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO mfa_totp (user_id, secret, confirmed_at, last_step, created_at)
		VALUES (?, ?, NULL, 0, ?) ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret,
		confirmed_at = NULL, last_step = 0, created_at = excluded.created_at`, userID, sealedSecret, ms(s.Now()))
	if err != nil {
		return fmt.Errorf("store: put totp: %w", err)
	}
	return nil
}

// AcceptTOTPStep records step as used, and confirms the enrollment if
// confirm. It reports false when step is not newer than the last accepted
// one, which is how a replayed code is refused even under a race.
func (s *Store) AcceptTOTPStep(ctx context.Context, userID string, step int64, confirm bool) (bool, error) {
	q := `UPDATE mfa_totp SET last_step = ? WHERE user_id = ? AND last_step < ?`
	args := []any{step, userID, step}
	if confirm {
		q = `UPDATE mfa_totp SET last_step = ?, confirmed_at = ? WHERE user_id = ? AND last_step < ?`
		args = []any{step, ms(s.Now()), userID, step}
	}
	res, err := s.q.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("store: accept totp step: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteTOTP removes a user's TOTP enrollment and recovery codes.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM mfa_totp WHERE user_id = ?`, userID); err != nil {
			return err
		}
		_, err := tx.q.ExecContext(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = ?`, userID)
		return err
	})
}

// ReplaceRecoveryCodes replaces a user's recovery codes with the given
// hashes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("store: recovery codes: %w", err)
		}
		for _, h := range hashes {
			if _, err := tx.q.ExecContext(ctx, `INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES (?, ?)`,
				userID, h); err != nil {
				return fmt.Errorf("store: recovery codes: %w", err)
			}
		}
		return nil
	})
}

// UseRecoveryCode marks an unused code as used and reports whether it was
// one.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE mfa_recovery_codes SET used_at = ?
		WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`, ms(s.Now()), userID, hash)
	if err != nil {
		return false, fmt.Errorf("store: use recovery code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UnusedRecoveryCodes counts a user's recovery codes still available.
func (s *Store) UnusedRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = ? AND used_at IS NULL`,
		userID).Scan(&n)
	return n, err
}

// PasswordReset is an admin-issued, single-use link to set a new password.
type PasswordReset struct {
	TokenHash string
	UserID    string
	OrgID     string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreatePasswordReset stores a reset link's token hash.
func (s *Store) CreatePasswordReset(ctx context.Context, r *PasswordReset) error {
	r.CreatedAt = s.Now()
	_, err := s.q.ExecContext(ctx, `INSERT INTO password_resets (token_hash, user_id, org_id, created_by,
		created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.TokenHash, r.UserID, r.OrgID, r.CreatedBy, ms(r.CreatedAt), ms(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create password reset: %w", err)
	}
	return nil
}

// PasswordResetByToken returns the live, unused reset for a token hash.
func (s *Store) PasswordResetByToken(ctx context.Context, tokenHash string, now time.Time) (PasswordReset, error) {
	var r PasswordReset
	var created, expires int64
	err := s.q.QueryRowContext(ctx, `SELECT token_hash, user_id, org_id, created_by, created_at, expires_at
		FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, tokenHash, ms(now)).
		Scan(&r.TokenHash, &r.UserID, &r.OrgID, &r.CreatedBy, &created, &expires)
	r.CreatedAt, r.ExpiresAt = fromMS(created), fromMS(expires)
	return r, notFoundOrNil("store: password reset", err)
}

// UsePasswordReset marks a reset used, reporting whether this call did;
// the user's other unused links are voided with it, so only one of several
// issued links ever works.
func (s *Store) UsePasswordReset(ctx context.Context, tokenHash string) (bool, error) {
	var used bool
	err := s.InTx(ctx, func(tx *Store) error {
		now := ms(tx.Now())
		res, err := tx.q.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL`,
			now, tokenHash)
		if err != nil {
			return fmt.Errorf("store: use password reset: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		used = true
		_, err = tx.q.ExecContext(ctx, `UPDATE password_resets SET used_at = ?
			WHERE user_id = (SELECT user_id FROM password_resets WHERE token_hash = ?) AND used_at IS NULL`, now, tokenHash)
		return err
	})
	return used, err
}
