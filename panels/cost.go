package panels

import (
	"fmt"
)

// costExprs are a workload's spend as PromQL, in USD: per hour, over the
// last day and per request (undefined while no request finishes, rather
// than infinite). The prices are printed exactly as the
// decisions state them. An empty field cannot be computed; why says why.
type costExprs struct {
	perHour, perDay, perRequest string
	basis                       string
	why                         string
}

// cost computes a target's spend from the catalogue series and the
// decided prices: GPUs × gpuHourUSD for self-hosted models, input and
// output tokens × their price per million tokens for token-priced ones.
func (c *Context) cost() costExprs {
	k := c.Target.Workload.Cost
	reqs := c.requestRate()
	switch {
	case k.GPUHourUSD != "":
		hour := fmt.Sprintf("%d * %s", k.GPUs, k.GPUHourUSD)
		out := costExprs{
			perHour: "vector(" + hour + ")",
			perDay:  "vector(" + hour + " * 24)",
			basis:   fmt.Sprintf("%d GPUs × %s USD per GPU-hour, whether busy or idle", k.GPUs, k.GPUHourUSD),
		}
		if reqs != "" {
			out.perRequest = "(" + hour + " / 3600) / (" + reqs + " > 0)"
		} else {
			out.why = "the backend counts no requests, so spend cannot be divided per request"
		}
		return out
	case k.InputPerMTokUSD != "" && k.OutputPerMTokUSD != "":
		in, okIn := c.stage("promptTokens")
		gen, okOut := c.stage("generationTokens")
		if !okIn || !okOut {
			return costExprs{why: "the backend counts no prompt or generated tokens, so token prices cannot be applied"}
		}
		perSec := "(" + c.perSecond(in) + " * " + k.InputPerMTokUSD + " + " + c.perSecond(gen) + " * " + k.OutputPerMTokUSD + ") / 1000000"
		out := costExprs{
			perHour: perSec + " * 3600",
			perDay:  "(" + c.increaseOver(in, "1d") + " * " + k.InputPerMTokUSD + " + " + c.increaseOver(gen, "1d") + " * " + k.OutputPerMTokUSD + ") / 1000000",
			basis:   fmt.Sprintf("%s USD per million input tokens and %s USD per million output tokens", k.InputPerMTokUSD, k.OutputPerMTokUSD),
		}
		if reqs != "" {
			out.perRequest = perSec + " / (" + reqs + " > 0)"
		} else {
			out.why = "the backend counts no requests, so spend cannot be divided per request"
		}
		return out
	}
	return costExprs{why: "the workload decides no cost"}
}

// Cost is the cost row: what the workload spends per hour, over the last
// day and per request, computed from the catalogue series and the decided
// prices (the team cost dashboard adds the workloads up).
func Cost(c *Context) (Row, error) {
	r := newRow(c, "Cost")
	k := c.cost()
	if k.perHour == "" {
		r.explain("Cost", k.why)
		return r.done()
	}
	r.add(graph(spec{
		title: "Cost per hour",
		desc:  describe("Spend per hour at the current rate: " + k.basis),
		unit:  "currencyUSD", queries: []query{{expr: k.perHour, legend: "USD per hour"}}, w: 8,
	}))
	r.add(single(spec{
		title: "Cost per day",
		desc:  describe("Spend over the last 24 hours: " + k.basis),
		unit:  "currencyUSD", queries: []query{{expr: k.perDay, legend: "USD per day"}}, w: 8, h: graphHeight,
	}))
	if k.perRequest != "" {
		r.add(graph(spec{
			title: "Cost per request",
			desc:  describe("Spend per finished request over the rate window: " + k.basis),
			unit:  "currencyUSD", queries: []query{{expr: k.perRequest, legend: "USD per request"}}, noValue: "No requests", w: 8,
		}))
	} else {
		r.explain("Cost per request", k.why)
	}
	return r.done()
}

// TeamCost is the team cost dashboard's content: each workload of the
// team in one environment, per hour, per day and per request, and the
// team's total per day. contexts must be Fixed: the team dashboard has no
// model or instance variables.
func TeamCost(contexts []*Context) ([]Row, error) {
	var hour, day, req, total []query
	var why []string
	for _, c := range contexts {
		k := c.cost()
		name := c.Target.Workload.Name
		if k.perHour == "" {
			why = append(why, "- **"+name+"**: "+k.why+".")
			continue
		}
		hour = append(hour, query{expr: k.perHour, legend: name})
		day = append(day, query{expr: k.perDay, legend: name})
		total = append(total, query{expr: k.perDay})
		if k.perRequest != "" {
			req = append(req, query{expr: k.perRequest, legend: name})
		} else {
			why = append(why, "- **"+name+"** (per request): "+k.why+".")
		}
	}
	if len(contexts) == 0 {
		return nil, nil
	}
	r := newRow(contexts[0], "Team cost")
	r.heading = "Not shown for some workloads of the team:"
	if len(total) > 0 {
		// A token-priced workload without traffic has no token series; or
		// vector(0) keeps it from emptying the team's sum.
		sum := ""
		for i, q := range total {
			if i > 0 {
				sum += " + "
			}
			sum += "(" + q.expr + " or vector(0))"
		}
		r.add(single(spec{
			title: "Team cost per day",
			desc:  "Spend of every workload of the team over the last 24 hours, priced as each workload's cost decision states.",
			unit:  "currencyUSD", queries: []query{{expr: sum, legend: "USD per day"}}, w: 6,
		}))
		r.add(single(spec{
			title: "Cost per day by workload",
			desc:  "Spend of each workload over the last 24 hours.",
			unit:  "currencyUSD", queries: day, w: 18,
		}))
		r.add(graph(spec{
			title: "Cost per hour by workload",
			desc:  "Spend per hour of each workload at the current rate.",
			unit:  "currencyUSD", queries: hour, stacked: true, w: 12,
		}))
	}
	if len(req) > 0 {
		r.add(graph(spec{
			title: "Cost per request by workload",
			desc:  "Spend per finished request of each workload over the rate window.",
			unit:  "currencyUSD", queries: req, w: 12,
		}))
	}
	r.notes = append(r.notes, why...)
	row, err := r.done()
	if err != nil {
		return nil, err
	}
	return []Row{row}, nil
}
