package pool

import (
	"context"
	"strings"

	"portico/store"
)

// SetAttribute sets one of a user's attributes (what attribute and
// param_in_attribute policy conditions read) to a comma-separated list of
// values; an empty list removes it. The user is looked up within orgID, so
// another organization's user is store.ErrNotFound. The CLI's
// `user set-attribute` and the admin API both call it.
func (a *Accounts) SetAttribute(ctx context.Context, actor store.Actor, orgID, userID, name, value string) (store.User, error) {
	errs := FieldErrors{}
	if name == "" || strings.TrimSpace(name) != name || strings.ContainsAny(name, " =,") || len(name) > 64 {
		errs["name"] = "Use a plain name without spaces, '=' or ',' (at most 64 characters)."
	}
	if len(value) > 4096 {
		errs["value"] = "Use at most 4096 characters."
	}
	if len(errs) > 0 {
		return store.User{}, errs
	}
	var items []string
	for _, v := range strings.Split(value, ",") {
		if v = strings.TrimSpace(v); v != "" {
			items = append(items, v)
		}
	}
	var out store.User
	err := a.Store.InTx(ctx, func(tx *store.Store) error {
		before, after, err := tx.UpdateUser(ctx, orgID, userID, func(x *store.User) error {
			if x.Attributes == nil {
				x.Attributes = map[string]string{}
			}
			if len(items) == 0 {
				delete(x.Attributes, name)
			} else {
				x.Attributes[name] = strings.Join(items, ",")
			}
			return nil
		})
		if err != nil {
			return err
		}
		out = after
		e := actor.Event(orgID, "user.attribute", "user", userID)
		return tx.Audit(ctx, e, map[string]string{name: before.Attributes[name]}, map[string]string{name: after.Attributes[name]})
	})
	return out, err
}
