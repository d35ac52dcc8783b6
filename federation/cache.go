package federation

import (
	"context"
	"fmt"
	"sync"

	"portico/store"
)

// Cache keeps opened connectors by connection ID and reopens one when the
// row's version changes, so a change saved by the portal or by the CLI in
// another process takes effect at the next sign-in. Opening may be costly
// (OIDC discovery, SAML metadata), hence the cache.
type Cache struct {
	Registry *Registry
	Sealer   *store.Sealer
	// Env returns the environment for a connection; the cache fills in
	// ConnectionID and OrgID.
	Env func(conn store.Connection) Env

	mu   sync.Mutex
	open map[string]cached
}

type cached struct {
	version int64
	conn    Connector
}

// SecretPurpose binds a connection's sealed secret to that connection.
func SecretPurpose(connectionID string) string { return "connection-secret:" + connectionID }

// Open returns the connector for conn, a row the caller loaded (scoped to
// the right organization). A stale cached connector is replaced.
func (c *Cache) Open(ctx context.Context, conn store.Connection) (Connector, error) {
	c.mu.Lock()
	if e, ok := c.open[conn.ID]; ok && e.version == conn.Version {
		c.mu.Unlock()
		return e.conn, nil
	}
	c.mu.Unlock()
	// Opened outside the lock: discovery may take a while, and two
	// concurrent first sign-ins merely open twice.
	opened, err := c.OpenFresh(ctx, conn)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		c.open = map[string]cached{}
	}
	if e, ok := c.open[conn.ID]; !ok || e.version <= conn.Version {
		c.open[conn.ID] = cached{version: conn.Version, conn: opened}
	}
	return opened, nil
}

// OpenFresh opens conn without the cache, as "test connection" needs.
func (c *Cache) OpenFresh(ctx context.Context, conn store.Connection) (Connector, error) {
	cfg, err := c.Registry.Decode(conn.Type, conn.Config)
	if err != nil {
		return nil, err
	}
	var secret []byte
	if len(conn.Secret) > 0 {
		if secret, err = c.Sealer.Open(conn.Secret, SecretPurpose(conn.ID)); err != nil {
			return nil, fmt.Errorf("federation: connection %s secret: %w", conn.ID, err)
		}
	}
	env := Env{}
	if c.Env != nil {
		env = c.Env(conn)
	}
	env.ConnectionID, env.OrgID = conn.ID, conn.OrgID
	return cfg.Open(ctx, env, secret)
}
