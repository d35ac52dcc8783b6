package partners_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"portico/partners"
	"portico/store"
)

// fakeSMTP accepts one message on 127.0.0.1 and hands its DATA to got.
func fakeSMTP(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan string, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
		say := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
		say("220 fake ESMTP")
		var data strings.Builder
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if inData {
				if line == ".\r\n" {
					inData = false
					ch <- data.String()
					say("250 queued")
					continue
				}
				data.WriteString(line)
				continue
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 fake")
			case cmd == "DATA":
				inData = true
				say("354 go ahead")
			case cmd == "QUIT":
				say("221 bye")
				return
			default:
				say("250 ok")
			}
		}
	}()
	return l.Addr().String(), ch
}

func TestSMTPMailerSendsTheLinkWithoutHeaderInjection(t *testing.T) {
	addr, got := fakeSMTP(t)
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
