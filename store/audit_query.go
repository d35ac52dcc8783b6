package store

import (
	"context"
	"time"
)

// AuditQuery narrows the audit log beyond the page's actor search: actions
// starting with Action ("signin." for sign-ins, "client.create" for one
// action), and a time range [From, To); zero values do not narrow.
type AuditQuery struct {
	Action string
	From   time.Time
	To     time.Time
}

// AuditPageWhere is AuditPage narrowed by q.
func (s *Store) AuditPageWhere(ctx context.Context, orgID string, p Page, q AuditQuery) ([]AuditEvent, PageInfo, error) {
	var filters []string
	var args []any
	if q.Action != "" {
		// A half-open range instead of LIKE, so no escaping is needed (see
		// auditByActionPrefix).
		hi := []byte(q.Action)
		hi[len(hi)-1]++
		action := "action"
		if s.e.pg {
			action += ` COLLATE "C"`
		}
		filters = append(filters, action+" >= ?", action+" < ?")
		args = append(args, q.Action, string(hi))
	}
	if !q.From.IsZero() {
		filters = append(filters, "at >= ?")
		args = append(args, ms(q.From))
	}
	if !q.To.IsZero() {
		filters = append(filters, "at < ?")
		args = append(args, ms(q.To))
	}
	if orgID == "" {
		return listPage(ctx, s, auditList, p, nil, filters, args, scanAudit)
	}
	return listPage(ctx, s, auditOrgList, p, []any{orgID}, filters, args, scanAudit)
}
