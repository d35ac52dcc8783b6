package federation

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"portico/store"
)

// Service creates and changes connections with validation, sealing and
// audit: the portal's pages and the CLI are two front doors onto it.
type Service struct {
	Store    *store.Store
	Sealer   *store.Sealer
	Registry *Registry
	Now      func() time.Time
}

// Input is a requested change. Nil fields are left as they are; Settings
// are merged over the current ones.
type Input struct {
	Type        string // create only
	Name        *string
	Enabled     *bool
	ShowOnLogin *bool
	Settings    map[string]string
	// Secret, when non-nil and not empty, replaces the stored secret. It is
	// sealed at once and never returned.
	Secret *string
}

// connectionAudit is a connection as the audit log records it: never the
// secret, only whether there is one.
type connectionAudit struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Enabled     bool            `json:"enabled"`
	ShowOnLogin bool            `json:"show_on_login"`
	Config      json.RawMessage `json:"config"`
	HasSecret   bool            `json:"has_secret"`
}

func auditView(x store.Connection) connectionAudit {
	return connectionAudit{ID: x.ID, Type: x.Type, Name: x.Name, Enabled: x.Enabled, ShowOnLogin: x.ShowOnLogin,
		Config: x.Config, HasSecret: len(x.Secret) > 0}
}

// TypeAllowed reports whether orgID may add connections of type typ.
func (s *Service) TypeAllowed(ctx context.Context, orgID, typ string) (bool, error) {
	allowed, restricted, err := s.Store.AllowedConnectionTypes(ctx, orgID)
	if err != nil || !restricted {
		return err == nil, err
	}
	return slices.Contains(allowed, typ), nil
}

// AllowedTypes returns the types orgID may add, in display order, with one
// read of the restriction.
func (s *Service) AllowedTypes(ctx context.Context, orgID string) ([]Type, error) {
	allowed, restricted, err := s.Store.AllowedConnectionTypes(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []Type
	for _, t := range s.Registry.Types() {
		if !restricted || slices.Contains(allowed, t.Name) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Create adds a connection to orgID. Invalid input returns FieldErrors and
// stores nothing.
func (s *Service) Create(ctx context.Context, actor store.Actor, orgID string, in Input) (store.Connection, error) {
	t, ok := s.Registry.Type(in.Type)
	if !ok {
		return store.Connection{}, FieldErrors{"type": "Choose one of the connection types offered."}
	}
	if ok, err := s.TypeAllowed(ctx, orgID, t.Name); err != nil {
		return store.Connection{}, err
	} else if !ok {
		return store.Connection{}, FieldErrors{"type": "Your organization may not add this type of connection."}
	}
	x := store.Connection{ID: store.NewID(), OrgID: orgID, Type: t.Name, Enabled: true}
	if err := s.apply(t, &x, in); err != nil {
		return x, err
	}
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateConnection(ctx, &x); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.Event(orgID, "connection.create", "connection", x.ID), nil, auditView(x))
	})
	return x, err
}

// Update changes a connection of orgID; another organization's connection
// is store.ErrNotFound.
func (s *Service) Update(ctx context.Context, actor store.Actor, orgID, id string, in Input) (store.Connection, error) {
	var after store.Connection
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		before, a, err := tx.UpdateConnection(ctx, orgID, id, func(x *store.Connection) error {
			t, ok := s.Registry.Type(x.Type)
			if !ok {
				return ErrUnknownType
			}
			return s.apply(t, x, in)
		})
		if err != nil {
			return err
		}
		after = a
		return tx.Audit(ctx, actor.Event(orgID, "connection.update", "connection", id), auditView(before), auditView(after))
	})
	return after, err
}

// apply validates in onto x, seals a new secret, and reports every problem.
func (s *Service) apply(t Type, x *store.Connection, in Input) error {
	errs := FieldErrors{}
	if in.Name != nil {
		x.Name = strings.TrimSpace(*in.Name)
	}
	if x.Name == "" || len(x.Name) > 80 {
		errs["name"] = "Give a name of 1–80 characters."
	}
	if in.Enabled != nil {
		x.Enabled = *in.Enabled
	}
	if in.ShowOnLogin != nil {
		x.ShowOnLogin = *in.ShowOnLogin
	}
	cfg := t.New()
	if len(x.Config) > 0 {
		if err := json.Unmarshal(x.Config, cfg); err != nil {
			return err
		}
	}
	for k, v := range cfg.Set(in.Settings) {
		errs[k] = v
	}
	var secret []byte
	newSecret := in.Secret != nil && *in.Secret != ""
	switch {
	case newSecret:
		secret = []byte(*in.Secret)
	case len(x.Secret) > 0:
		opened, err := s.Sealer.Open(x.Secret, SecretPurpose(x.ID))
		if err != nil {
			return err
		}
		secret = opened
	}
	if t.Secret != "" && t.SecretRequired && len(secret) == 0 {
		errs["secret"] = "Enter the " + strings.ToLower(t.Secret) + "."
	}
	if len(errs) > 0 {
		return errs
	}
	if p, ok := cfg.(SecretPreparer); ok {
		prepared, err := p.PrepareSecret(secret)
		if err != nil {
			return err
		}
		newSecret = newSecret || !slices.Equal(prepared, secret)
		secret = prepared
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	x.Config = raw
	if newSecret {
		x.Secret = s.Sealer.Seal(secret, SecretPurpose(x.ID))
	}
	return nil
}

// IsFieldErrors extracts field messages from err.
func IsFieldErrors(err error) (FieldErrors, bool) {
	var fe FieldErrors
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}

// Delete removes a connection of orgID with its linked identities; the
// accounts stay, and sign in by password, another connection (linked by
// verified email) or a reset link. The audit event records how many
// links went. Another organization's connection is store.ErrNotFound.
func (s *Service) Delete(ctx context.Context, actor store.Actor, orgID, id string) error {
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		x, err := tx.Connection(ctx, orgID, id)
		if err != nil {
			return err
		}
		impact, err := tx.ConnectionImpact(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteConnection(ctx, orgID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.Event(orgID, "connection.delete", "connection", id), auditView(x),
			map[string]int{"identities_unlinked": impact.Linked, "accounts_without_sign_in": impact.Stranded})
	})
}
