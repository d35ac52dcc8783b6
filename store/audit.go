package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
	return nil
}

func nullJSON(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// AuditFilter selects audit events; a zero OrgID means every organization
// (platform admins only).
type AuditFilter struct {
	OrgID string
	// ActionPrefix keeps only actions starting with it ("scim." for the
	// directory's sync events).
	ActionPrefix string
	Limit        int
}

// AuditEvents lists events, newest first.
func (s *Store) AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	q := `SELECT id, at, COALESCE(org_id, ''), actor_id, actor, action, target_type, target_id,
		COALESCE(before, ''), COALESCE(after, '') FROM audit_events`
	args := []any{}
	var where []string
	if f.OrgID != "" {
		where = append(where, `org_id = ?`)
		args = append(args, f.OrgID)
	}
	if f.ActionPrefix != "" {
		where = append(where, `action LIKE ? ESCAPE '\'`)
		args = append(args, strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.ActionPrefix)+"%")
	}
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY at DESC, id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit events: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var at int64
		var before, after string
		if err := rows.Scan(&e.ID, &at, &e.OrgID, &e.ActorID, &e.Actor, &e.Action, &e.TargetType, &e.TargetID,
			&before, &after); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		if before != "" {
			e.Before = json.RawMessage(before)
		}
		if after != "" {
			e.After = json.RawMessage(after)
		}
		out = append(out, e)
	}
	return out, rows.Err()
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
