package panels

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/prometheus"

	"github.com/aiobs/aiobs/compile/plan"
)

// RateInterval is the range every rate and increase in a panel uses, so
// that Grafana sizes it to the scrape interval and the step.
const RateInterval = "$__rate_interval"

// stage returns the catalogue series of a stage and whether the backend
// exposes it.
func (c *Context) stage(name string) (plan.Series, bool) {
	if c.Target.Backend == nil {
		return plan.Series{}, false
	}
	s, ok := c.Target.Backend.Stages[name]
	return s, ok
}

// note returns the catalogue's note on a stage, or "".
func (c *Context) note(name string) string {
	if c.Target.Backend == nil {
		return ""
	}
	return c.Target.Backend.Notes[name]
}

// backendName names the backend in prose.
func (c *Context) backendName() string {
	if c.Target.Backend == nil {
		return c.Target.Workload.Backend
	}
	return c.Target.Backend.Name
}

// sel formats the selector of a catalogue series for the target: the
// environment's static labels, the workload's selector, the model (the
// $model variable, or the decided model when Fixed), the $instance
// variable unless Fixed, and the series' own matchers. Every value is
// quoted by plan.FormatMatchers, so no label value can break out of its
// string.
func (c *Context) sel(s plan.Series, suffix string, extra ...plan.Matcher) string {
	return c.selector(s, suffix, !c.Fixed, !c.Fixed, extra...)
}

func (c *Context) selector(s plan.Series, suffix string, modelVar, instanceVar bool, extra ...plan.Matcher) string {
	ms := c.Target.Matchers(s)
	if modelVar && c.Target.Backend != nil && c.Target.Backend.ModelLabel != "" {
		label := c.Target.Backend.ModelLabel
		for i, m := range ms {
			if m.Name == label && m.Op == "=" && m.Value == c.Target.Workload.Model {
				ms[i] = plan.Matcher{Name: label, Op: "=~", Value: "$" + ModelVar}
				break
			}
		}
	}
	if instanceVar {
		ms = append(ms, plan.Matcher{Name: "instance", Op: "=~", Value: "$" + InstanceVar})
	}
	ms = append(ms, extra...)
	sortMatchers(ms)
	return s.Name + suffix + plan.FormatMatchers(ms)
}

// rate is the per-second rate of a counter selector over RateInterval.
func rate(sel string) string { return "rate(" + sel + "[" + RateInterval + "])" }

// sumBy aggregates with sum, by the given labels when there are any. Every
// other label (ranks, engines, instances) is summed away.
func sumBy(expr string, by ...string) string {
	if len(by) == 0 {
		return "sum(" + expr + ")"
	}
	return "sum by (" + strings.Join(by, ", ") + ") (" + expr + ")"
}

// toSeconds divides a latency expression in the series' unit into seconds,
// so every latency panel shows one unit.
func toSeconds(expr, unit string) string {
	switch unit {
	case "ms":
		return expr + " / 1000"
	case "µs":
		return expr + " / 1000000"
	}
	return expr
}

// isTime reports whether a unit is a duration.
func isTime(unit string) bool { return unit == "s" || unit == "ms" || unit == "µs" }

// quantile is a histogram quantile of a stage, in seconds for time units.
func (c *Context) quantile(q string, s plan.Series) string {
	e := fmt.Sprintf("histogram_quantile(%s, %s)", q, sumBy(rate(c.sel(s, "_bucket")), "le"))
	return toSeconds(e, s.Unit)
}

// histMean is a histogram's mean over the rate window.
func (c *Context) histMean(s plan.Series) string {
	e := sumBy(rate(c.sel(s, "_sum"))) + " / " + sumBy(rate(c.sel(s, "_count")))
	return toSeconds(e, s.Unit)
}

// perSecond is the per-second rate of what a stage counts: a counter's
// events, or for a histogram of token counts the tokens in its _sum.
func (c *Context) perSecond(s plan.Series, by ...string) string {
	suffix := ""
	if s.Type == "histogram" || s.Type == "summary" {
		suffix = "_sum"
	}
	return sumBy(rate(c.sel(s, suffix)), by...)
}

// requestRate is the per-second rate of finished requests: the requests
// stage, or successes plus errors where the backend counts them apart. It
// returns "" when the backend counts no requests.
func (c *Context) requestRate() string {
	if s, ok := c.stage("requests"); ok {
		return c.perSecondEvents(s)
	}
	succ, ok := c.stage("successes")
	if !ok {
		return ""
	}
	if e, ok := c.stage("errors"); ok {
		return "(" + c.perSecondEvents(succ) + " + (" + c.perSecondEvents(e) + " or vector(0)))"
	}
	return c.perSecondEvents(succ)
}

// perSecondEvents counts events: a counter's rate, or a histogram's
// observations through _count.
func (c *Context) perSecondEvents(s plan.Series, by ...string) string {
	suffix := ""
	if s.Type == "histogram" || s.Type == "summary" {
		suffix = "_count"
	}
	return sumBy(rate(c.sel(s, suffix)), by...)
}

// meanDenominator is the request rate a counter of accumulated time is
// divided by: successes, else requests; "" when there is neither.
func (c *Context) meanDenominator() string {
	if s, ok := c.stage("successes"); ok {
		return c.perSecondEvents(s)
	}
	if s, ok := c.stage("requests"); ok {
		return c.perSecondEvents(s)
	}
	return ""
}

// latencyKind says how a latency stage can be shown.
type latencyKind int

const (
	latencyNone      latencyKind = iota
	latencyHistogram             // quantiles and mean
	latencyMean                  // accumulated time over a request count: mean only
	latencySpeed                 // accumulated time without a request count: speed only
)

// latency classifies a latency stage of the catalogue.
func (c *Context) latency(name string) (plan.Series, latencyKind) {
	s, ok := c.stage(name)
	switch {
	case !ok:
		return s, latencyNone
	case s.Type == "histogram" && isTime(s.Unit):
		return s, latencyHistogram
	case s.Type == "counter" && isTime(s.Unit) && c.meanDenominator() != "":
		return s, latencyMean
	case s.Type == "counter" && isTime(s.Unit):
		return s, latencySpeed
	}
	return s, latencyNone
}

// counterMean is the mean per request of a counter of accumulated time.
func (c *Context) counterMean(s plan.Series) string {
	return toSeconds(c.perSecondEvents(s)+" / "+c.meanDenominator(), s.Unit)
}

// groupLabels are the labels an outcomes stage is broken down by: those
// its matchers require to be present (label!="").
func groupLabels(s plan.Series) []string {
	var out []string
	for _, m := range s.Matchers {
		if m.Op == "!=" && m.Value == "" && !slices.Contains(out, m.Name) {
			out = append(out, m.Name)
		}
	}
	return out
}

// query is one Prometheus query of a panel.
type query struct {
	expr, legend string
	instant      bool
	format       prometheus.PromQueryFormat
	// exemplar asks Prometheus for the exemplars of the query's series,
	// which Grafana draws as points that open their trace in Tempo (the
	// datasource provisioning maps the exemplar label traceID to Tempo).
	exemplar bool
}

// promQueries builds the SDK queries of a panel with refIds A, B, ... in
// order, each naming the Prometheus datasource variable.
func promQueries(qs []query) []*prometheus.DataqueryBuilder {
	var out []*prometheus.DataqueryBuilder
	for i, q := range qs {
		b := prometheus.NewDataqueryBuilder().
			Datasource(Datasource("prometheus")).
			RefId(refID(i)).
			Expr(q.expr).
			EditorMode(prometheus.QueryEditorModeCode)
		if q.legend != "" {
			b.LegendFormat(q.legend)
		}
		if q.instant {
			b.Instant()
		} else {
			b.Range()
		}
		if q.format != "" {
			b.Format(q.format)
		}
		if q.exemplar {
			b.Exemplar(true)
		}
		out = append(out, b)
	}
	return out
}

// refID names the i-th query of a panel: A ... Z, then AA, AB, ...
func refID(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return refID(i/26-1) + string(rune('A'+i%26))
}
