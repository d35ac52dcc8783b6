package partners_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"portico/partners"
	"portico/partners/partnerstest"
	"portico/store"
)

func TestSMTPMailerSendsTheLinkWithoutHeaderInjection(t *testing.T) {
	addr, got := partnerstest.FakeSMTP(t)
	m := &partners.SMTPMailer{Addr: addr, From: "Portico <portal@example.com>"}
	err := m.SendInvitation(context.Background(), partners.InvitationMail{To: "dev@partner.example",
		OrgName: "Acme\r\nBcc: victim@example.com", InvitedBy: "Ada", Role: store.RoleDeveloper,
		Link: "https://portal.example/invite/abc", ExpiresAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	select {
	case msg = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no message arrived")
	}
	if !strings.Contains(msg, "https://portal.example/invite/abc") || !strings.Contains(msg, "To: <dev@partner.example>") {
		t.Errorf("message:\n%s", msg)
	}
	for _, line := range strings.Split(msg, "\r\n") {
		if strings.HasPrefix(line, "Bcc:") {
			t.Errorf("a name added a header:\n%s", msg)
		}
	}
}
