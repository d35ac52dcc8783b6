package store

import (
	"context"
	"fmt"
)

// RequirePasswordChange makes userID choose a new password at their next
// page view; it is idempotent.
func (s *Store) RequirePasswordChange(ctx context.Context, userID string) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO password_change_required (user_id, created_at) VALUES (?, ?)
		ON CONFLICT (user_id) DO NOTHING`, userID, ms(s.Now()))
	if err != nil {
		return fmt.Errorf("store: require password change: %w", err)
	}
	return nil
}

// PasswordChangeRequired reports whether userID must choose a new password.
func (s *Store) PasswordChangeRequired(ctx context.Context, userID string) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM password_change_required WHERE user_id = ?`, userID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: password change required: %w", err)
	}
	return n > 0, nil
}

// PasswordChanged clears the requirement once the person set their own.
func (s *Store) PasswordChanged(ctx context.Context, userID string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM password_change_required WHERE user_id = ?`, userID)
	if err != nil {
		return fmt.Errorf("store: password changed: %w", err)
	}
	return nil
}

// DeleteOtherSessions ends every session of userID but keepID (the one
// that changed the password).
func (s *Store) DeleteOtherSessions(ctx context.Context, userID, keepID string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keepID)
	if err != nil {
		return fmt.Errorf("store: delete other sessions: %w", err)
	}
	return nil
}

// TargetAudit lists the newest events about one target whose action starts
// with actionPrefix (a sign-in history is the "signin." events about a
// user), at most limit of them. The prefix is a half-open range, as in
// auditByActionPrefix.
func (s *Store) TargetAudit(ctx context.Context, targetType, targetID, actionPrefix string, limit int) ([]AuditEvent, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if actionPrefix == "" {
		return nil, fmt.Errorf("store: target audit: empty action prefix")
	}
	hi := []byte(actionPrefix)
	hi[len(hi)-1]++
	action := "action"
	if s.e.pg {
		action += ` COLLATE "C"`
	}
	rows, err := s.q.QueryContext(ctx, `SELECT id, at, COALESCE(org_id, ''), actor_id, actor, action, target_type,
		target_id, COALESCE(before, ''), COALESCE(after, '') FROM audit_events
		WHERE target_type = ? AND target_id = ? AND `+action+` >= ? AND `+action+` < ?
		ORDER BY at DESC, id DESC LIMIT ?`,
		targetType, targetID, actionPrefix, string(hi), limit)
	if err != nil {
		return nil, fmt.Errorf("store: target audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("store: target audit: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
