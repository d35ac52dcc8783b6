// Package pool is Portico's own identity pool: people whose credentials
// Portico stores itself. Passwords are hashed with argon2id (RFC 9106, via
// golang.org/x/crypto/argon2) because it is the memory-hard function OWASP
// recommends for human passwords; machine secrets use a keyed SHA-256
// elsewhere, as they are long and random.
//
// The second factor is TOTP (RFC 6238) through github.com/pquerna/otp,
// chosen because it generates the otpauth:// key and its QR code image
// without further dependencies and lets us validate one step at a time, so
// the store can refuse a code that was already used. Recovery codes and
// admin-issued reset links are random tokens kept only as SHA-256: they are
// long and random, so a fast hash suffices.
package pool
