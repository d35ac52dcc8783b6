package policyeditor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"portico/store"
)

// Service is the policy lifecycle: save (every save a new immutable
// version), versions, diff, restore, import, export, attach. The web editor
// and the CLI are two thin front doors onto it, so both refuse the same
// invalid documents and write the same audit events.
//
// It holds no goroutine and no cache; evaluation at the attachment points is
// the Engine's job.
type Service struct {
	Store *store.Store
	// Now stamps audit events; nil means time.Now.
	Now func() time.Time
}

// ErrConflict is returned by Save when the policy was saved by someone else
// since the version the author started from.
var ErrConflict = errors.New("policyeditor: the policy was changed by someone else since you opened it")

// ErrNameTaken is returned when another policy already has the document's
// name; it is reported on the "name" field too.
var ErrNameTaken = errors.New("policyeditor: another policy has this name")

// Saved is the result of a save: the policy and the version just written.
type Saved struct {
	Policy  store.Policy
	Version store.PolicyVersion
	// Created is true when the save created the policy.
	Created bool
}

// Save compiles doc and stores it as a new version of policyID, or as a new
// policy when policyID is "". base is the version the author started from
// (0: do not check). An invalid document is refused whole with FieldErrors
// and nothing is stored. The version and its audit event commit together.
func (s *Service) Save(ctx context.Context, actor store.Actor, policyID string, base int, doc Document, note string) (Saved, error) {
	if _, err := Compile(doc); err != nil {
		return Saved{}, err
	}
	body, err := MarshalDocument(doc)
	if err != nil {
		return Saved{}, err
	}
	var out Saved
	err = s.Store.InTx(ctx, func(tx *store.Store) error {
		p := store.Policy{ID: policyID, Name: doc.Name, Kind: string(doc.Kind), Description: doc.Description}
		v := store.PolicyVersion{Document: body, AuthorID: actor.UserID, Author: actor.Label, Note: note}
		if policyID == "" {
			if err := tx.CreatePolicy(ctx, &p, &v); err != nil {
				return err
			}
			out = Saved{Policy: p, Version: v, Created: true}
			return s.audit(ctx, tx, actor, "policy.create", p, nil, v)
		}
		before, err := tx.Policy(ctx, policyID)
		if err != nil {
			return err
		}
		if before.Kind != p.Kind {
			if err := refuseKindChange(ctx, tx, before); err != nil {
				return err
			}
		}
		if err := tx.AddPolicyVersion(ctx, &p, base, &v); err != nil {
			return err
		}
		out = Saved{Policy: p, Version: v}
		return s.audit(ctx, tx, actor, "policy.save", p, before, v)
	})
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return Saved{}, errors.Join(ErrNameTaken, FieldErrors{{Path: "name", Message: fmt.Sprintf("another policy is already called %q", doc.Name)}})
	case errors.Is(err, store.ErrConflict):
		return Saved{}, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return out, err
}

// refuseKindChange keeps an attached policy's kind, because an application
// or point would otherwise be evaluated with a policy written for another.
func refuseKindChange(ctx context.Context, tx *store.Store, p store.Policy) error {
	uses, err := usage(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	if n := len(uses.Apps) + len(uses.Points); n > 0 {
		return FieldErrors{{Path: "kind", Message: fmt.Sprintf("the policy is attached in %d place(s) as %s; detach it before changing its kind", n, p.Kind)}}
	}
	return nil
}

func (s *Service) audit(ctx context.Context, tx *store.Store, actor store.Actor, action string, p store.Policy, before any, v store.PolicyVersion) error {
	e := actor.Event("", action, "policy", p.ID)
	if s.Now != nil {
		e.At = s.Now()
	}
	after := map[string]any{"policy": p, "version": v.Version, "note": v.Note, "document": v.Document}
	return tx.Audit(ctx, e, before, after)
}

// MarshalDocument is the canonical JSON of a document: indented, in field
// order, so that versions diff line by line and exports are stable in
// version control.
func MarshalDocument(doc Document) ([]byte, error) {
	if doc.Rules == nil {
		doc.Rules = []Rule{} // "rules": [] rather than null, as the format shows
	}
	for i := range doc.Rules {
		if doc.Rules[i].Conditions == nil {
			doc.Rules[i].Conditions = []Condition{}
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("policyeditor: marshal document: %w", err)
	}
	return append(b, '\n'), nil
}

// Current returns a policy, its current version and that version's document.
func (s *Service) Current(ctx context.Context, policyID string) (store.Policy, store.PolicyVersion, Document, error) {
	p, v, err := s.Store.CurrentPolicyVersion(ctx, policyID)
	if err != nil {
		return p, v, Document{}, err
	}
	doc, err := storedDocument(v)
	return p, v, doc, err
}

// Version returns version n of a policy and its document.
func (s *Service) Version(ctx context.Context, policyID string, n int) (store.PolicyVersion, Document, error) {
	v, err := s.Store.PolicyVersion(ctx, policyID, n)
	if err != nil {
		return v, Document{}, err
	}
	doc, err := storedDocument(v)
	return v, doc, err
}

// storedDocument reads a stored version. Stored documents compiled when they
// were saved, so a failure here is corruption, not user error.
func storedDocument(v store.PolicyVersion) (Document, error) {
	doc, err := ParseDocument(v.Document)
	if err != nil {
		return doc, fmt.Errorf("policyeditor: stored policy %s version %d: %w", v.PolicyID, v.Version, err)
	}
	return doc, nil
}

// Restore saves version n's document as a new version, so history only ever
// grows and the restore itself is visible in it.
func (s *Service) Restore(ctx context.Context, actor store.Actor, policyID string, n int) (Saved, error) {
	_, doc, err := s.Version(ctx, policyID, n)
	if err != nil {
		return Saved{}, err
	}
	return s.Save(ctx, actor, policyID, 0, doc, fmt.Sprintf("restored from version %d", n))
}

// Import reads a policy document and saves it: as a new version of the
// policy with the same name, or as a new policy. Both the JSON shape and the
// meaning are checked, and every problem is reported with its path.
func (s *Service) Import(ctx context.Context, actor store.Actor, data []byte) (Saved, error) {
	if _, err := CompileJSON(data); err != nil {
		return Saved{}, err
	}
	doc, err := ParseDocument(data)
	if err != nil {
		return Saved{}, err
	}
	id := ""
	switch p, err := s.Store.PolicyByName(ctx, doc.Name); {
	case err == nil:
		id = p.ID
	case !errors.Is(err, store.ErrNotFound):
		return Saved{}, err
	}
	return s.Save(ctx, actor, id, 0, doc, "imported")
}

// Export returns the current document of a policy in the import format.
func (s *Service) Export(ctx context.Context, policyID string) ([]byte, error) {
	_, v, err := s.Store.CurrentPolicyVersion(ctx, policyID)
	if err != nil {
		return nil, err
	}
	return v.Document, nil
}

// ByName finds a policy by name, for the CLI.
func (s *Service) ByName(ctx context.Context, name string) (store.Policy, error) {
	return s.Store.PolicyByName(ctx, name)
}
