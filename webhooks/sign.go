// Package webhooks sends Portico's events to other systems and checks the
// signed requests other systems send it, both in the Standard Webhooks
// format (https://www.standardwebhooks.com): headers webhook-id,
// webhook-timestamp and webhook-signature, the signature "v1," + base64 of
// HMAC-SHA256 over "id.timestamp.body" with a secret written "whsec_" +
// base64. The format is small enough that the standard library does it;
// a dependency would add nothing.
//
// Outgoing events come from two places: the audit log's outbox (every
// change an admin makes commits an outbox row with its audit event, so an
// event is sent for every change that committed and for none that did
// not) and scans of the partnership windows; decision.denied comes from
// the decision recorder. Each (event, subscription) is a row of the
// delivery queue in the database, claimed by one replica with a
// conditional UPDATE, sent through netguard's dialer and retried with
// exponential backoff. The same outbox feeds the audit stream for a SIEM.
package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: "whsec_" + base64 of 32 random
// bytes.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a "whsec_…" secret into the HMAC key.
func secretKey(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(k) < 24 {
		return nil, errors.New("webhooks: malformed secret")
	}
	return k, nil
}

// Sign returns the webhook-signature value for a message.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + mac(key, id, ts.Unix(), body), nil
}

func mac(key []byte, id string, ts int64, body []byte) string {
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "%s.%d.", id, ts)
	h.Write(body)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// SetHeaders puts the three Standard Webhooks headers on h.
func SetHeaders(h http.Header, secret, id string, ts time.Time, body []byte) error {
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", sig)
	return nil
}

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("webhooks: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrBadSignature = errors.New("webhooks: no signature matches")
	ErrStale        = errors.New("webhooks: timestamp outside the tolerance")
)

// Verify checks a request's Standard Webhooks headers against body: one of
// the space-separated v1 signatures must match (constant time), and the
// timestamp must be within tolerance of now either way. It returns the
// webhook-id, which the caller must accept only once.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) (string, error) {
	id, tsText, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return "", ErrNoSignature
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return "", ErrNoSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return "", ErrStale
	}
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	want := []byte(mac(key, id, ts, body))
	for _, s := range strings.Fields(sigs) {
		v, sig, ok := strings.Cut(s, ",")
		if ok && v == "v1" && hmac.Equal([]byte(sig), want) {
			return id, nil
		}
	}
	return "", ErrBadSignature
}
