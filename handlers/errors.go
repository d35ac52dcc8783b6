package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

// PageError is an error whose message is safe to show to people as is.
type PageError struct {
	Status  int
	Message string
	Err     error // the cause, logged and never shown
}

func (e *PageError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *PageError) Unwrap() error { return e.Err }

// Fixed messages people see. Details go to the log only.
var statusMessages = map[int]string{
	http.StatusBadRequest:            "The request was not valid.",
	http.StatusUnauthorized:          "Please sign in to continue.",
	http.StatusForbidden:             "You do not have access to this page.",
	http.StatusNotFound:              "This page does not exist.",
	http.StatusMethodNotAllowed:      "This page does not accept that kind of request.",
	http.StatusRequestEntityTooLarge: "The request was too large.",
	http.StatusTooManyRequests:       "Too many requests. Please wait a moment and try again.",
	http.StatusInternalServerError:   "Something went wrong on our side. It has been logged; please try again.",
	http.StatusServiceUnavailable:    "Portico is not ready yet. Please try again shortly.",
}

// RetryAfterSeconds is the Retry-After of a 503 answered because the
// database is unavailable.
const RetryAfterSeconds = "2"

// errorHandler is echo's HTTPErrorHandler: the one place that maps errors to
// a status and a page.
func errorHandler(log *slog.Logger, pages *Pages) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, msg := http.StatusInternalServerError, ""
		var pe *PageError
		var he *echo.HTTPError
		switch {
		case errors.As(err, &pe):
			status, msg = pe.Status, pe.Message
		case errors.Is(err, store.ErrNotFound):
			status = http.StatusNotFound
		case errors.Is(err, store.ErrBadCursor):
			status, msg = http.StatusBadRequest, "That page link is not valid; start again from the first page."
		case errors.As(err, &he):
			status = he.Code
		}
		if reason, ok := store.Unavailable(err); ok && status >= 500 {
			// Locked, read-only, full or unreachable: nothing was saved
			// (the transaction rolled back); the browser may retry.
			status, msg = http.StatusServiceUnavailable, "Portico cannot save or read data right now. Nothing was changed; please try again in a few seconds."
			c.Response().Header().Set("Retry-After", RetryAfterSeconds)
			log.Error("database unavailable", "reason", reason, "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		if msg == "" {
			msg = statusMessages[status]
			if msg == "" {
				msg = http.StatusText(status)
			}
		}
		reqID := c.Response().Header().Get(echo.HeaderXRequestID)
		r := c.Request()
		attrs := []any{"status", status, "method", r.Method, "path", r.URL.Path, "request_id", reqID, "err", err}
		if status >= 500 {
			log.Error("request failed", attrs...)
		} else {
			log.Debug("request refused", attrs...)
		}
		if r.Method == http.MethodHead {
			c.NoContent(status)
			return
		}
		if wantsJSON(r) {
			c.JSON(status, map[string]string{"error": http.StatusText(status), "message": msg, "request_id": reqID})
			return
		}
		p := pages.Page(c, http.StatusText(status))
		p.Narrow = viewerFrom(c) == nil
		if rerr := render(c, status, views.Error(p, views.ErrorProps{Status: status, Message: msg, RequestID: reqID})); rerr != nil {
			log.Error("rendering the error page failed", "err", rerr)
			c.String(status, msg)
		}
	}
}
