package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Decision is one recorded policy evaluation. Decisions are platform-wide;
// OrgID is the organization the request acted for, so that an org admin can
// be shown their own organization's decisions and nobody else's.
type Decision struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	Point   string    `json:"point"`
	OrgID   string    `json:"org_id,omitempty"`
	UserID  string    `json:"user_id,omitempty"`
	Subject string    `json:"subject,omitempty"` // an email, or a client_id for machines
	// ClientID is the public client_id of the application asking.
	ClientID string `json:"client_id,omitempty"`
	// Context is what the decision looked at (ip, country, groups, mfa…).
	Context       json.RawMessage `json:"context,omitempty"`
	PolicyID      string          `json:"policy_id,omitempty"`
	PolicyName    string          `json:"policy_name,omitempty"` // filled when read
	PolicyVersion int             `json:"policy_version,omitempty"`
	Rule          int             `json:"rule,omitempty"` // 1-based; 0 when the default decided
	Action        string          `json:"action"`
	Reason        string          `json:"reason"`
}

// InsertDecisions writes a batch of decisions in one transaction: one commit
// per batch is what keeps the log cheap under token-endpoint load.
//
// Rows go in one prepared single-row INSERT each: a multi-row INSERT needs
// SQLite's statement journal (a temporary file written per statement),
// which measured slower than the row-at-a-time statement it was meant to beat.
func (s *Store) InsertDecisions(ctx context.Context, ds []Decision) error {
	if len(ds) == 0 {
		return nil
	}
	return s.InTx(ctx, func(tx *Store) error {
		const q = `INSERT INTO policy_decisions (id, at, point, org_id, user_id, subject, client_id, context,
			policy_id, policy_version, rule, action, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
		exec := tx.q.ExecContext
		if p, ok := tx.q.(interface {
			PrepareContext(context.Context, string) (*sql.Stmt, error)
		}); ok {
			stmt, err := p.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("store: insert decisions: %w", err)
			}
			defer stmt.Close()
			exec = func(ctx context.Context, _ string, args ...any) (sql.Result, error) {
				return stmt.ExecContext(ctx, args...)
			}
		}
		for _, d := range ds {
			ctxJSON := string(d.Context)
			if ctxJSON == "" {
				ctxJSON = "{}"
			}
			if _, err := exec(ctx, q, d.ID, ms(d.At), d.Point, d.OrgID, d.UserID, d.Subject, d.ClientID, ctxJSON,
				d.PolicyID, d.PolicyVersion, d.Rule, d.Action, d.Reason); err != nil {
				return fmt.Errorf("store: insert decisions: %w", err)
			}
		}
		return nil
	})
}

// DecisionFilter selects decisions. OrgID "" means every organization, which
// only platform admins may ask for; the other fields narrow when set.
type DecisionFilter struct {
	OrgID    string
	From     time.Time // inclusive
	Until    time.Time // exclusive
	User     string    // a user ID or a subject (email, machine client_id)
	ClientID string
	Action   string
	Point    string
	Limit    int // at most 5000; 0 means 200
}

const decisionColumns = `d.id, d.at, d.point, d.org_id, d.user_id, d.subject, d.client_id, d.context, d.policy_id,
	COALESCE(p.name, ''), d.policy_version, d.rule, d.action, d.reason`

func scanDecision(row interface{ Scan(...any) error }) (Decision, error) {
	var d Decision
	var at int64
	var ctxJSON string
	err := row.Scan(&d.ID, &at, &d.Point, &d.OrgID, &d.UserID, &d.Subject, &d.ClientID, &ctxJSON, &d.PolicyID,
		&d.PolicyName, &d.PolicyVersion, &d.Rule, &d.Action, &d.Reason)
	d.At, d.Context = fromMS(at), json.RawMessage(ctxJSON)
	return d, err
}

// Decisions lists decisions matching f, newest first.
func (s *Store) Decisions(ctx context.Context, f DecisionFilter) ([]Decision, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	f.Limit = min(f.Limit, 5000)
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.OrgID != "" {
		add("d.org_id = ?", f.OrgID)
	}
	if !f.From.IsZero() {
		add("d.at >= ?", ms(f.From))
	}
	if !f.Until.IsZero() {
		add("d.at < ?", ms(f.Until))
	}
	if f.User != "" {
		where = append(where, "(d.user_id = ? OR d.subject = ?)")
		args = append(args, f.User, f.User)
	}
	if f.ClientID != "" {
		add("d.client_id = ?", f.ClientID)
	}
	if f.Action != "" {
		add("d.action = ?", f.Action)
	}
	if f.Point != "" {
		add("d.point = ?", f.Point)
	}
	q := `SELECT ` + decisionColumns + ` FROM policy_decisions d LEFT JOIN policies p ON p.id = d.policy_id`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY d.at DESC, d.id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: decisions: %w", err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, fmt.Errorf("store: decisions: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Decision returns one decision by its ID (the reference a Deny page
// shows). With orgID set, another organization's decision is ErrNotFound;
// orgID "" looks across organizations (platform admins).
func (s *Store) Decision(ctx context.Context, orgID, id string) (Decision, error) {
	q := `SELECT ` + decisionColumns + ` FROM policy_decisions d LEFT JOIN policies p ON p.id = d.policy_id WHERE d.id = ?`
	args := []any{id}
	if orgID != "" {
		q += ` AND d.org_id = ?`
		args = append(args, orgID)
	}
	d, err := scanDecision(s.q.QueryRowContext(ctx, q, args...))
	if err != nil {
		return d, notFound("store: decision", err)
	}
	return d, nil
}
