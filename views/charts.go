package views

import "strconv"

// ChartBar is one bar of a stacked bar chart: up to three series (permit,
// challenge, deny; or a single series in Permit).
type ChartBar struct {
	Label             string // under the bar, shown for some bars
	Title             string // the bar's tooltip and accessible text
	Permit, Challenge int
	Deny              int
	ShowLabel         bool
}

func (b ChartBar) total() int { return b.Permit + b.Challenge + b.Deny }

// BarChart is a server-rendered SVG chart; it needs no JavaScript.
type BarChart struct {
	ID     string
	Title  string
	Bars   []ChartBar
	Series []string // legend names of Permit, Challenge, Deny in use
}

const (
	chartW, chartH     = 720, 160
	chartTop, chartBot = 10, 24
)

func (c BarChart) max() int {
	m := 0
	for _, b := range c.Bars {
		m = max(m, b.total())
	}
	return m
}

// chartRect is one rectangle of the chart, already in SVG coordinates.
type chartRect struct {
	X, Y, W, H string
	Class      string
	Title      string
}

func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func (c BarChart) rects() []chartRect {
	m := c.max()
	if m == 0 || len(c.Bars) == 0 {
		return nil
	}
	slot := float64(chartW) / float64(len(c.Bars))
	w := max(slot*0.8, 1)
	scale := float64(chartH-chartTop-chartBot) / float64(m)
	var out []chartRect
	for i, b := range c.Bars {
		y := float64(chartH - chartBot)
		x := float64(i)*slot + (slot-w)/2
		for _, s := range []struct {
			n     int
			class string
		}{{b.Permit, "bar-permit"}, {b.Challenge, "bar-challenge"}, {b.Deny, "bar-deny"}} {
			if s.n == 0 {
				continue
			}
			h := float64(s.n) * scale
			y -= h
			out = append(out, chartRect{X: f(x), Y: f(y), W: f(w), H: f(h), Class: s.class, Title: b.Title})
		}
	}
	return out
}

// chartLabel is a text under the chart.
type chartLabel struct {
	X, Text string
}

func (c BarChart) labels() []chartLabel {
	if len(c.Bars) == 0 {
		return nil
	}
	slot := float64(chartW) / float64(len(c.Bars))
	var out []chartLabel
	for i, b := range c.Bars {
		if b.ShowLabel {
			out = append(out, chartLabel{X: f(float64(i)*slot + slot/2), Text: b.Label})
		}
	}
	return out
}

func chartViewBox() string { return "0 0 " + strconv.Itoa(chartW) + " " + strconv.Itoa(chartH) }

func chartBaseY() string { return strconv.Itoa(chartH - chartBot) }

func chartLabelY() string { return strconv.Itoa(chartH - 6) }

func chartW0() string { return strconv.Itoa(chartW) }

// GroupBar is one row of a horizontal breakdown (a policy, an app).
type GroupBar struct {
	Name              string
	Href              string
	Permit, Challenge int
	Deny              int
}

func (g GroupBar) total() int { return g.Permit + g.Challenge + g.Deny }

// pct is n's share of the widest row, for a CSS-free SVG width.
func pct(n, of int) string {
	if of == 0 {
		return "0"
	}
	return f(float64(n) * 100 / float64(of))
}

func groupsMax(gs []GroupBar) int {
	m := 0
	for _, g := range gs {
		m = max(m, g.total())
	}
	return m
}

func pctOffset(a, of int) string { return pct(a, of) + "%" }

// DenyReasonRow is one of the top deny reasons.
type DenyReasonRow struct {
	Reason string
	Policy string
	Count  int
}

// DecisionCharts are the decision page's charts over Span ("24h" by hour
// or "30d" by day).
type DecisionCharts struct {
	Span        string
	Timeline    BarChart
	ByPolicy    []GroupBar
	ByApp       []GroupBar
	DenyReasons []DenyReasonRow
}
