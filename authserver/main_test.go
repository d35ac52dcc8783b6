package authserver_test

import (
	"log/slog"
	"os"
	"testing"
)

// TestMain keeps the test output readable: zitadel/oidc's op logs each
// endpoint at INFO through slog.Default() every time a server is built, and
// these tests build hundreds. Warnings and errors still show.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}
