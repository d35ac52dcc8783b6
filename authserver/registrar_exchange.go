package authserver

import (
	"context"

	"portico/store"
)

// SetExchangeAnySubject allows (or stops) a client exchanging subject tokens
// (RFC 8693) that were issued to its organization's other clients and do not
// name it in aud. Without it a client may exchange only tokens issued to it
// or meant for it. It is a platform admin's decision, so it is not part of
// RegisterInput: neither a developer's form nor dynamic registration can
// set it.
func (r *Registrar) SetExchangeAnySubject(ctx context.Context, orgID, clientID string, actor Actor, allow bool) (store.Client, error) {
	cur, err := r.st.ClientByClientID(ctx, orgID, clientID)
	if err != nil {
		return store.Client{}, err
	}
	return r.change(ctx, orgID, cur.ID, actor, "client.exchange_any_subject", func(c *store.Client) error {
		c.ExchangeAnySubject = allow
		return nil
	})
}
