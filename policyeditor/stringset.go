package policyeditor

// stringSet is an exact-match set of names (groups, slugs, plans, client ids,
// scopes, attribute values). Lists in policies are short, where a linear scan of
// strings beats hashing; long ones fall back to a map. Neither allocates on lookup.
type stringSet struct {
	small []string
	large map[string]struct{}
}

const stringSetLinearMax = 8

func newStringSet(items []string) stringSet {
	if len(items) <= stringSetLinearMax {
		return stringSet{small: append([]string(nil), items...)}
	}
	m := make(map[string]struct{}, len(items))
	for _, s := range items {
		m[s] = struct{}{}
	}
	return stringSet{large: m}
}

func (s *stringSet) has(v string) bool {
	if s.large != nil {
		_, ok := s.large[v]
		return ok
	}
	for _, x := range s.small {
		if x == v {
			return true
		}
	}
	return false
}

// hasAny reports whether any of vs is in the set.
func (s *stringSet) hasAny(vs []string) bool {
	for _, v := range vs {
		if s.has(v) {
			return true
		}
	}
	return false
}
