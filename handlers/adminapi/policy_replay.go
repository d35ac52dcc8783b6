package adminapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"portico/policyeditor"
	"portico/store"
)

// ReplayBody asks what a version of the policy would have decided over the
// decision log: a document (a draft) or a saved version (0: the current
// one), over the last days (default 7, at most 90).
type ReplayBody struct {
	Document json.RawMessage `json:"document,omitempty"`
	Version  int             `json:"version,omitempty"`
	Days     int             `json:"days,omitempty"`
	// Limit bounds the decisions replayed (default 10,000,000); Samples
	// the sample decisions per changed cell (default 5).
	Limit   int `json:"limit,omitempty"`
	Samples int `json:"samples,omitempty"`
}

// ReportOnlyBody attaches a saved version, or a document saved as a new
// version that is not enforced, in report-only mode.
type ReportOnlyBody struct {
	Version  int             `json:"version,omitempty"`
	Document json.RawMessage `json:"document,omitempty"`
}

// PromoteBody names the report-only version to enforce: the one looked at.
type PromoteBody struct {
	Version int `json:"version"`
}

// replayPolicy is the impact preview (the CLI's policy replay).
func (a *API) replayPolicy(c *call) error {
	p, err := a.policyByRef(c, c.Param("id"))
	if err != nil {
		return err
	}
	var b ReplayBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.Days == 0 {
		b.Days = 7
	}
	if b.Days < 1 || b.Days > 90 || b.Limit < 0 || b.Samples < 0 || (len(b.Document) > 0 && b.Version != 0) {
		return problem{Status: http.StatusUnprocessableEntity, Detail: "Give days between 1 and 90, and a document or a version, not both."}
	}
	var pol *policyeditor.Policy
	if len(b.Document) > 0 {
		pol, err = policyeditor.CompileJSON(b.Document)
	} else {
		if b.Version == 0 {
			b.Version = p.CurrentVersion
		}
		var v store.PolicyVersion
		if v, err = a.cfg.Store.PolicyVersion(c.ctx(), p.ID, b.Version); err != nil {
			return err
		}
		pol, err = policyeditor.CompileJSON(v.Document)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	if a.cfg.Now != nil {
		now = a.cfg.Now()
	}
	rep, err := policyeditor.Replay(c.ctx(), a.cfg.Store, pol, policyeditor.ReplayOptions{
		Since: now.Add(-time.Duration(b.Days) * 24 * time.Hour), Until: now, PolicyID: p.ID, Limit: b.Limit, Samples: b.Samples})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, rep)
}

// reportOnly attaches (PUT) or detaches (DELETE) the report-only version.
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
		} else {
			var b ReportOnlyBody
			if err := c.bind(&b); err != nil {
				return err
			}
			switch {
			case (b.Version != 0) == (len(b.Document) > 0):
				return problem{Status: http.StatusUnprocessableEntity, Detail: "Give a version or a document."}
			case b.Version != 0:
				err = svc.AttachShadow(c.ctx(), c.actor(), p.ID, b.Version)
			default:
				doc, perr := policyeditor.ParseDocument(b.Document)
				if perr != nil {
					return perr
				}
				_, err = svc.SaveShadow(c.ctx(), c.actor(), p.ID, doc, "report-only (api)")
			}
			if errors.Is(err, policyeditor.ErrWrongKind) {
				return problem{Status: http.StatusUnprocessableEntity, Detail: "That version is of another kind than the policy."}
			}
			if err != nil {
				return err
			}
		}
		if p, err = a.cfg.Store.Policy(c.ctx(), p.ID); err != nil {
			return err
		}
		return c.json(http.StatusOK, p)
	}
}

// promotePolicy enforces the report-only version.
func (a *API) promotePolicy(c *call) error {
	p, err := a.policyByRef(c, c.Param("id"))
	if err != nil {
		return err
	}
	var b PromoteBody
	if err := c.bind(&b); err != nil {
		return err
	}
	after, err := a.policies().Promote(c.ctx(), c.actor(), p.ID, b.Version)
	if errors.Is(err, policyeditor.ErrNotShadow) {
		return problem{Status: http.StatusConflict, Detail: "That version is not in report-only mode (promoted or replaced meanwhile)."}
	}
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, after)
}
