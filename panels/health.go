package panels

import (
	"fmt"
	"math/big"
	"strconv"

	"github.com/aiobs/aiobs/compile/plan"
)

// Names of the SLO recording rules the health row reads. They carry the
// labels team, workload, env and slo; the rules renderer records them.
const (
	BudgetRemainingRecord = "aiobs:slo_error_budget_remaining:ratio"
	BurnRate1hRecord      = "aiobs:slo_burn_rate:ratio_rate1h"
)

// Health is the top row: what a user of the workload feels. Time to first
// token, end-to-end latency and the share of failed requests, against the
// SLOs, with the error budget left and how fast it burns.
func Health(c *Context) (Row, error) {
	r := newRow(c, "User-perceived health")
	w := c.Target.Workload

	var stats []spec
	ttft, ttftKind := c.latency("ttft")
	if ttftKind == latencyHistogram {
		stats = append(stats, spec{
			title: "TTFT p95",
			desc: describe("95th percentile of the time from a request's arrival to its first token over the rate window, from "+seriesList(ttft.Name+"_bucket"),
				sloSentence(w, "ttft"), c.note("ttft")),
			unit: "s", queries: []query{{expr: c.quantile("0.95", ttft), legend: "p95"}},
			steps: latencySteps(w, "ttft"),
		})
	}
	e2e, e2eKind := c.latency("e2e")
	switch e2eKind {
	case latencyHistogram:
		stats = append(stats, spec{
			title: "End-to-end p95",
			desc: describe("95th percentile of the time from a request's arrival to its last token over the rate window, from "+seriesList(e2e.Name+"_bucket"),
				sloSentence(w, "e2e"), c.note("e2e")),
			unit: "s", queries: []query{{expr: c.quantile("0.95", e2e), legend: "p95"}},
			steps: latencySteps(w, "e2e"),
		})
	case latencyMean:
		stats = append(stats, spec{
			title: "End-to-end mean",
			desc:  describe("Mean time per request over the rate window: accumulated request time over successful requests", c.note("e2e")),
			unit:  "s", queries: []query{{expr: c.counterMean(e2e), legend: "mean"}},
		})
	}
	ratio, ratioDesc := c.errorRatio()
	if ratio != "" {
		stats = append(stats, spec{
			title: "Error ratio",
			desc:  describe(ratioDesc, availabilitySentence(w)),
			unit:  "percentunit", queries: []query{{expr: ratio, legend: "errors"}},
			steps: availabilitySteps(w),
		})
	}
	sloSel := plan.FormatMatchers(c.sloMatchers())
	stats = append(stats,
		spec{
			title: "Error budget remaining",
			desc: describe("Share of each SLO's error budget left in its period, read from the "+BudgetRemainingRecord+" recording rule",
				"Below zero the SLO is already missed for the period"),
			unit: "percentunit", queries: []query{{expr: "min by (slo) (" + BudgetRemainingRecord + sloSel + ")", legend: "{{slo}}"}},
			base: "red", steps: []step{{0, "orange"}, {0.25, "green"}}, noValue: "No SLO recording rules loaded",
		},
		spec{
			title: "Burn rate (1h)",
			desc: describe("How many times faster than the SLO allows each error budget burned over the last hour, read from the "+BurnRate1hRecord+" recording rule",
				burnSentence(w)),
			unit: "none", queries: []query{{expr: "max by (slo) (" + BurnRate1hRecord + sloSel + ")", legend: "{{slo}}"}},
			steps: burnSteps(w), noValue: "No SLO recording rules loaded",
		},
	)
	for _, s := range spread(stats, 24) {
		r.add(single(s))
	}

	if ttftKind == latencyHistogram {
		r.add(graph(spec{
			title: "Time to first token",
			desc:  describe("Percentiles of the time to first token over the rate window, from "+seriesList(ttft.Name+"_bucket"), sloSentence(w, "ttft"), exemplarSentence),
			unit:  "s", queries: c.quantiles(ttft, false),
			steps: latencySteps(w, "ttft"), line: true,
		}))
	} else {
		r.missing("Time to first token", "ttft", true)
	}
	switch e2eKind {
	case latencyHistogram:
		r.add(graph(spec{
			title: "End-to-end latency p95",
			desc:  describe("95th percentile of the request latency users see over the rate window, from "+seriesList(e2e.Name+"_bucket"), sloSentence(w, "e2e"), exemplarSentence),
			unit:  "s", queries: []query{{expr: c.quantile("0.95", e2e), legend: "p95", exemplar: true}},
			steps: latencySteps(w, "e2e"), line: true,
		}))
	case latencyMean:
		r.add(graph(spec{
			title: "End-to-end latency (mean)",
			desc:  describe("Mean request latency over the rate window", c.note("e2e")),
			unit:  "s", queries: []query{{expr: c.counterMean(e2e), legend: "mean"}},
		}))
	default:
		r.missing("End-to-end latency", "e2e", true)
	}
	if ratio != "" {
		r.add(graph(spec{
			title: "Error ratio",
			desc:  describe(ratioDesc, availabilitySentence(w)),
			unit:  "percentunit", queries: []query{{expr: ratio, legend: "errors"}},
			steps: availabilitySteps(w), line: true,
		}))
	} else {
		if _, ok := c.stage("errors"); !ok {
			r.missing("Error ratio", "errors", true)
		}
		if c.requestRate() == "" {
			r.missing("Error ratio", "requests", true)
		}
	}
	return r.done()
}

// errorRatio is failed over finished requests, and its description; ""
// when the backend counts either not at all.
func (c *Context) errorRatio() (string, string) {
	errs, ok := c.stage("errors")
	reqs := c.requestRate()
	if !ok || reqs == "" {
		return "", ""
	}
	desc := "Failed requests over finished requests over the rate window, from " + seriesList(errs.Name)
	if n := c.note("errors"); n != "" {
		desc = describe(desc, n)
	}
	// A workload without failures has no error series at all; or vector(0)
	// makes that a zero rather than an empty panel.
	return "(" + c.perSecondEvents(errs) + " or vector(0)) / " + reqs, desc
}

// quantiles are the p50, p95 and p99 of a histogram stage, with the mean
// when withMean. The p95 query carries the exemplars: every quantile reads
// the same buckets, so one query draws each exemplar once.
func (c *Context) quantiles(s plan.Series, withMean bool) []query {
	qs := []query{
		{expr: c.quantile("0.5", s), legend: "p50"},
		{expr: c.quantile("0.95", s), legend: "p95", exemplar: true},
		{expr: c.quantile("0.99", s), legend: "p99"},
	}
	if withMean {
		qs = append(qs, query{expr: c.histMean(s), legend: "mean"})
	}
	return qs
}

// sloMatchers select a workload's SLO recordings in this environment.
func (c *Context) sloMatchers() []plan.Matcher {
	return []plan.Matcher{
		{Name: "env", Op: "=", Value: c.Target.Env.Name},
		{Name: "team", Op: "=", Value: c.Target.Team.Name},
		{Name: "workload", Op: "=", Value: c.Target.Workload.Name},
	}
}

// latencySLO returns the workload's latency SLO on a stage, or nil.
func latencySLO(w *plan.Workload, stage string) *plan.SLO {
	for _, s := range w.SLOs {
		if s.Kind == "latency" && s.Stage == stage {
			return s
		}
	}
	return nil
}

func availabilitySLO(w *plan.Workload) *plan.SLO {
	for _, s := range w.SLOs {
		if s.Kind == "availability" {
			return s
		}
	}
	return nil
}

func sloSentence(w *plan.Workload, stage string) string {
	s := latencySLO(w, stage)
	if s == nil {
		return ""
	}
	return fmt.Sprintf("SLO: %s%% of requests under %s over %s (dashed line)", s.Objective, s.Threshold, s.Period)
}

func latencySteps(w *plan.Workload, stage string) []step {
	s := latencySLO(w, stage)
	if s == nil {
		return nil
	}
	sec, ok := seconds(s.Threshold)
	if !ok {
		return nil
	}
	return []step{{sec, "red"}}
}

// errorBudget is the share of requests an availability objective lets
// fail, as a fraction: 99.5 gives 0.005.
func errorBudget(objective string) (float64, bool) {
	o, ok := new(big.Rat).SetString(objective)
	if !ok {
		return 0, false
	}
	b := new(big.Rat).Sub(big.NewRat(1, 1), new(big.Rat).Quo(o, big.NewRat(100, 1)))
	f, _ := b.Float64()
	return f, true
}

func availabilitySentence(w *plan.Workload) string {
	s := availabilitySLO(w)
	if s == nil {
		return ""
	}
	return fmt.Sprintf("SLO: %s%% of requests succeed over %s, so the ratio may average at most the dashed line", s.Objective, s.Period)
}

func availabilitySteps(w *plan.Workload) []step {
	s := availabilitySLO(w)
	if s == nil {
		return nil
	}
	b, ok := errorBudget(s.Objective)
	if !ok {
		return nil
	}
	return []step{{b, "red"}}
}

func burnSentence(w *plan.Workload) string {
	if len(w.SLOs) == 0 || len(w.SLOs[0].Tiers) == 0 {
		return ""
	}
	t := w.SLOs[0].Tiers[0]
	return fmt.Sprintf("Above 1 the budget runs out before the period ends; the %s alert fires at %s over %s", t.Name, t.Factor, t.Long)
}

func burnSteps(w *plan.Workload) []step {
	out := []step{{1, "yellow"}}
	if len(w.SLOs) == 0 || len(w.SLOs[0].Tiers) == 0 {
		return out
	}
	if f, err := strconv.ParseFloat(w.SLOs[0].Tiers[0].Factor, 64); err == nil && f > 1 {
		out = append(out, step{f, "red"})
	}
	return out
}

// seconds parses a Prometheus duration such as 500ms or 1h30m.
func seconds(d string) (float64, bool) {
	units := map[string]float64{"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
	var total float64
	for d != "" {
		i := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, false
		}
		n, err := strconv.ParseFloat(d[:i], 64)
		if err != nil {
			return 0, false
		}
		d = d[i:]
		j := 0
		for j < len(d) && (d[j] < '0' || d[j] > '9') {
			j++
		}
		u, ok := units[d[:j]]
		if !ok {
			return 0, false
		}
		total += n * u
		d = d[j:]
	}
	return total, true
}

// spread gives a line of specs equal widths that fill the grid's width.
func spread(specs []spec, total uint32) []spec {
	n := uint32(len(specs))
	if n == 0 {
		return nil
	}
	for i := range specs {
		specs[i].w = total / n
		if uint32(i) < total%n {
			specs[i].w++
		}
	}
	return specs
}
