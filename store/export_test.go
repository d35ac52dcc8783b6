package store

import (
	"context"
	"strconv"
)

// NotifyingTables exposes the tables with a change trigger to the external
// tests.
var NotifyingTables = notifyingTables

// SetParamLimit lowers the bind-parameter limit chunked queries keep
// within, so tests reach several chunks with few rows; 0 restores the
// engine's.
func SetParamLimit(n int) { paramLimit = n }

// MaxParams is the engine's bind-parameter limit as chunked queries see it.
func (s *Store) MaxParams() int { return s.maxParams() }

// AddOutcomeRefs stores n outcome references of policyID at version (rules
// 1000 onwards) that no decision uses, as a policy edited for a long time
// accumulates, with one statement.
func (s *Store) AddOutcomeRefs(ctx context.Context, policyID string, version, n int) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO decision_refs (value)
		WITH RECURSIVE k(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
		SELECT ? || CAST(i AS TEXT) || ',"permit","r"]' FROM k`,
		999+n, refOutcome+`["`+policyID+`",`+strconv.Itoa(version)+`,`)
	return err
}

// QuietColumns exposes, per table, the columns an UPDATE may set without
// moving the data version.
var QuietColumns = quietColumns
