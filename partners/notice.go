package partners

import (
	"context"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
)

// SecurityNotice tells a person about a change to how they sign in (a
// second factor added or removed), so that a change they did not make does
// not go unnoticed.
type SecurityNotice struct {
	To      string
	Subject string
	Text    string // plain text
}

// SendSecurityNotice sends one plain-text notice.
func (s *SMTPMailer) SendSecurityNotice(ctx context.Context, n SecurityNotice) error {
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("smtp: sender %q: %w", s.From, err)
	}
	to, err := mail.ParseAddress(n.To)
	if err != nil {
		return fmt.Errorf("smtp: recipient: %w", err)
	}
	clean := func(v string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(v) }
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\n", from.String(), to.String(), clean(n.Subject))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(n.Text, "\r\n", "\n"), "\n", "\r\n"))
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
