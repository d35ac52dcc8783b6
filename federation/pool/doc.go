// Package pool is Portico's own identity pool: people whose credentials
// Portico stores itself. Passwords are hashed with argon2id (RFC 9106, via
// golang.org/x/crypto/argon2) because it is the memory-hard function OWASP
// recommends for human passwords; machine secrets use a keyed SHA-256
// elsewhere, as they are long and random.
package pool
