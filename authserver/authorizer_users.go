package authserver

import (
	"context"
	"sync"

	"portico/store"
)

// userCache keeps the users whose tokens the authorizer sees, by id, as of
// the data version they were read at: a gateway asks about the same people
// on every call, and reading the user was the one database query of a
// permit. An entry read at an older version is read again on its next use,
// so a user suspended, edited or removed (here, by the CLI or on another
// replica; on PostgreSQL the users table notifies) is seen as soon as the
// store's data version moves (within 20 ms), as the client cache is. Unknown
// users are not cached. Bounded: when full it starts over.
type userCache struct {
	mu sync.RWMutex
	m  map[string]cachedUser
}

type cachedUser struct {
	u   store.User
	ver int64
}

const maxCachedUsers = 8192

// cachedUser returns user id as of the current data version.
func (s *Server) cachedUser(ctx context.Context, id string) (store.User, error) {
	ver, err := s.fresh.current(ctx)
	if err != nil {
		return store.User{}, err
	}
	c := &s.users
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if ok && e.ver == ver {
		return e.u, nil
	}
	u, err := s.st.UserByID(ctx, id)
	if err != nil {
		if ok {
			c.mu.Lock()
			delete(c.m, id)
			c.mu.Unlock()
		}
		return store.User{}, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedUsers {
		c.m = make(map[string]cachedUser, 256)
	}
	c.m[id] = cachedUser{u: u, ver: ver}
	c.mu.Unlock()
	return u, nil
}
