package panels

import (
	"fmt"

	"github.com/aiobs/aiobs/compile/plan"
)

// Names of the cost recording rules the cost panels read. They carry the
// labels team, workload, env and model; the rules renderer records them
// every evaluation, so a cost panel reads a few stored series rather than
// the catalogue's token counters over a day.
const (
	CostPerHourRecord    = "aiobs:cost_usd_per_hour:rate5m"
	CostPerRequestRecord = "aiobs:cost_usd_per_request:rate5m"
)

// costBasis says how a workload's spend is priced, and whether the rules
// renderer records it (and its per-request share) at all. It must decide
// as render/promrules' costGroup does, or a panel would read a recording
// nobody writes; the smoke run proves the two agree.
type costBasis struct {
	// basis says how the recorded spend is computed, for descriptions;
	// empty when nothing is recorded, and why says why.
	basis string
	// perRequest says whether the per-request recording exists; when not,
	// why says why.
	perRequest bool
	why        string
}

// cost says how the decided prices turn into spend: GPUs × gpuHourUSD for
// self-hosted models, input and output tokens × their price per million
// tokens for token-priced ones. The prices are quoted exactly as the
// decisions state them.
func (c *Context) cost() costBasis {
	k := c.Target.Workload.Cost
	var out costBasis
	switch {
	case k.GPUHourUSD != "":
		out.basis = fmt.Sprintf("%d GPUs × %s USD per GPU-hour, whether busy or idle", k.GPUs, k.GPUHourUSD)
	case k.InputPerMTokUSD != "" && k.OutputPerMTokUSD != "":
		_, okIn := c.stage("promptTokens")
		_, okOut := c.stage("generationTokens")
		if !okIn || !okOut {
			return costBasis{why: "the backend counts no prompt or generated tokens, so token prices cannot be applied"}
		}
		out.basis = fmt.Sprintf("input and output tokens over the last 5m × %s and %s USD per million tokens", k.InputPerMTokUSD, k.OutputPerMTokUSD)
	default:
		return costBasis{why: "the workload decides no cost"}
	}
	_, req := c.stage("requests")
	_, succ := c.stage("successes")
	out.perRequest = req || succ
	if !out.perRequest {
		out.why = "the backend counts no requests, so spend cannot be divided per request"
	}
	return out
}

// costMatchers select the cost recordings of one environment and team,
// and of one workload when workload is not empty.
func costMatchers(t *plan.Target, workload string) string {
	ms := []plan.Matcher{
		{Name: "env", Op: "=", Value: t.Env.Name},
		{Name: "team", Op: "=", Value: t.Team.Name},
	}
	if workload != "" {
		ms = append(ms, plan.Matcher{Name: "workload", Op: "=", Value: workload})
	}
	return plan.FormatMatchers(ms)
}

// perDay is the spend over the last 24 hours from a per-hour recording:
// its mean over the day × 24. Averaging rather than projecting the current
// rate weighs the day's busy and quiet hours as they were.
func perDay(sel, by string) string {
	return "sum" + by + " (avg_over_time(" + CostPerHourRecord + sel + "[1d])) * 24"
}

// Cost is the cost row: what the workload spends per hour, over the last
// day and per request, read from the cost recordings (the team cost
// dashboard adds the workloads up).
func Cost(c *Context) (Row, error) {
	r := newRow(c, "Cost")
	k := c.cost()
	if k.basis == "" {
		r.explain("Cost", k.why)
		return r.done()
	}
	sel := costMatchers(c.Target, c.Target.Workload.Name)
	r.add(graph(spec{
		title: "Cost per hour",
		desc:  describe("Spend per hour at the current rate, read from the " + CostPerHourRecord + " recording rule: " + k.basis),
		unit:  "currencyUSD", queries: []query{{expr: "sum(" + CostPerHourRecord + sel + ")", legend: "USD per hour"}},
		noValue: "No cost recording rules loaded", w: 8,
	}))
	r.add(single(spec{
		title: "Cost per day",
		desc:  describe("Spend over the last 24 hours: the mean of the " + CostPerHourRecord + " recording rule over the day × 24, where the hourly spend is " + k.basis),
		unit:  "currencyUSD", queries: []query{{expr: perDay(sel, ""), legend: "USD per day"}},
		noValue: "No cost recording rules loaded", w: 8, h: graphHeight,
	}))
	if k.perRequest {
		r.add(graph(spec{
			title: "Cost per request",
			desc:  describe("Spend per finished request over the last 5m, read from the " + CostPerRequestRecord + " recording rule: the hourly spend / 3600 / finished requests per second, where the hourly spend is " + k.basis),
			unit:  "currencyUSD", queries: []query{{expr: "sum(" + CostPerRequestRecord + sel + ")", legend: "USD per request"}}, noValue: "No requests", w: 8,
		}))
	} else {
		r.explain("Cost per request", k.why)
	}
	return r.done()
}

// TeamCost is the team cost dashboard's content: each workload of the
// team in one environment, per hour, per day and per request, and the
// team's total per day, read from the cost recordings. contexts must be
// Fixed: the team dashboard has no model or instance variables.
func TeamCost(contexts []*Context) ([]Row, error) {
	var priced, perRequest bool
	var why []string
	for _, c := range contexts {
		k := c.cost()
		name := c.Target.Workload.Name
		if k.basis == "" {
			why = append(why, "- **"+name+"**: "+k.why+".")
			continue
		}
		priced = true
		if k.perRequest {
			perRequest = true
		} else {
			why = append(why, "- **"+name+"** (per request): "+k.why+".")
		}
	}
	if len(contexts) == 0 {
		return nil, nil
	}
	r := newRow(contexts[0], "Team cost")
	r.heading = "Not shown for some workloads of the team:"
	sel := costMatchers(contexts[0].Target, "")
	const byWorkload = " by (workload)"
	if priced {
		r.add(single(spec{
			title: "Team cost per day",
			desc:  "Spend of every workload of the team over the last 24 hours: the mean of each workload's " + CostPerHourRecord + " recording over the day × 24, priced as its cost decision states.",
			unit:  "currencyUSD", queries: []query{{expr: perDay(sel, ""), legend: "USD per day"}},
			noValue: "No cost recording rules loaded", w: 6,
		}))
		r.add(single(spec{
			title: "Cost per day by workload",
			desc:  "Spend of each workload over the last 24 hours: the mean of its " + CostPerHourRecord + " recording over the day × 24.",
			unit:  "currencyUSD", queries: []query{{expr: perDay(sel, byWorkload), legend: "{{workload}}"}}, w: 18,
		}))
		r.add(graph(spec{
			title: "Cost per hour by workload",
			desc:  "Spend per hour of each workload at the current rate, read from the " + CostPerHourRecord + " recording rule.",
			unit:  "currencyUSD", queries: []query{{expr: "sum" + byWorkload + " (" + CostPerHourRecord + sel + ")", legend: "{{workload}}"}}, stacked: true, w: 12,
		}))
	}
	if perRequest {
		r.add(graph(spec{
			title: "Cost per request by workload",
			desc:  "Spend per finished request of each workload over the last 5m, read from the " + CostPerRequestRecord + " recording rule: the hourly spend / 3600 / finished requests per second.",
			unit:  "currencyUSD", queries: []query{{expr: "sum" + byWorkload + " (" + CostPerRequestRecord + sel + ")", legend: "{{workload}}"}}, w: 12,
		}))
	}
	r.notes = append(r.notes, why...)
	row, err := r.done()
	if err != nil {
		return nil, err
	}
	return []Row{row}, nil
}
