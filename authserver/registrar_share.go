package authserver

import (
	"context"

	"portico/store"
)

// Share lets other organizations use an app of orgID: every one (planID
// "") or those on planID. Their people see it on their dashboards and sign
// in to it as members of their own organization (see forUser). The share
// and its audit event commit together; sharing twice changes nothing.
func (r *Registrar) Share(ctx context.Context, orgID, clientID, planID string, actor Actor) error {
	return r.share(ctx, orgID, clientID, planID, actor, "client.share")
}

// Unshare withdraws a share made by Share; a share that does not exist is
// store.ErrNotFound.
func (r *Registrar) Unshare(ctx context.Context, orgID, clientID, planID string, actor Actor) error {
	return r.share(ctx, orgID, clientID, planID, actor, "client.unshare")
}

func (r *Registrar) share(ctx context.Context, orgID, clientID, planID string, actor Actor, action string) error {
	cur, err := r.st.ClientByClientID(ctx, orgID, clientID)
	if err != nil {
		return err
	}
	return r.st.InTx(ctx, func(tx *store.Store) error {
		change := tx.ShareClient
		if action == "client.unshare" {
			change = tx.UnshareClient
		}
		if err := change(ctx, orgID, clientID, planID); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, orgID, action, "client", cur.ID), nil,
			map[string]string{"client_id": clientID, "plan_id": planID})
	})
}
