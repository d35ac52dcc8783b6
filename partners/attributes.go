package partners

import (
	"context"
	"strings"

	"portico/store"
)

// SetOrgAttribute sets one of an organization's attributes (what
// param_in_attribute conditions with "of": "org" read) to a
// comma-separated list of values; an empty list removes it. The CLI's
// `org set-attribute` and the admin API both call it.
func (s *Service) SetOrgAttribute(ctx context.Context, actor store.Actor, orgID, name, value string) (store.Organization, error) {
	errs := FieldErrors{}
	if name == "" || strings.TrimSpace(name) != name || strings.ContainsAny(name, " =,") || len(name) > 64 {
		errs["name"] = "Use a plain name without spaces, '=' or ',' (at most 64 characters)."
	}
	if len(value) > 4096 {
		errs["value"] = "Use at most 4096 characters."
	}
	if err := errs.orNil(); err != nil {
		return store.Organization{}, err
	}
	var items []string
	for _, v := range strings.Split(value, ",") {
		if v = strings.TrimSpace(v); v != "" {
			items = append(items, v)
		}
	}
	joined := strings.Join(items, ",")
	var out store.Organization
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		before, after, err := tx.UpdateOrganization(ctx, orgID, func(x *store.Organization) error {
			if x.Attributes == nil {
				x.Attributes = map[string]string{}
			}
			if joined == "" {
				delete(x.Attributes, name)
			} else {
				x.Attributes[name] = joined
			}
			return nil
		})
		if err != nil {
			return err
		}
		out = after
		e := actor.Event(orgID, "org.attribute", "organization", orgID)
		return tx.Audit(ctx, e, map[string]string{name: before.Attributes[name]}, map[string]string{name: after.Attributes[name]})
	})
	return out, err
}
