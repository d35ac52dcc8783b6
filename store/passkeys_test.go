package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestPasskeyCounterAndChallenges: the signature counter only moves
// forward (a regression or a replay of the same count is refused by the
// UPDATE itself), credential ids are unique, and a ceremony's challenge is
// taken once, only with its binding and purpose, and not after it expires.
func TestPasskeyCounterAndChallenges(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	org := Organization{Slug: "acme", Name: "Acme"}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	u := User{OrgID: org.ID, Email: "a@acme.example", Name: "A", Role: RoleMember}
	if err := st.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	pk := Passkey{UserID: u.ID, CredentialID: "cred-1", PublicKey: []byte{1, 2, 3}, SignCount: 5, Name: "Laptop",
		Transports: []string{"internal"}, BackupEligible: true}
	if err := st.AddPasskey(ctx, &pk); err != nil {
		t.Fatal(err)
	}
	dup := Passkey{UserID: u.ID, CredentialID: "cred-1", PublicKey: []byte{1}, Name: "Again"}
	if err := st.AddPasskey(ctx, &dup); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("duplicate credential id: %v", err)
	}
	for _, tc := range []struct {
		count uint32
		want  bool
	}{{4, false}, {5, false}, {6, true}, {6, false}, {9, true}} {
		ok, err := st.UsePasskey(ctx, pk.ID, tc.count, false, now)
		if err != nil || ok != tc.want {
			t.Fatalf("count %d: ok=%v err=%v, want %v", tc.count, ok, err, tc.want)
		}
	}
	got, err := st.PasskeyByCredentialID(ctx, "cred-1")
	if err != nil || got.SignCount != 9 || got.LastUsedAt.IsZero() || !got.BackupEligible || got.Transports[0] != "internal" {
		t.Fatalf("stored %+v %v", got, err)
	}

	if err := st.PutWebAuthnChallenge(ctx, "c1", "session-1", "step-up", u.ID, `{"challenge":"x"}`, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.TakeWebAuthnChallenge(ctx, "c1", "session-2", "step-up", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another session took the challenge: %v", err)
	}
	if _, _, err := st.TakeWebAuthnChallenge(ctx, "c1", "session-1", "register", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another purpose took the challenge: %v", err)
	}
	if uid, data, err := st.TakeWebAuthnChallenge(ctx, "c1", "session-1", "step-up", now); err != nil || uid != u.ID || data == "" {
		t.Fatalf("take: %q %q %v", uid, data, err)
	}
	if _, _, err := st.TakeWebAuthnChallenge(ctx, "c1", "session-1", "step-up", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second take: %v", err)
	}
	if err := st.PutWebAuthnChallenge(ctx, "c2", "b", "signin", "", `{}`, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.TakeWebAuthnChallenge(ctx, "c2", "b", "signin", now.Add(2*time.Minute)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired challenge taken: %v", err)
	}
	if _, err := st.DeletePasskey(ctx, "someone-else", pk.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another user deleted the passkey: %v", err)
	}
	if n, _ := st.CountPasskeys(ctx, u.ID); n != 1 {
		t.Fatalf("count %d", n)
	}
}
