package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"portico/store"
)

// AuditLine is one audit event as the SIEM stream writes it: one JSON
// object per line.
type AuditLine struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	OrgID      string          `json:"org_id,omitempty"`
	ActorID    string          `json:"actor_id,omitempty"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type,omitempty"`
	TargetID   string          `json:"target_id,omitempty"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
}

func jsonLines(events []store.AuditEvent) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, e := range events {
		enc.Encode(AuditLine{ID: e.ID, At: e.At.UTC(), OrgID: e.OrgID, ActorID: e.ActorID, Actor: e.Actor, Action: e.Action,
			TargetType: e.TargetType, TargetID: e.TargetID, Before: e.Before, After: e.After})
	}
	return b.Bytes()
}

// WriterSink writes audit events as JSON lines to W (stdout, for a log
// shipper that reads the container's output).
type WriterSink struct {
	mu sync.Mutex
	W  io.Writer
}

// Send writes the events.
func (s *WriterSink) Send(_ context.Context, events []store.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.W.Write(jsonLines(events))
	return err
}

// HTTPSink posts each batch of audit events as application/x-ndjson to
// URL, signed like a webhook when Secret is set. Anything but a 2xx is a
// failure: the batch is sent again later.
type HTTPSink struct {
	URL    string
	Secret string // "whsec_…", optional
	// Client posts the batches; nil means GuardedClient(nil).
	Client *http.Client
	Now    func() time.Time

	fallback sync.Once
}

// Send posts the events.
func (s *HTTPSink) Send(ctx context.Context, events []store.AuditEvent) error {
	body := jsonLines(events)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if s.Secret != "" {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		if err := SetHeaders(req.Header, s.Secret, "audit_"+events[0].ID, now(), body); err != nil {
			return err
		}
	}
	s.fallback.Do(func() {
		if s.Client == nil {
			s.Client = GuardedClient(nil)
		}
	})
	resp, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}
