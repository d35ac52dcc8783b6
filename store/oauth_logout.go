package store

import (
	"context"
	"fmt"
)

// PostLogoutRedirectURIsLike returns the distinct post_logout_redirect_uris
// of enabled clients, in any organization, that equal base or start with
// base+"?". RP-initiated logout ends in the portal, which knows only the
// destination: the authorization server uses this to tell a registered URI
// (possibly with its state parameter added) from anything else.
func (s *Store) PostLogoutRedirectURIsLike(ctx context.Context, base string) ([]string, error) {
	q := `SELECT DISTINCT j.value FROM oauth_clients c, json_each(c.post_logout_redirect_uris) j
		WHERE c.enabled = 1 AND (j.value = ?1 OR substr(j.value, 1, length(?1) + 1) = ?1 || '?')`
	if s.e.pg {
		q = `SELECT DISTINCT j.value FROM oauth_clients c,
		json_array_elements_text(c.post_logout_redirect_uris::json) AS j(value)
		WHERE c.enabled = 1 AND (j.value = ?1::text OR substr(j.value, 1, length(?1::text) + 1) = ?1::text || '?')`
	}
	rows, err := s.q.QueryContext(ctx, q, base)
	if err != nil {
		return nil, fmt.Errorf("store: post-logout redirect URIs: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("store: post-logout redirect URIs: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
