// Package slotest proves rendered SLO alerts in process: it replays
// canonical traffic stories (a total outage, a burn just above the fastest
// page factor, a 2× burn, recovery, one failure at very low traffic, an
// error counter born at its first error) into Prometheus's own TSDB, PromQL
// engine and rules engine, evaluates the rendered rule group the way a
// Prometheus server would, and compares when alerts fire and resolve with
// what the burn-rate arithmetic says they must.
//
// Run takes the plan and the rendered artifacts, never renders itself, and
// never touches the output directory: each simulation uses a throw-away
// TSDB in a temporary directory. It is the engine behind `aiobs test`.
// The package is kept apart from validate because the rules engine pulls in
// several hundred packages that no other check needs.
package slotest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/promrules"
	"github.com/aiobs/aiobs/render/write"
)

// Options tune a run; the zero value is the standard run.
type Options struct {
	// RequestsPerMinute is the healthy traffic; 0 means 100.
	RequestsPerMinute float64
	// Scrape is the spacing of the synthetic counters' samples; 0 means 1m.
	Scrape time.Duration
	// Engines splits the traffic over that many values of the backend's
	// SumBy label (and le spellings); 0 means 2.
	Engines int
	// Preload is the healthy history before each incident; 0 means 3d.
	Preload time.Duration
	// AllTargets simulates every target; by default targets whose SLO has
	// the same shape (backend, indicator, objective, period, tiers,
	// minimum events, paging) are simulated once and listed together.
	AllTargets bool
	// Parallel is how many simulations run at once; 0 means GOMAXPROCS.
	Parallel int
	// Scenarios, when set, runs only the named scenarios.
	Scenarios []string
}

func (o Options) defaults() Options {
	if o.RequestsPerMinute <= 0 {
		o.RequestsPerMinute = 100
	}
	if o.Scrape <= 0 {
		o.Scrape = time.Minute
	}
	if o.Engines <= 0 {
		o.Engines = 2
	}
	if o.Preload <= 0 {
		o.Preload = promrules.Preload
	}
	if o.Parallel <= 0 {
		o.Parallel = runtime.GOMAXPROCS(0)
	}
	return o
}

// Result is one scenario replayed against one SLO of one target.
type Result struct {
	Env, Team, Workload, SLO string
	// Also lists the other targets (env/team/workload) whose SLO has the
	// same shape and therefore the same result.
	Also     []string
	Scenario string
	// Story says what happens, Expected what must follow, Observed what
	// the rules engine did.
	Story, Expected, Observed string
	// Within is the bound on the time to fire (or 0); After is the
	// observed time to fire after the incident began, −1 when nothing of
	// the expected severity fired.
	Within, After time.Duration
	Pass          bool
	// Skipped says why the scenario does not apply; a skipped result
	// passes.
	Skipped string
	// Elapsed is the wall time the simulation took.
	Elapsed time.Duration
}

// Target names the result's target as env/team/workload.
func (r Result) Target() string { return r.Env + "/" + r.Team + "/" + r.Workload }

// Run replays every scenario against every SLO of the plan's targets and
// returns the results sorted by target, SLO and scenario. An error means
// the simulation itself could not run (a rule file missing from files, an
// expression the engine rejects), not that a scenario failed.
func Run(ctx context.Context, p *plan.Plan, files []write.File, opts Options) ([]Result, error) {
	opts = opts.defaults()
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Bytes
	}
	type job struct {
		t     *plan.Target
		slo   *plan.SLO
		sc    promrules.Scenario
		m     promrules.SLOMath
		fx    promrules.Fixture
		group ruleGroup
	}
	var jobs []*job
	shapes := map[string]*[]string{}
	for _, t := range p.Targets {
		path := promrules.RuleFilePath(t)
		content, ok := byPath[path]
		if !ok {
			return nil, fmt.Errorf("%s: no such rule file among the artifacts", path)
		}
		for _, slo := range t.Workload.SLOs {
			name := t.Env.Name + "/" + t.Team.Name + "/" + t.Workload.Name
			key := shapeKey(t, slo)
			if also, seen := shapes[key]; seen && !opts.AllTargets {
				*also = append(*also, name)
				continue
			}
			m, err := promrules.Explain(slo, t.Env.Paging)
			if err != nil {
				return nil, fmt.Errorf("%s: slo %s: %w", path, slo.Name, err)
			}
			fx, err := promrules.NewFixture(t, slo, opts.Engines)
			if err != nil {
				return nil, fmt.Errorf("%s: slo %s: %w", path, slo.Name, err)
			}
			g, err := loadGroup(content, promrules.SLOGroupName(t, slo))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			shapes[key] = &[]string{}
			for _, sc := range promrules.Scenarios(m, fx, promrules.ScenarioOptions{
				RequestsPerMinute: opts.RequestsPerMinute, Scrape: opts.Scrape, Preload: opts.Preload,
			}) {
				if len(opts.Scenarios) > 0 && !slices.Contains(opts.Scenarios, sc.Name) {
					continue
				}
				jobs = append(jobs, &job{t: t, slo: slo, sc: sc, m: m, fx: fx, group: g})
			}
		}
	}

	results := make([]Result, len(jobs))
	errs := make([]error, len(jobs))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(opts.Parallel, max(1, len(jobs))) {
		wg.Go(func() {
			for i := range work {
				j := jobs[i]
				r, err := simulate(ctx, j.t, j.slo, j.m, j.fx, j.sc, j.group, opts)
				results[i], errs[i] = r, err
			}
		})
	}
feed:
	for i := range jobs {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, j := range jobs {
		results[i].Also = slices.Clone(*shapes[shapeKey(j.t, j.slo)])
	}
	order := map[string]int{}
	for i, name := range []string{promrules.ScenarioOutage, promrules.ScenarioFastBurn, promrules.ScenarioSlowBurn,
		promrules.ScenarioRecovery, promrules.ScenarioLowTraffic, promrules.ScenarioUninitialised} {
		order[name] = i
	}
	slices.SortStableFunc(results, func(a, b Result) int {
		return cmp.Or(cmp.Compare(a.Env, b.Env), cmp.Compare(a.Team, b.Team), cmp.Compare(a.Workload, b.Workload),
			cmp.Compare(a.SLO, b.SLO), cmp.Compare(order[a.Scenario], order[b.Scenario]))
	})
	return results, nil
}

// shapeKey is everything that decides how an SLO's alerts behave: two
// targets with the same key have the same rules up to their selectors'
// label values.
func shapeKey(t *plan.Target, slo *plan.SLO) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%s|%d|%t", t.Workload.Backend, slo.Kind, slo.Stage, slo.Threshold, slo.Objective, slo.Period, slo.MinEvents, t.Env.Paging)
	for _, tier := range slo.Tiers {
		fmt.Fprintf(&b, "|%s,%s,%s,%s,%s", tier.Name, tier.Severity, tier.BudgetPercent, tier.Long, tier.Short)
	}
	return b.String()
}

// Failed returns the results that did not pass.
func Failed(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if !r.Pass {
			out = append(out, r)
		}
	}
	return out
}

// Markdown formats results as a table for a README: one row per target,
// SLO and scenario, with the bound, the observation and the verdict.
func Markdown(rs []Result) string {
	var b strings.Builder
	b.WriteString("| Target | SLO | Scenario | Expected | Observed | Result |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rs {
		target := r.Target()
		if len(r.Also) > 0 {
			target += " (also " + strings.Join(r.Also, ", ") + ")"
		}
		verdict := "pass"
		switch {
		case r.Skipped != "":
			verdict = "skipped"
		case !r.Pass:
			verdict = "**FAIL**"
		}
		expected := r.Expected
		if r.Skipped != "" {
			expected = r.Skipped
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", cell(target), cell(r.SLO), cell(r.Scenario+": "+r.Story),
			cell(expected), cell(r.Observed), verdict)
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// short prints a duration to the second, Prometheus style (9m19s).
func short(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	d = d.Round(time.Second)
	if d == 0 {
		return "0s"
	}
	return modelDuration(d)
}
