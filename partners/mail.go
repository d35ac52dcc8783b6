package partners

import (
	"context"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"portico/store"
)

// InvitationMail is what an invitation email says.
type InvitationMail struct {
	To        string
	OrgName   string
	InvitedBy string
	Role      store.Role
	Link      string
	ExpiresAt time.Time
}

// Mailer sends invitation links. It is optional: without one, the portal
// shows the link to the inviter to pass on.
type Mailer interface {
	SendInvitation(ctx context.Context, m InvitationMail) error
}

// SMTPMailer sends mail through one SMTP server with STARTTLS when the
// server offers it (net/smtp refuses PLAIN auth over an unencrypted
// connection to anything but localhost).
type SMTPMailer struct {
	Addr     string // host:port
	From     string // envelope and header sender
	Username string // empty: no authentication
	Password string
}

// SendInvitation sends one plain-text invitation.
func (s *SMTPMailer) SendInvitation(ctx context.Context, m InvitationMail) error {
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("smtp: sender %q: %w", s.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("smtp: recipient: %w", err)
	}
	// Header values come from our own records, but a name may still hold a
	// line break: strip them so nothing can add headers.
	clean := func(v string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(v) }
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\n", from.String(), to.String(),
		clean("You are invited to join "+m.OrgName+" on Portico"))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "%s invited you to join %s as %s.\r\n\r\nOpen this link to create your account:\r\n%s\r\n\r\n"+
		"The link works once and expires on %s UTC.\r\n", clean(m.InvitedBy), clean(m.OrgName), m.Role, m.Link,
		m.ExpiresAt.UTC().Format("2006-01-02 15:04"))

	var auth smtp.Auth
	if s.Username != "" {
		host, _, _ := net.SplitHostPort(s.Addr)
		auth = smtp.PlainAuth("", s.Username, s.Password, host)
	}
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(s.Addr, auth, from.Address, []string{to.Address}, []byte(b.String())) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
