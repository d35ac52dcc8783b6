package adminapi

import (
	"encoding/json"
	"net/http"
	"time"

	"portico/policyeditor"
)

// ReplayBody replays the decision log through a policy without enforcing
// it: a saved version of the policy in the path (version 0: the current
// one), or a draft document. since_hours is the window (default 168).
type ReplayBody struct {
	Version    int             `json:"version,omitempty"`
	Document   json.RawMessage `json:"document,omitempty"`
	SinceHours int             `json:"since_hours,omitempty"`
	Limit      int             `json:"limit,omitempty"`
	Samples    int             `json:"samples,omitempty"`
}

// ReportOnlyBody attaches a saved version in report-only mode, or saves a
// document as a report-only version.
type ReportOnlyBody struct {
	Version  int             `json:"version,omitempty"`
	Document json.RawMessage `json:"document,omitempty"`
}

// PromoteBody names the report-only version to enforce (the one looked
// at).
type PromoteBody struct {
	Version int `json:"version"`
}

func invalid(field, msg string) problem {
	return problem{Status: http.StatusUnprocessableEntity, Detail: "The input has problems; see errors.", Errors: map[string]string{field: msg}}
}

func (a *API) replayPolicy(c *call) error {
	p, err := a.policyByRef(c, c.Param("id"))
	if err != nil {
		return err
	}
	var b ReplayBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.SinceHours == 0 {
		b.SinceHours = 7 * 24
	}
	if b.SinceHours < 1 || b.SinceHours > 90*24 {
		return invalid("since_hours", "Choose from 1 to 2160 hours.")
	}
	if b.Limit < 0 || b.Samples < 0 || b.Samples > 50 {
		return invalid("limit", "limit and samples must not be negative; samples at most 50.")
	}
	var doc []byte
	switch {
	case len(b.Document) > 0 && b.Version != 0:
		return invalid("document", "Give a document or a version, not both.")
	case len(b.Document) > 0:
		doc = b.Document
	default:
		n := b.Version
		if n == 0 {
			n = p.CurrentVersion
		}
		v, _, err := a.policies().Version(c.ctx(), p.ID, n)
		if err != nil {
			return err
		}
		doc = v.Document
	}
	pol, err := policyeditor.CompileJSON(doc)
	if err != nil {
		return err
	}
	now := a.cfg.Now()
	rep, err := policyeditor.Replay(c.ctx(), a.cfg.Store, pol, policyeditor.ReplayOptions{PolicyID: p.ID,
		Since: now.Add(-time.Duration(b.SinceHours) * time.Hour), Until: now, Limit: b.Limit, Samples: b.Samples})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, rep)
}

func (a *API) reportOnly(attach bool) func(c *call) error {
	return func(c *call) error {
		p, err := a.policyByRef(c, c.Param("id"))
		if err != nil {
			return err
		}
		svc := a.policies()
		if !attach {
			if err := svc.DetachShadow(c.ctx(), c.actor(), p.ID); err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		}
		var b ReportOnlyBody
		if err := c.bind(&b); err != nil {
			return err
		}
		switch {
		case len(b.Document) > 0 && b.Version != 0, len(b.Document) == 0 && b.Version == 0:
			return invalid("version", "Give a saved version or a document, one of them.")
		case len(b.Document) > 0:
			if _, err := policyeditor.CompileJSON(b.Document); err != nil {
				return err
			}
			doc, err := policyeditor.ParseDocument(b.Document)
			if err != nil {
				return err
			}
			if _, err := svc.SaveShadow(c.ctx(), c.actor(), p.ID, doc, "report-only (api)"); err != nil {
				return err
			}
		default:
			if err := svc.AttachShadow(c.ctx(), c.actor(), p.ID, b.Version); err != nil {
				return err
			}
		}
		after, err := a.cfg.Store.Policy(c.ctx(), p.ID)
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, after)
	}
}

func (a *API) promotePolicy(c *call) error {
	p, err := a.policyByRef(c, c.Param("id"))
	if err != nil {
		return err
	}
	var b PromoteBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.Version < 1 {
		return invalid("version", "Name the report-only version you looked at.")
	}
	after, err := a.policies().Promote(c.ctx(), c.actor(), p.ID, b.Version)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, after)
}
