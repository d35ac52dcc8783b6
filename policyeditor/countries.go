package policyeditor

import "strings"

// iso3166 is every officially assigned ISO 3166-1 alpha-2 code (249, as shipped in
// Debian's iso-codes 3166-1 table). A constant rather than a lookup in some
// locale library, because a policy must accept exactly the codes geolocation can
// return and refuse typos such as "UK" or "EU" that would silently never match.
const iso3166 = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE " +
	"BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD " +
	"CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM " +
	"DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF " +
	"GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN " +
	"KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME " +
	"MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA " +
	"NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM " +
	"PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI " +
	"SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK " +
	"TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI " +
	"VN VU WF WS YE YT ZA ZM ZW "

// IsCountryCode reports whether s is an assigned ISO 3166-1 alpha-2 code, in
// upper case as geolocation returns it.
func IsCountryCode(s string) bool {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	// The list is sorted, three bytes per code: binary search it in place.
	lo, hi := 0, (len(iso3166)+1)/3
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		switch c := iso3166[mid*3 : mid*3+2]; {
		case c == s:
			return true
		case c < s:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return false
}

// countrySet is a set of two-letter codes as a 26×26 bitmap: membership is two
// index computations, with no hashing and no allocation.
type countrySet [(26*26 + 63) / 64]uint64

func countryIndex(s string) (int, bool) {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return 0, false
	}
	return int(s[0]-'A')*26 + int(s[1]-'A'), true
}

func (cs *countrySet) add(s string) {
	if i, ok := countryIndex(s); ok {
		cs[i/64] |= 1 << (i % 64)
	}
}

func (cs *countrySet) has(s string) bool {
	i, ok := countryIndex(s)
	return ok && cs[i/64]&(1<<(i%64)) != 0
}

// countryHint suggests the spelling a near miss was probably meant to be.
func countryHint(s string) string {
	switch u := strings.ToUpper(strings.TrimSpace(s)); {
	case u == "UK":
		return ` (the United Kingdom is "GB")`
	case u != s && IsCountryCode(u):
		return ` (use "` + u + `")`
	}
	return ""
}
