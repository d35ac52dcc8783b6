package adminapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/federation"
	"portico/federation/pool"
	"portico/partners"
	"portico/policyeditor"
	"portico/store"
)

// problem is an RFC 9457 problem detail. Errors holds per-field messages
// of a 422 (an extension member), keyed like the input's JSON fields.
type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	// challenge is the WWW-Authenticate header of a 401 or 403.
	challenge string
}

func (p problem) Error() string { return http.StatusText(p.Status) + ": " + p.Detail }

// toProblem maps a handler's error to a problem: the one place that does.
// Messages are fixed or come from validation, which is written for people;
// anything unexpected is logged and answered with a bare 500.
func (a *API) toProblem(c *call, err error) problem {
	var p problem
	var fe partners.FieldErrors
	var ffe federation.FieldErrors
	var pfe pool.FieldErrors
	var pe policyeditor.FieldErrors
	var ve *authserver.ValidationError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &p):
	case errors.As(err, &fe):
		p = problem{Status: http.StatusUnprocessableEntity, Detail: "The input has problems; see errors.", Errors: fe}
	case errors.As(err, &ffe):
		p = problem{Status: http.StatusUnprocessableEntity, Detail: "The input has problems; see errors.", Errors: ffe}
	case errors.As(err, &pfe):
		p = problem{Status: http.StatusUnprocessableEntity, Detail: "The input has problems; see errors.", Errors: pfe}
	case errors.As(err, &pe):
		m := map[string]string{}
		for _, f := range pe {
			m[f.Path] = f.Message
		}
		p = problem{Status: http.StatusUnprocessableEntity, Detail: "The policy has problems; see errors.", Errors: m}
	case errors.Is(err, policyeditor.ErrNameTaken), errors.Is(err, policyeditor.ErrConflict):
		p = problem{Status: http.StatusConflict, Detail: "Another policy has this name, or the policy changed meanwhile."}
	case errors.As(err, &ve):
		m := map[string]string{}
		for _, f := range ve.Fields {
			m[f.Field] = f.Message
		}
		p = problem{Status: http.StatusUnprocessableEntity, Detail: "The input has problems; see errors.", Errors: m}
	case errors.Is(err, partners.ErrNotAllowed):
		p = problem{Status: http.StatusForbidden, Detail: "This credential may not make that change."}
	case errors.Is(err, authserver.ErrRegistrationDenied):
		p = problem{Status: http.StatusForbidden, Detail: "The registration rules refused this app."}
	case errors.Is(err, store.ErrNotFound):
		p = problem{Status: http.StatusNotFound, Detail: "No such resource."}
	case errors.Is(err, store.ErrAlreadyExists):
		p = problem{Status: http.StatusConflict, Detail: "That already exists."}
	case errors.Is(err, store.ErrConflict):
		p = problem{Status: http.StatusConflict, Detail: "That conflicts with the current state."}
	case errors.Is(err, store.ErrBadCursor):
		p = problem{Status: http.StatusBadRequest, Detail: "The page cursor is not valid; start again from the first page."}
	case errors.As(err, &he):
		p = problem{Status: he.Code}
	default:
		a.cfg.Log.Error("admin api", "err", err, "method", c.Request().Method, "path", c.Request().URL.Path,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		p = problem{Status: http.StatusInternalServerError, Detail: "Something went wrong on our side; it has been logged."}
	}
	if p.Status >= 400 && p.Status < 500 {
		a.cfg.Log.Debug("admin api refused", "status", p.Status, "err", err, "path", c.Request().URL.Path)
	}
	return p
}

// writeProblem sends p as application/problem+json.
func writeProblem(c echo.Context, p problem) error {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	p.Instance = c.Request().URL.Path
	p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	if p.challenge != "" {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, p.challenge)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return c.Blob(p.Status, "application/problem+json", append(b, '\n'))
}
