package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Unavailable reports whether err means the database cannot do its job for
// now — locked by another process, read-only, out of disk space, or a lost
// PostgreSQL connection — rather than that the request was wrong. It returns
// a reason for the log and the client. Such a request is answered 503 with
// Retry-After: the transaction it ran was rolled back whole, and the service
// resumes by itself once the fault clears (the pools reconnect and retry).
func Unavailable(err error) (reason string, ok bool) {
	if err == nil {
		return "", false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return "the database is locked by another process", true
		case sqlite3.SQLITE_READONLY:
			return "the database file is read-only", true
		case sqlite3.SQLITE_FULL:
			return "the disk holding the database is full", true
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			if strings.Contains(se.Error(), "no space") {
				return "the disk holding the database is full", true
			}
			return "the database file cannot be read or written", true
		}
		return "", false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03":
			return "the PostgreSQL server is unreachable or restarting", true
		case pe.Code == "53100":
			return "the PostgreSQL server's disk is full", true
		case strings.HasPrefix(pe.Code, "53"):
			return "the PostgreSQL server is out of resources", true
		case pe.Code == "25006":
			return "the PostgreSQL server is read-only", true
		case pe.Code == "55P03", pe.Code == "40P01":
			return "the database is locked", true
		}
		return "", false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.ErrUnexpectedEOF), pgconn.SafeToRetry(err):
		return "the PostgreSQL server is unreachable or restarting", true
	case errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled):
		return "the database did not answer in time", true
	}
	if s := err.Error(); strings.Contains(s, "conn closed") || strings.Contains(s, "connection reset") ||
		strings.Contains(s, "broken pipe") || strings.Contains(s, "unexpected EOF") {
		return "the PostgreSQL server is unreachable or restarting", true
	}
	return "", false
}
