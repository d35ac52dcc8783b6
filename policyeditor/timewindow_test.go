package policyeditor

import (
	"testing"
	"time"
)

func TestTimeWindows(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(y int, mo time.Month, d, h, mi int) time.Time { return time.Date(y, mo, d, h, mi, 0, 0, time.UTC) }
	local := func(y int, mo time.Month, d, h, mi int) time.Time { return time.Date(y, mo, d, h, mi, 0, 0, berlin) }
	const office = `{"type":"time","days":["mon","tue","wed","thu","fri"],"from":"08:00","to":"18:00","tz":"Europe/Berlin"}`
	const night = `{"type":"time","days":["fri"],"from":"22:00","to":"06:00","tz":"Europe/Berlin"}`
	// On 2026-03-29 Berlin skips 02:00–03:00 CET (01:00 UTC); on 2026-10-25 it
	// repeats 02:00–03:00 (CEST until 01:00 UTC, CET after).
	const springHour = `{"type":"time","from":"01:30","to":"03:30","tz":"Europe/Berlin"}`
	const fallHour = `{"type":"time","from":"02:00","to":"03:00","tz":"Europe/Berlin"}`
	tests := []struct {
		name string
		cond string
		now  time.Time
		want bool
	}{
		{"from is inclusive", office, local(2026, 11, 23, 8, 0), true},
		{"to is exclusive", office, local(2026, 11, 23, 18, 0), false},
		{"last minute inside", office, local(2026, 11, 23, 17, 59), true},
		{"wrong day", office, local(2026, 11, 22, 12, 0), false},
		{"07:30 UTC in winter is 08:30 CET, inside", office, utc(2026, 1, 12, 7, 30), true},
		{"06:30 UTC in summer is 08:30 CEST, inside", office, utc(2026, 7, 13, 6, 30), true},
		{"06:30 UTC in winter is 07:30 CET, outside", office, utc(2026, 1, 12, 6, 30), false},
		{"16:30 UTC in summer is 18:30 CEST, outside", office, utc(2026, 7, 13, 16, 30), false},
		{"16:30 UTC in winter is 17:30 CET, inside", office, utc(2026, 1, 12, 16, 30), true},
		{"UTC day differs from Berlin day", office, utc(2026, 11, 22, 23, 30), false}, // Mon 00:30 in Berlin

		{"wrapped: evening of the listed day", night, local(2026, 11, 27, 23, 0), true},
		{"wrapped: from inclusive", night, local(2026, 11, 27, 22, 0), true},
		{"wrapped: after midnight belongs to Friday", night, local(2026, 11, 28, 2, 0), true},
		{"wrapped: to exclusive", night, local(2026, 11, 28, 6, 0), false},
		{"wrapped: Friday early morning is Thursday's night", night, local(2026, 11, 27, 2, 0), false},
		{"wrapped: Saturday evening is not Friday's", night, local(2026, 11, 28, 23, 0), false},
		{"wrapped: midday outside", night, local(2026, 11, 27, 12, 0), false},
		{"wrapped to midnight", `{"type":"time","from":"18:00","to":"00:00","tz":"UTC"}`, utc(2026, 1, 1, 23, 59), true},
		{"wrapped to midnight ends at midnight", `{"type":"time","from":"18:00","to":"00:00","tz":"UTC"}`, utc(2026, 1, 2, 0, 0), false},
		{"days only", `{"type":"time","days":["sat","sun"],"tz":"Europe/Berlin"}`, local(2026, 11, 29, 0, 0), true},
		{"days only, weekday", `{"type":"time","days":["sat","sun"],"tz":"Europe/Berlin"}`, local(2026, 11, 30, 0, 0), false},

		{"spring forward: 01:59 CET inside", springHour, utc(2026, 3, 29, 0, 59), true},
		{"spring forward: next instant is 03:00 CEST, inside", springHour, utc(2026, 3, 29, 1, 0), true},
		{"spring forward: 03:30 CEST outside", springHour, utc(2026, 3, 29, 1, 30), false},
		{"spring forward: 01:29 CET outside", springHour, utc(2026, 3, 29, 0, 29), false},
		{"fall back: first 02:00 (CEST) inside", fallHour, utc(2026, 10, 25, 0, 0), true},
		{"fall back: first 02:59 (CEST) inside", fallHour, utc(2026, 10, 25, 0, 59), true},
		{"fall back: second 02:00 (CET) inside", fallHour, utc(2026, 10, 25, 1, 0), true},
		{"fall back: 03:00 CET outside", fallHour, utc(2026, 10, 25, 2, 0), false},
		{"fall back: 01:59 CEST outside", fallHour, utc(2026, 10, 24, 23, 59), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := matches(t, tc.cond, Request{Now: tc.now}); got != tc.want {
				t.Fatalf("%s at %v = %v, want %v", tc.cond, tc.now.In(berlin), got, tc.want)
			}
		})
	}
}

func TestLocalClockMatchesTimePackage(t *testing.T) {
	zones := []string{"UTC", "Europe/Berlin", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns"}
	start := time.Date(1965, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatal(err)
		}
		for tm := start; tm.Year() < 2040; tm = tm.Add(97*time.Hour + 13*time.Minute + 7*time.Second) {
			m, d := localClock(tm, loc)
			l := tm.In(loc)
			if m != l.Hour()*60+l.Minute() || d != l.Weekday() {
				t.Fatalf("%s %v: localClock = %d %v, time says %d %v", z, tm, m, d, l.Hour()*60+l.Minute(), l.Weekday())
			}
		}
	}
}
