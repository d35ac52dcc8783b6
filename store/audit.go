package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AuditEvent records one change made by an admin, a developer or the CLI.
type AuditEvent struct {
	ID         string
	At         time.Time
	OrgID      string // empty for platform-wide changes
	ActorID    string // user ID; empty for the CLI
	Actor      string // human label: an email, or "cli"
	Action     string // e.g. "org.update", "client.rotate_secret"
	TargetType string
	TargetID   string
	Before     json.RawMessage // JSON of the object before; nil on create
	After      json.RawMessage // JSON of the object after; nil on delete
}

// Audit marshals before and after (either may be nil) and records the event.
// Call it inside the same InTx as the change it describes.
func (s *Store) Audit(ctx context.Context, e AuditEvent, before, after any) error {
	var err error
	if before != nil {
		if e.Before, err = json.Marshal(before); err != nil {
			return err
		}
	}
	if after != nil {
		if e.After, err = json.Marshal(after); err != nil {
			return err
		}
	}
	return s.RecordAudit(ctx, &e)
}

// RecordAudit stores e as given, assigning its ID and time.
func (s *Store) RecordAudit(ctx context.Context, e *AuditEvent) error {
	if e.ID == "" {
		e.ID = NewID()
	}
	if e.At.IsZero() {
		e.At = s.Now()
	}
	_, err := s.q.ExecContext(ctx, `INSERT INTO audit_events
		(id, at, org_id, actor_id, actor, action, target_type, target_id, before, after)
		VALUES (?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, ms(e.At), e.OrgID, e.ActorID, e.Actor, e.Action, e.TargetType, e.TargetID,
		nullJSON(e.Before), nullJSON(e.After))
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	// The outbox row commits with the event (and the change it describes):
	// webhooks and the SIEM stream see every change that committed and none
	// that did not.
	if _, err := s.q.ExecContext(ctx, `INSERT INTO audit_outbox (audit_id, at) VALUES (?, ?)`, e.ID, ms(e.At)); err != nil {
		return fmt.Errorf("store: audit outbox: %w", err)
	}
	return nil
}

func nullJSON(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// Actor is who makes a change: a signed-in user, or the command line.
type Actor struct {
	UserID string // empty for the CLI
	Label  string // an email, or "cli"
}

// Event starts an audit event made by a.
func (a Actor) Event(orgID, action, targetType, targetID string) AuditEvent {
	return AuditEvent{OrgID: orgID, ActorID: a.UserID, Actor: a.Label, Action: action, TargetType: targetType, TargetID: targetID}
}
