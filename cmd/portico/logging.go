package main

import (
	"context"
	"log/slog"
)

// opRouteMessage is what zitadel/oidc's op.RegisterServer logs, at INFO and
// through slog.Default(), for each endpoint every time a server is built.
// The routes are fixed by our code, so the lines say nothing an operator
// needs at info level; they stay available at debug.
const opRouteMessage = "registered route"

// demoteOpRoutes wraps h so that op's "registered route" lines are logged at
// DEBUG instead of INFO. Matching the message is the only handle: op logs
// through the process-wide default logger and offers no option to silence
// it (WithFallbackLogger is a no-op in v3.51).
func demoteOpRoutes(h slog.Handler) slog.Handler { return routeDemoter{h} }

type routeDemoter struct{ slog.Handler }

// Handle re-levels op's route lines and drops them unless debug is enabled.
func (d routeDemoter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo && r.Message == opRouteMessage {
		if !d.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return d.Handler.Handle(ctx, r)
}

// WithAttrs keeps the demotion on derived handlers.
func (d routeDemoter) WithAttrs(as []slog.Attr) slog.Handler {
	return routeDemoter{d.Handler.WithAttrs(as)}
}

// WithGroup keeps the demotion on derived handlers.
func (d routeDemoter) WithGroup(name string) slog.Handler {
	return routeDemoter{d.Handler.WithGroup(name)}
}

// setProcessLogger makes log the process's default logger, for the
// libraries that log through slog.Default() (zitadel/oidc's op), with op's
// per-build route lines demoted. Only the long-running entry points (serve,
// bench) call it, once, before anything is built.
func setProcessLogger(log *slog.Logger) {
	slog.SetDefault(slog.New(demoteOpRoutes(log.Handler())))
}
