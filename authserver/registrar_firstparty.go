package authserver

import (
	"context"

	"portico/store"
)

// SetFirstParty marks a client as the platform's own (first-party: no
// consent page) or not. Only platform admins may call it; the caller
// checks. The change and its audit event commit together.
func (r *Registrar) SetFirstParty(ctx context.Context, orgID, clientID string, actor Actor, firstParty bool) (store.Client, error) {
	cur, err := r.st.ClientByClientID(ctx, orgID, clientID)
	if err != nil {
		return store.Client{}, err
	}
	action := "client.third_party"
	if firstParty {
		action = "client.first_party"
	}
	return r.change(ctx, orgID, cur.ID, actor, action, func(c *store.Client) error {
		c.FirstParty = firstParty
		return nil
	})
}
