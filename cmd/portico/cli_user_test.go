package main

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/federation/pool"
	"portico/store"
)

func TestUserCommands(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	tc.mustRun("org", "create", "--slug", "globex", "--name", "Globex")

	out := tc.mustRun("user", "create", "--org", "acme", "--email", "Ada@Acme.example", "--name", "Ada",
		"--password", "correct horse battery", "--role", "developer", "--group", "eng", "--group", "ops", "--json")
	var u userJSON
	if err := json.Unmarshal([]byte(out), &u); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if u.Email != "ada@acme.example" || u.Role != "developer" || strings.Join(u.Groups, ",") != "eng,ops" || u.Password != "" {
		t.Fatalf("%+v", u)
	}
	st := tc.openTestStore()
	ctx := context.Background()
	stored, err := st.User(ctx, mustOrgID(t, st, "acme"), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored.PasswordHash, "$argon2id$") || pool.CheckPassword(stored.PasswordHash, "correct horse battery") != nil {
		t.Fatalf("stored hash %q", stored.PasswordHash)
	}

	// Without --password a random one is made and printed once.
	out = tc.mustRun("user", "create", "--org", "acme", "--email", "bob@acme.example", "--name", "Bob", "--json")
	var bob userJSON
	if err := json.Unmarshal([]byte(out), &bob); err != nil || len(bob.Password) != 20 || bob.Role != "member" {
		t.Fatalf("%v %+v", err, bob)
	}

	bad := []struct {
		name string
		args []string
		want []string
	}{
		{"weak password and bad email", []string{"--email", "nope", "--name", "N", "--password", "short"}, []string{"--email", "--password", "12 characters"}},
		{"bad role", []string{"--email", "c@acme.example", "--name", "C", "--password", "long enough password", "--role", "owner"}, []string{"--role"}},
		{"duplicate email", []string{"--email", "ada@acme.example", "--name", "Ada 2", "--password", "long enough password"}, []string{"already has"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tc.run(append([]string{"user", "create", "--org", "acme"}, tt.args...)...)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %s: %v", w, err)
				}
			}
		})
	}
	// The same email in another organization is another account.
	tc.mustRun("user", "create", "--org", "globex", "--email", "ada@acme.example", "--name", "Ada G", "--password", "long enough password")

	got := strings.Join(auditActions(t, st), ",")
	if strings.Count(got, "user.create") != 3 || strings.Contains(got, "argon2") {
		t.Fatalf("audit: %s", got)
	}
}

func TestUserResetLinkCommand(t *testing.T) {
	tc := newTestCLI(t)
	tc.env["PORTICO_ISSUER"] = "https://portal.example.com"
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	tc.mustRun("user", "create", "--org", "acme", "--email", "ada@acme.example", "--name", "Ada", "--password", "correct horse battery")

	out := tc.mustRun("user", "reset-link", "--org", "acme", "--email", "ada@acme.example", "--ttl", "2h", "--json")
	var link resetLinkJSON
	if err := json.Unmarshal([]byte(out), &link); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	u, err := url.Parse(link.URL)
	if err != nil || u.Host != "portal.example.com" || u.Path != "/login/reset" || u.Query().Get("token") == "" {
		t.Fatalf("link %q", link.URL)
	}
	if d := time.Until(link.ExpiresAt); d < 119*time.Minute || d > 2*time.Hour {
		t.Fatalf("expires in %s", d)
	}
	st := tc.openTestStore()
	r, err := st.PasswordResetByToken(context.Background(), pool.HashResetToken(u.Query().Get("token")), time.Now())
	if err != nil || r.CreatedBy != cliActor {
		t.Fatalf("stored reset: %+v %v", r, err)
	}
	if !strings.Contains(strings.Join(auditActions(t, st), ","), "user.reset_link") {
		t.Fatal("no audit event")
	}

	// A user who signs in through an IdP has no password to reset.
	jit := store.User{OrgID: r.OrgID, Email: "sso@acme.example", Name: "SSO", Role: store.RoleMember}
	if err := st.CreateUser(context.Background(), &jit); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--org", "acme", "--email", "sso@acme.example"},
		{"--org", "acme", "--email", "nobody@acme.example"},
		{"--org", "nope", "--email", "ada@acme.example"},
		{"--org", "acme", "--email", "ada@acme.example", "--ttl", "720h"},
	} {
		if _, err := tc.run(append([]string{"user", "reset-link"}, args...)...); err == nil {
			t.Errorf("reset-link %v succeeded", args)
		}
	}
}
