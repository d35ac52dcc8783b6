package pool

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// NewRecoveryCodes returns n random codes like "k7qm-2xd9-wr4p" (60 bits
// each), to show once.
func NewRecoveryCodes(n int) []string {
	enc := base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)
	out := make([]string, n)
	for i := range out {
		b := make([]byte, 8)
		rand.Read(b)
		s := enc.EncodeToString(b)[:12]
		out[i] = s[:4] + "-" + s[4:8] + "-" + s[8:]
	}
	return out
}

// HashRecoveryCode normalizes a code as typed (case, dashes, spaces) and
// hashes it for storage and lookup.
func HashRecoveryCode(code string) string {
	c := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	sum := sha256.Sum256([]byte("recovery:" + c))
	return hex.EncodeToString(sum[:])
}

// NewResetToken returns a password-reset token for the link and the hash to
// store.
func NewResetToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashResetToken(token)
}

// HashResetToken hashes a reset token for lookup.
func HashResetToken(token string) string {
	sum := sha256.Sum256([]byte("reset:" + token))
	return hex.EncodeToString(sum[:])
}
