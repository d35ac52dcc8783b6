package policyeditor

import (
	"strings"
	"time"

	// Embedded zone data, so a policy's "tz" means the same on a minimal container
	// without /usr/share/zoneinfo as on a developer's laptop.
	_ "time/tzdata"
)

// timeWindow is a compiled time condition: weekdays and a clock window in a zone.
//
// The clock is read as local wall time in loc, so "08:00–18:00 Europe/Berlin"
// follows daylight-saving changes: on the spring-forward day a window over the
// missing hour is simply shorter, on the fall-back day a window over the repeated
// hour lasts longer, and 08:00 is 08:00 local all year.
//
// A window whose from is after to wraps midnight (22:00–06:00). Its days are the
// days on which the window opens: with days [fri], Friday 23:00 and Saturday 02:00
// are inside, Friday 02:00 is not (that part belongs to Thursday's night).
type timeWindow struct {
	loc      *time.Location
	days     uint8 // bit per time.Weekday; all set when the document lists no days
	from, to int   // minutes after local midnight; from == to means no clock window
}

const allDays = 1<<7 - 1

func (w *timeWindow) holds(now time.Time) bool {
	minute, day := localClock(now, w.loc)
	switch {
	case w.from == w.to:
		// Days only.
	case w.from < w.to:
		if minute < w.from || minute >= w.to {
			return false
		}
	case minute >= w.from:
		// Evening part of a wrapped window: opened today.
	case minute < w.to:
		day = (day + 6) % 7 // morning part: the window opened yesterday
	default:
		return false
	}
	return w.days&(1<<day) != 0
}

// localClock returns the wall-clock minute of the day and the weekday of t in loc.
// It looks the zone offset up once; t.Clock and t.Weekday would each look it up.
func localClock(t time.Time, loc *time.Location) (minute int, day time.Weekday) {
	_, off := t.In(loc).Zone()
	sec := t.Unix() + int64(off)
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		days--
		rem += 86400
	}
	// 1970-01-01 was a Thursday.
	wd := (days + int64(time.Thursday)) % 7
	if wd < 0 {
		wd += 7
	}
	return int(rem / 60), time.Weekday(wd)
}

var dayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseDay(s string) (time.Weekday, bool) {
	for i, n := range dayNames {
		if n == s {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// parseClock reads "HH:MM" (00:00–23:59) into minutes after midnight. Midnight as an
// end is written "00:00", which wraps: "18:00"–"00:00" runs to the end of the day.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// loadZone loads an IANA zone once, at compile time. "Local" and "" are refused:
// they would make a policy mean different things on different servers.
func loadZone(name string) (*time.Location, bool) {
	if name == "" || name == "Local" || strings.TrimSpace(name) != name {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}
