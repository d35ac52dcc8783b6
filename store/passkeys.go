package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Passkey is a registered WebAuthn credential of a user.
type Passkey struct {
	ID             string
	UserID         string
	CredentialID   string // base64url, as the browser reports it
	PublicKey      []byte // COSE key
	Attestation    string // attestation type ("none", "packed"...)
	SignCount      uint32
	Transports     []string
	AAGUID         string // hex
	UserVerified   bool
	BackupEligible bool
	BackupState    bool
	Attachment     string // "platform", "cross-platform" or ""
	Name           string
	CreatedAt      time.Time
	LastUsedAt     time.Time // zero until first used to sign in
}

const passkeyColumns = `id, user_id, credential_id, public_key, attestation, sign_count, transports, aaguid,
	user_verified, backup_eligible, backup_state, attachment, name, created_at, last_used_at`

func scanPasskey(row interface{ Scan(...any) error }) (Passkey, error) {
	var p Passkey
	var count, created int64
	var transports string
	var uv, be, bs int
	var used sql.NullInt64
	err := row.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.Attestation, &count, &transports, &p.AAGUID,
		&uv, &be, &bs, &p.Attachment, &p.Name, &created, &used)
	p.SignCount, p.Transports = uint32(count), strings.Fields(transports)
	p.UserVerified, p.BackupEligible, p.BackupState = uv == 1, be == 1, bs == 1
	p.CreatedAt, p.LastUsedAt = fromMS(created), fromNullMS(used)
	return p, err
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AddPasskey stores a newly registered passkey. A credential id already
// registered (to anyone) is ErrAlreadyExists.
func (s *Store) AddPasskey(ctx context.Context, p *Passkey) error {
	if p.ID == "" {
		p.ID = NewID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.Now()
	}
	_, err := s.q.ExecContext(ctx, `INSERT INTO webauthn_credentials (`+passkeyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.UserID, p.CredentialID, p.PublicKey, p.Attestation, int64(p.SignCount), strings.Join(p.Transports, " "),
		p.AAGUID, bit(p.UserVerified), bit(p.BackupEligible), bit(p.BackupState), p.Attachment, p.Name,
		ms(p.CreatedAt), nullMS(p.LastUsedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: passkey: %w", ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: add passkey: %w", err)
	}
	return nil
}

// UserPasskeys lists userID's passkeys, oldest first.
func (s *Store) UserPasskeys(ctx context.Context, userID string) ([]Passkey, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM webauthn_credentials
		WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: passkeys: %w", err)
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CountPasskeys is how many passkeys userID has.
func (s *Store) CountPasskeys(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = ?`, userID).Scan(&n)
	return n, err
}

// PasskeyByCredentialID finds a passkey by the id the authenticator gave.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID string) (Passkey, error) {
	p, err := scanPasskey(s.q.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM webauthn_credentials
		WHERE credential_id = ?`, credentialID))
	return p, notFoundOrNil("store: passkey", err)
}

// UsePasskey records a successful assertion: the new signature counter and
// flags and the time. It reports false, changing nothing, when the stored
// counter is not below count (unless both are zero: authenticators that
// keep no counter always say 0), so a cloned authenticator or a replayed
// assertion racing this one cannot both succeed.
func (s *Store) UsePasskey(ctx context.Context, id string, count uint32, backupState bool, at time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE webauthn_credentials SET sign_count = ?, backup_state = ?, last_used_at = ?
		WHERE id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
		int64(count), bit(backupState), ms(at), id, int64(count), int64(count))
	if err != nil {
		return false, fmt.Errorf("store: use passkey: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeletePasskey removes one of userID's passkeys; another user's is
// ErrNotFound.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) (Passkey, error) {
	p, err := scanPasskey(s.q.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM webauthn_credentials
		WHERE id = ? AND user_id = ?`, id, userID))
	if err != nil {
		return p, notFoundOrNil("store: passkey", err)
	}
	_, err = s.q.ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?`, id, userID)
	return p, err
}

// DeleteUserPasskeys removes every passkey of userID (an administrator's
// reset link starts the person's factors afresh).
func (s *Store) DeleteUserPasskeys(ctx context.Context, userID string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE user_id = ?`, userID)
	return err
}

// PutWebAuthnChallenge stores a ceremony's state (JSON) until expires,
// bound to binding (a session id or a pending sign-in), for purpose.
func (s *Store) PutWebAuthnChallenge(ctx context.Context, id, binding, purpose, userID, data string, expires time.Time) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO webauthn_challenges (id, binding, purpose, user_id, data, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, id, binding, purpose, userID, data, ms(expires))
	if err != nil {
		return fmt.Errorf("store: webauthn challenge: %w", err)
	}
	return nil
}

// TakeWebAuthnChallenge removes and returns the ceremony state stored under
// id for binding and purpose. The DELETE decides: a second take of the same
// challenge, or one that expired or belongs elsewhere, is ErrNotFound.
func (s *Store) TakeWebAuthnChallenge(ctx context.Context, id, binding, purpose string, now time.Time) (userID, data string, err error) {
	err = s.q.QueryRowContext(ctx, `DELETE FROM webauthn_challenges
		WHERE id = ? AND binding = ? AND purpose = ? AND expires_at > ? RETURNING user_id, data`,
		id, binding, purpose, ms(now)).Scan(&userID, &data)
	return userID, data, notFoundOrNil("store: webauthn challenge", err)
}

// DeleteExpiredWebAuthnChallenges clears ceremonies nobody finished.
func (s *Store) DeleteExpiredWebAuthnChallenges(ctx context.Context, now time.Time) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM webauthn_challenges WHERE expires_at <= ?`, ms(now))
	return err
}
