package main

import (
	"bytes"
	"strings"
	"testing"

	"portico/partners"
)

func TestConfigSMTP(t *testing.T) {
	parse := func(env map[string]string, args ...string) (*Config, error) {
		c := &cli{getenv: func(k string) string { return env[k] }, stderr: &bytes.Buffer{}}
		return c.parseConfig(args)
	}
	cfg, err := parse(nil)
	if err != nil || cfg.mailer() != nil {
		t.Fatalf("without PORTICO_SMTP_ADDR mail must be off: %v %v", err, cfg)
	}

	cfg, err = parse(map[string]string{"PORTICO_SMTP_ADDR": "mail.example.com:587", "PORTICO_SMTP_FROM": "Portico <portal@example.com>",
		"PORTICO_SMTP_USERNAME": "portal", "PORTICO_SMTP_PASSWORD": "from-env"}, "--smtp-password", "from-flag")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := cfg.mailer().(*partners.SMTPMailer)
	if !ok || *m != (partners.SMTPMailer{Addr: "mail.example.com:587", From: "Portico <portal@example.com>", Username: "portal", Password: "from-flag"}) {
		t.Fatalf("mailer %#v (a flag wins over its variable)", cfg.mailer())
	}

	for name, c := range map[string]struct {
		env  map[string]string
		want []string
	}{
		"address without sender": {map[string]string{"PORTICO_SMTP_ADDR": "mail.example.com:25"},
			[]string{"PORTICO_SMTP_FROM is required"}},
		"every problem at once": {map[string]string{"PORTICO_SMTP_ADDR": "mail.example.com", "PORTICO_SMTP_FROM": "not an address",
			"PORTICO_SMTP_PASSWORD": "pw", "PORTICO_ADDR": "nonsense"},
			[]string{"PORTICO_SMTP_ADDR \"mail.example.com\" is not host:port", "PORTICO_SMTP_FROM \"not an address\"",
				"PORTICO_SMTP_PASSWORD needs PORTICO_SMTP_USERNAME", "PORTICO_ADDR"}},
		"settings without a server": {map[string]string{"PORTICO_SMTP_FROM": "portal@example.com"},
			[]string{"need PORTICO_SMTP_ADDR"}},
	} {
		_, err := parse(c.env)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error does not mention %q:\n%v", name, w, err)
			}
		}
	}
}
