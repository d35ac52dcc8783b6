package pool

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// totpPeriod is the length of a TOTP step; authenticator apps assume 30s.
const totpPeriod = 30

// Enrollment is a fresh TOTP secret as the enrollment page shows it.
type Enrollment struct {
	Secret    string // base32, shown as text for apps that cannot scan
	QRDataURL string // data:image/png;base64,… of the otpauth:// URL as a QR code
}

// NewEnrollment makes a secret for account (the user's email) under issuer
// (the portal's name), with its QR code.
func NewEnrollment(issuer, account string) (Enrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrollment{}, err
	}
	return enrollmentFor(key)
}

// EnrollmentFor rebuilds the enrollment view of a stored secret (while the
// user has not confirmed it yet).
func EnrollmentFor(issuer, account, secret string) (Enrollment, error) {
	url := fmt.Sprintf("otpauth://totp/%s:%s?algorithm=SHA1&digits=6&issuer=%s&period=%d&secret=%s",
		escape(issuer), escape(account), escape(issuer), totpPeriod, secret)
	key, err := otp.NewKeyFromURL(url)
	if err != nil {
		return Enrollment{}, err
	}
	return enrollmentFor(key)
}

func enrollmentFor(key *otp.Key) (Enrollment, error) {
	img, err := key.Image(200, 200)
	if err != nil {
		return Enrollment{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrollment{}, err
	}
	return Enrollment{Secret: key.Secret(),
		QRDataURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

func escape(s string) string {
	return strings.NewReplacer("%", "%25", ":", "%3A", " ", "%20", "?", "%3F", "&", "%26", "#", "%23", "/", "%2F").Replace(s)
}

// CheckTOTP returns the step a code belongs to, allowing one step of clock
// drift either way. The caller stores the step and refuses any code of a
// step not newer than the last accepted one.
func CheckTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	for _, off := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(off*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix,
			Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// TOTPCode returns the code for now; tests and the CLI's diagnostics use it.
func TOTPCode(secret string, now time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, now, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1})
}
