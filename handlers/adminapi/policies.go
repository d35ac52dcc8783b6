package adminapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"portico/policyeditor"
	"portico/store"
)

// Policy is a policy with where it is used.
type Policy struct {
	store.Policy
	Usage policyeditor.Usage `json:"usage"`
}

// PolicyImported is the result of an import: the policy and the version
// saved.
type PolicyImported struct {
	Policy  store.Policy `json:"policy"`
	Version int          `json:"version"`
	Created bool         `json:"created"`
}

// EvalBody evaluates a policy document against a request document without
// saving anything (the CLI's policy eval).
type EvalBody struct {
	Policy  json.RawMessage `json:"policy"`
	Request json.RawMessage `json:"request"`
}

// AttachmentBody names where a policy applies: exactly one of client_id,
// portal, m2m, registration (with plan: for one plan's registrations) or
// route (API requests under a path prefix, optionally on host and for
// api). policy is the policy's name or ID; a DELETE ignores it.
type AttachmentBody struct {
	Policy       string `json:"policy,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	Portal       bool   `json:"portal,omitempty"`
	M2M          bool   `json:"m2m,omitempty"`
	Registration bool   `json:"registration,omitempty"`
	Plan         string `json:"plan,omitempty"`
	Route        string `json:"route,omitempty"`
	Host         string `json:"host,omitempty"`
	APIID        string `json:"api,omitempty"`
}

// Attachment is the attachment after the change.
type Attachment struct {
	Policy   string `json:"policy,omitempty"`
	Target   string `json:"target"`
	Attached bool   `json:"attached"`
}

func (a *API) policies() *policyeditor.Service {
	return &policyeditor.Service{Store: a.cfg.Store, Now: a.cfg.Now}
}

func (a *API) listPolicies(c *call) error {
	ps, err := a.cfg.Store.Policies(c.ctx())
	if err != nil {
		return err
	}
	svc := a.policies()
	out := make([]Policy, 0, len(ps))
	for _, p := range ps {
		u, err := svc.Usage(c.ctx(), p.ID)
		if err != nil {
			return err
		}
		out = append(out, Policy{Policy: p, Usage: u})
	}
	return list(c, out, store.PageInfo{})
}

// policy finds :id, or a body's policy, by ID or name.
func (a *API) policyByRef(c *call, ref string) (store.Policy, error) {
	p, err := a.cfg.Store.Policy(c.ctx(), ref)
	if errors.Is(err, store.ErrNotFound) {
		p, err = a.policies().ByName(c.ctx(), ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return p, problem{Status: http.StatusNotFound, Detail: "No such policy."}
	}
	return p, err
}

// exportPolicy answers the policy's current document, in the import format.
func (a *API) exportPolicy(c *call) error {
	p, err := a.policyByRef(c, c.Param("id"))
	if err != nil {
		return err
	}
	doc, err := a.policies().Export(c.ctx(), p.ID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etagOf(json.RawMessage(doc)))
	return c.Blob(http.StatusOK, "application/json", doc)
}

func (a *API) importPolicy(c *call) error {
	var doc json.RawMessage
	if err := c.bind(&doc); err != nil {
		return err
	}
	saved, err := a.policies().Import(c.ctx(), c.actor(), doc)
	if err != nil {
		return err
	}
	return c.created("/policies/"+saved.Policy.ID, PolicyImported{Policy: saved.Policy, Version: saved.Version.Version, Created: saved.Created})
}

func (a *API) evalPolicy(c *call) error {
	var b EvalBody
	if err := c.bind(&b); err != nil {
		return err
	}
	out, err := policyeditor.EvalJSON(b.Policy, b.Request, a.cfg.Locator)
	if err != nil {
		return problem{Status: http.StatusUnprocessableEntity, Detail: err.Error()}
	}
	return c.Blob(http.StatusOK, "application/json", out)
}

// attachment applies or removes an attachment.
func (a *API) attachment(attach bool) func(c *call) error {
	return func(c *call) error {
		var b AttachmentBody
		if err := c.bind(&b); err != nil {
			return err
		}
		n := 0
		for _, set := range []bool{b.ClientID != "", b.Portal, b.M2M, b.Registration, b.Route != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			return problem{Status: http.StatusUnprocessableEntity, Detail: "Name exactly one of client_id, portal, m2m, registration, route."}
		}
		svc := a.policies()
		var p store.Policy
		if attach {
			var err error
			if p, err = a.policyByRef(c, b.Policy); err != nil {
				return err
			}
		}
		if b.Route != "" {
			r, err := policyeditor.NormalizeRoute(store.APIRoute{PathPrefix: b.Route, Host: b.Host, API: b.APIID})
			if err != nil {
				return problem{Status: http.StatusUnprocessableEntity, Detail: err.Error()}
			}
			if attach {
				err = svc.AttachRoute(c.ctx(), c.actor(), p.ID, r)
			} else {
				err = svc.DetachRoute(c.ctx(), c.actor(), r)
			}
			if err != nil {
				return err
			}
			return c.json(http.StatusOK, Attachment{Policy: p.Name, Target: "API requests under " + r.PathPrefix, Attached: attach})
		}
		var t policyeditor.Target
		switch {
		case b.ClientID != "":
			if _, err := a.cfg.Store.LookupClient(c.ctx(), b.ClientID); err != nil {
				return err
			}
			t.ClientID = b.ClientID
		case b.Portal:
			t.Point = store.AttachPortal
		case b.M2M:
			t.Point = store.AttachM2M
		default:
			t.Point = store.AttachRegistration
			if b.Plan != "" {
				pl, err := a.cfg.Store.PlanBySlug(c.ctx(), b.Plan)
				if err != nil {
					return err
				}
				t.Plan = pl.ID
			}
		}
		var err error
		if attach {
			err = svc.Attach(c.ctx(), c.actor(), p.ID, t)
		} else {
			err = svc.Detach(c.ctx(), c.actor(), t)
		}
		if errors.Is(err, policyeditor.ErrWrongKind) {
			return problem{Status: http.StatusUnprocessableEntity, Detail: "The policy's kind does not fit this attachment."}
		}
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, Attachment{Policy: p.Name, Target: t.String(), Attached: attach})
	}
}
