package handlers

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"portico/store"
)

// Passkeys (WebAuthn) shared by the account page, sign-in and step-up:
// the relying party comes from the issuer, ceremony state lives in the
// database (webauthn_challenges) bound to the session or the pending
// sign-in that started it and taken once, and every assertion moves the
// stored signature counter forward by a conditional UPDATE.

// ceremonyFor is how long a started ceremony may take.
const ceremonyFor = 3 * time.Minute

// Ceremony purposes, so a challenge issued for one use cannot answer another.
const (
	purposeRegister        = "register"         // account page, bound to the session
	purposeRegisterPending = "register-pending" // enrolment at sign-in, bound to the pending sign-in
	purposeSignIn          = "signin"           // usernameless sign-in, bound to the browser
	purposeSecondFactor    = "second-factor"    // after a password, bound to the pending sign-in
	purposeStepUp          = "step-up"          // launch step-up, bound to the session
)

// newRelyingParty builds the WebAuthn relying party for the portal at
// issuer: its host is the RP ID, its origin the only accepted origin.
func newRelyingParty(issuer string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("passkeys: issuer %q has no host", issuer)
	}
	return webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "Portico",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyFor},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyFor},
		},
	})
}

// passkeyUser adapts a user and their stored passkeys to webauthn.User. The
// user handle is the user's id: stable, opaque, no personal data.
type passkeyUser struct {
	u     store.User
	creds []store.Passkey
}

func (p passkeyUser) WebAuthnID() []byte          { return []byte(p.u.ID) }
func (p passkeyUser) WebAuthnName() string        { return p.u.Email }
func (p passkeyUser) WebAuthnDisplayName() string { return p.u.Name }
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(p.creds))
	for _, c := range p.creds {
		id, err := base64.RawURLEncoding.DecodeString(c.CredentialID)
		if err != nil {
			continue
		}
		aaguid, _ := hex.DecodeString(c.AAGUID)
		var tr []protocol.AuthenticatorTransport
		for _, t := range c.Transports {
			tr = append(tr, protocol.AuthenticatorTransport(t))
		}
		out = append(out, webauthn.Credential{ID: id, PublicKey: c.PublicKey, AttestationType: c.Attestation,
			Transport: tr,
			Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: c.UserVerified,
				BackupEligible: c.BackupEligible, BackupState: c.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: aaguid, SignCount: c.SignCount,
				Attachment: protocol.AuthenticatorAttachment(c.Attachment)}})
	}
	return out
}

// descriptors lists the user's credentials for allow/exclude lists.
func (p passkeyUser) descriptors() []protocol.CredentialDescriptor {
	var out []protocol.CredentialDescriptor
	for _, c := range p.WebAuthnCredentials() {
		out = append(out, c.Descriptor())
	}
	return out
}

func loadPasskeyUser(ctx context.Context, st *store.Store, u store.User) (passkeyUser, error) {
	creds, err := st.UserPasskeys(ctx, u.ID)
	return passkeyUser{u: u, creds: creds}, err
}

// ceremony is what a begin endpoint hands the browser: the options for
// navigator.credentials and the id of the stored challenge to send back.
type ceremony struct {
	Challenge string `json:"challenge"`
	PublicKey any    `json:"publicKey"`
}

// saveCeremony stores the ceremony state under a new id.
func saveCeremony(ctx context.Context, st *store.Store, binding, purpose, userID string, sd *webauthn.SessionData, now time.Time) (string, error) {
	b, err := json.Marshal(sd)
	if err != nil {
		return "", err
	}
	id := newToken()
	return id, st.PutWebAuthnChallenge(ctx, hashToken(id), binding, purpose, userID, string(b), now.Add(ceremonyFor))
}

// errCeremony is any failed or refused ceremony: the person sees one fixed
// message, the log gets the cause.
var errCeremony = errors.New("passkeys: ceremony failed")

// takeCeremony takes the stored state once; a second take fails.
func takeCeremony(ctx context.Context, st *store.Store, id, binding, purpose string, now time.Time) (string, webauthn.SessionData, error) {
	var sd webauthn.SessionData
	userID, data, err := st.TakeWebAuthnChallenge(ctx, hashToken(id), binding, purpose, now)
	if errors.Is(err, store.ErrNotFound) {
		return "", sd, fmt.Errorf("%w: unknown, used or expired challenge", errCeremony)
	}
	if err != nil {
		return "", sd, err
	}
	return userID, sd, json.Unmarshal([]byte(data), &sd)
}

// assertion is a verified passkey use: which passkey and the amr it adds.
type assertion struct {
	Passkey store.Passkey
	AMR     []string
}

// passkeyAMR is what a passkey use adds to the session's amr (RFC 8176): a
// key that cannot leave its device (not backup-eligible) is "hwk", a
// synced passkey "swk"; "user" when the authenticator verified the person
// (PIN or biometric), which makes the passkey alone two factors.
func passkeyAMR(backupEligible, userVerified bool) []string {
	m := []string{"hwk"}
	if backupEligible {
		m = []string{"swk"}
	}
	if userVerified {
		m = append(m, "user")
	}
	return m
}

// finishAssertion verifies the browser's answer for the ceremony sd. For a
// usernameless sign-in (user nil) the passkey names its user, who must be
// active; otherwise the passkey must be one of user's. The stored counter
// must move forward: a regression (a cloned authenticator, a replay) is
// refused, audited and logged by the caller through the returned error.
func finishAssertion(ctx context.Context, st *store.Store, rp *webauthn.WebAuthn, user *store.User, sd webauthn.SessionData, body []byte, now time.Time) (store.User, assertion, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return store.User{}, assertion{}, fmt.Errorf("%w: %v", errCeremony, err)
	}
	credID := base64.RawURLEncoding.EncodeToString(parsed.RawID)
	pk, err := st.PasskeyByCredentialID(ctx, credID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, assertion{}, fmt.Errorf("%w: unknown credential", errCeremony)
	}
	if err != nil {
		return store.User{}, assertion{}, err
	}
	var u store.User
	if user != nil {
		if pk.UserID != user.ID {
			return store.User{}, assertion{}, fmt.Errorf("%w: credential of another user", errCeremony)
		}
		u = *user
	} else if u, err = st.UserByID(ctx, pk.UserID); err != nil {
		return store.User{}, assertion{}, err
	}
	pu, err := loadPasskeyUser(ctx, st, u)
	if err != nil {
		return u, assertion{}, err
	}
	var cred *webauthn.Credential
	if user == nil {
		handler := func(rawID, userHandle []byte) (webauthn.User, error) {
			if string(userHandle) != u.ID {
				return nil, fmt.Errorf("%w: user handle does not match", errCeremony)
			}
			return pu, nil
		}
		cred, err = rp.ValidateDiscoverableLogin(handler, sd, parsed)
	} else {
		cred, err = rp.ValidateLogin(pu, sd, parsed)
	}
	if err != nil {
		return u, assertion{}, fmt.Errorf("%w: %v", errCeremony, err)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	if cred.Authenticator.CloneWarning {
		return u, assertion{Passkey: pk}, errSignCount
	}
	ok, err := st.UsePasskey(ctx, pk.ID, parsed.Response.AuthenticatorData.Counter, flags.HasBackupState(), now)
	if err != nil {
		return u, assertion{}, err
	}
	if !ok {
		return u, assertion{Passkey: pk}, errSignCount
	}
	return u, assertion{Passkey: pk, AMR: passkeyAMR(pk.BackupEligible, flags.HasUserVerified())}, nil
}

// errSignCount: the authenticator's signature counter did not move forward.
var errSignCount = fmt.Errorf("%w: signature counter did not increase (cloned authenticator or replay)", errCeremony)

// newPasskey turns a verified registration into the row to store.
func newPasskey(userID, name string, c *webauthn.Credential, now time.Time) store.Passkey {
	var tr []string
	for _, t := range c.Transport {
		tr = append(tr, string(t))
	}
	slices.Sort(tr)
	return store.Passkey{UserID: userID, CredentialID: base64.RawURLEncoding.EncodeToString(c.ID), PublicKey: c.PublicKey,
		Attestation: c.AttestationType, SignCount: c.Authenticator.SignCount, Transports: tr,
		AAGUID: hex.EncodeToString(c.Authenticator.AAGUID), UserVerified: c.Flags.UserVerified,
		BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState,
		Attachment: string(c.Authenticator.Attachment), Name: name, CreatedAt: now}
}

// beginRegistration starts a registration for u: a discoverable credential
// (so it signs in without an email), user verification preferred, the
// user's existing passkeys excluded.
func beginRegistration(ctx context.Context, st *store.Store, rp *webauthn.WebAuthn, u store.User, binding, purpose string, now time.Time) (ceremony, error) {
	pu, err := loadPasskeyUser(ctx, st, u)
	if err != nil {
		return ceremony{}, err
	}
	opts, sd, err := rp.BeginRegistration(pu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, UserVerification: protocol.VerificationPreferred}),
		webauthn.WithExclusions(pu.descriptors()))
	if err != nil {
		return ceremony{}, err
	}
	id, err := saveCeremony(ctx, st, binding, purpose, u.ID, sd, now)
	return ceremony{Challenge: id, PublicKey: opts.Response}, err
}

// finishRegistration verifies a registration answer for u and stores the
// passkey under name, in tx when the caller audits with it.
func finishRegistration(ctx context.Context, st *store.Store, rp *webauthn.WebAuthn, u store.User, sd webauthn.SessionData, body []byte, name string, now time.Time) (store.Passkey, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return store.Passkey{}, fmt.Errorf("%w: %v", errCeremony, err)
	}
	pu, err := loadPasskeyUser(ctx, st, u)
	if err != nil {
		return store.Passkey{}, err
	}
	cred, err := rp.CreateCredential(pu, sd, parsed)
	if err != nil {
		return store.Passkey{}, fmt.Errorf("%w: %v", errCeremony, err)
	}
	return newPasskey(u.ID, name, cred, now), nil
}

// beginAssertion starts a sign-in ceremony: for user's passkeys, or
// usernameless (any discoverable passkey) when user is nil, which then
// requires user verification so the passkey alone is two factors.
func beginAssertion(ctx context.Context, st *store.Store, rp *webauthn.WebAuthn, user *store.User, binding, purpose string, now time.Time) (ceremony, error) {
	var (
		opts   *protocol.CredentialAssertion
		sd     *webauthn.SessionData
		err    error
		userID string
	)
	if user == nil {
		opts, sd, err = rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	} else {
		pu, lerr := loadPasskeyUser(ctx, st, *user)
		if lerr != nil {
			return ceremony{}, lerr
		}
		if len(pu.creds) == 0 {
			return ceremony{}, fmt.Errorf("%w: no passkey registered", errCeremony)
		}
		userID = user.ID
		opts, sd, err = rp.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	}
	if err != nil {
		return ceremony{}, err
	}
	id, err := saveCeremony(ctx, st, binding, purpose, userID, sd, now)
	return ceremony{Challenge: id, PublicKey: opts.Response}, err
}
