package panels

import (
	"github.com/aiobs/aiobs/compile/plan"
)

// contractSel selects a quality-contract series of the target's workload
// by the contract's team and workload labels. The environment is the
// datasource's, so no environment label is added: the jobs that push these
// series are not scraped with the serving stack's static labels.
func (c *Context) contractSel(name string, extra ...plan.Matcher) string {
	k := c.Standard.Contract
	ms := []plan.Matcher{
		{Name: k.TeamLabel, Op: "=", Value: c.Target.Team.Name},
		{Name: k.WorkloadLabel, Op: "=", Value: c.Target.Workload.Name},
	}
	ms = append(ms, extra...)
	sortMatchers(ms)
	return name + plan.FormatMatchers(ms)
}

// Quality is the model quality row: the eval scorecard against its
// baseline, how long ago each suite ran, drift against its threshold and
// the rate at which guardrails trigger. Eval and drift jobs push these
// series under the metric contract; guardrail triggers are recorded from
// logs.
func Quality(c *Context) (Row, error) {
	r := newRow(c, "Quality")
	k := c.Standard.Contract
	if k.EvalScore == "" {
		return Row{}, nil
	}
	score := c.contractSel(k.EvalScore)
	base := c.contractSel(k.EvalBaseline)
	r.add(graph(spec{
		title: "Eval score by suite",
		desc:  describe("Latest score of each scheduled eval suite and metric (0-1), pushed as " + seriesList(k.EvalScore) + " by the eval job"),
		unit:  "percentunit", queries: []query{{expr: "max by (suite, metric) (" + score + ")", legend: "{{suite}} {{metric}}"}},
		min: ptr(0.0), max: ptr(1.0), noValue: "No eval results pushed yet", w: 8,
	}))
	r.add(single(spec{
		title: "Eval score vs baseline",
		desc:  describe("Latest score minus the accepted baseline per suite and metric, from " + seriesList(k.EvalScore, k.EvalBaseline) + "; red below zero means the model regressed"),
		unit:  "percentunit", queries: []query{{
			expr:   "max by (suite, metric) (" + score + ") - max by (suite, metric) (" + base + ")",
			legend: "{{suite}} {{metric}}",
		}},
		base: "red", steps: []step{{0, "green"}}, noValue: "No eval results pushed yet", w: 8, h: graphHeight,
	}))
	r.add(single(spec{
		title: "Time since last eval run",
		desc:  describe("Time since each suite last completed, from " + seriesList(k.EvalLastRun) + "; a stale suite judges an old model"),
		unit:  "s", queries: []query{{expr: "time() - max by (suite) (" + c.contractSel(k.EvalLastRun) + ")", legend: "{{suite}}"}},
		noValue: "No eval runs recorded yet", w: 8, h: graphHeight,
	}))
	r.add(graph(spec{
		title: "Drift vs threshold",
		desc:  describe("Each drift signal's score divided by its threshold, from " + seriesList(k.DriftScore, k.DriftThreshold) + "; above 1 (dashed line) the signal has drifted"),
		unit:  "none", queries: []query{{
			expr:   "max by (signal, method) (" + c.contractSel(k.DriftScore) + ") / max by (signal, method) (" + c.contractSel(k.DriftThreshold) + ")",
			legend: "{{signal}} ({{method}})",
		}},
		min: ptr(0.0), steps: []step{{1, "red"}}, line: true, noValue: "No drift results pushed yet", w: 12,
	}))
	r.add(graph(spec{
		title: "Guardrail triggers",
		desc:  describe("Guardrail and policy triggers per second by guardrail and action, recorded from logs as " + seriesList(k.GuardrailTriggers)),
		unit:  "ops", queries: []query{{expr: "sum by (guardrail, action) (" + c.contractSel(k.GuardrailTriggers) + ")", legend: "{{guardrail}} {{action}}"}},
		noValue: "No guardrail triggers recorded", w: 12,
	}))
	return r.done()
}

// Agent is the tool-use row of agent workloads: tool calls per request,
// calls by tool, each tool's error ratio and retries. Other workloads get
// no such row.
func Agent(c *Context) (Row, error) {
	if !c.Target.Workload.Agent || c.Standard.Contract.ToolCalls == "" {
		return Row{}, nil
	}
	r := newRow(c, "Agent tools")
	k := c.Standard.Contract
	calls := c.contractSel(k.ToolCalls)
	errs := c.contractSel(k.ToolCalls, plan.Matcher{Name: "status", Op: "=", Value: "error"})
	if reqs := c.requestRate(); reqs != "" {
		r.add(graph(spec{
			title: "Tool calls per request",
			desc:  describe("Tool calls over finished requests over the rate window, from " + seriesList(k.ToolCalls) + "; a rise means the agent loops or plans longer"),
			unit:  "short", queries: []query{{expr: sumBy(rate(calls)) + " / " + reqs, legend: "calls per request"}},
			noValue: "No tool calls recorded", w: 6,
		}))
	} else {
		r.missing("Tool calls per request", "requests", true)
	}
	r.add(graph(spec{
		title: "Tool calls by tool",
		desc:  describe("Tool calls per second over the rate window by tool, from " + seriesList(k.ToolCalls)),
		unit:  "ops", queries: []query{{expr: sumBy(rate(calls), "tool"), legend: "{{tool}}"}},
		stacked: true, noValue: "No tool calls recorded", w: 6,
	}))
	// A tool that never failed has no error series; its rate times zero
	// keeps it on the panel at 0.
	r.add(graph(spec{
		title: "Tool error ratio by tool",
		desc:  describe("Failed tool calls (status=\"error\") over all calls of each tool over the rate window, from " + seriesList(k.ToolCalls)),
		unit:  "percentunit", queries: []query{{
			expr:   "(" + sumBy(rate(errs), "tool") + " or (" + sumBy(rate(calls), "tool") + " * 0)) / " + sumBy(rate(calls), "tool"),
			legend: "{{tool}}",
		}},
		min: ptr(0.0), noValue: "No tool calls recorded", w: 6,
	}))
	r.add(graph(spec{
		title: "Retries by reason",
		desc:  describe("Retries per second by reason, recorded from logs as " + seriesList(k.Retries)),
		unit:  "ops", queries: []query{{expr: "sum by (reason) (" + c.contractSel(k.Retries) + ")", legend: "{{reason}}"}},
		noValue: "No retries recorded", w: 6,
	}))
	return r.done()
}

func sortMatchers(ms []plan.Matcher) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Name < ms[j-1].Name; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}
