package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render"
	"github.com/aiobs/aiobs/render/promrules"
)

type explainFlags struct {
	decisions  string
	errorRatio float64
}

func newExplainCmd() *cobra.Command {
	var f explainFlags
	cmd := &cobra.Command{
		Use:   "explain TEAM/WORKLOAD",
		Short: "Show a workload's decisions, what the standard filled in, its alert maths and artifacts",
		Long: `explain prints what one workload decided and what the standard filled in
(backend catalogue, environments, SLOs with their periods and minimum events,
cost), then per SLO and burn-rate tier: the burn factor, the two windows, the
error ratio at which it fires, the share of the budget spent before it
fires, how long the budget lasts at that burn, and the time to fire for the
error ratio given by --error-ratio. Last, every artifact the workload
produced in each environment.

` + exitCodesHelp,
		Example: `  aiobs explain assistants/chat
  aiobs explain assistants/chat --error-ratio 0.05`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || !strings.Contains(args[0], "/") {
				return usageError("want one TEAM/WORKLOAD argument")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runExplain(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.decisions, flagDecisions, ".", "directory of .cue decision files")
	fl.Float64Var(&f.errorRatio, "error-ratio", 0.05, "error ratio (0..1) for the time-to-fire column")
	return cmd
}

func runExplain(cmd *cobra.Command, f explainFlags, id string) error {
	if f.errorRatio <= 0 || f.errorRatio > 1 {
		return usageError("--error-ratio %v: want a ratio in (0, 1]", f.errorRatio)
	}
	p, files, err := compileAndRender(cmd.Context(), f.decisions)
	if err != nil {
		return err
	}
	team, name, _ := strings.Cut(id, "/")
	var targets []*plan.Target
	for _, t := range p.Targets {
		if t.Team.Name == team && t.Workload.Name == name {
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		return usageError("no workload %s in %s", id, f.decisions)
	}
	w := cmd.OutOrStdout()
	explainDecisions(w, targets[0])
	for _, t := range targets {
		if err := explainTarget(w, t, f.errorRatio); err != nil {
			return err
		}
	}
	explainArtifacts(w, targets, files)
	return nil
}

func explainDecisions(w io.Writer, t *plan.Target) {
	wl := t.Workload
	fmt.Fprintf(w, "%s (%s)\n", wl.ID(), wl.Pos)
	fmt.Fprintf(w, "  backend       %s (model label %q)\n", wl.Backend, t.Backend.ModelLabel)
	fmt.Fprintf(w, "  model         %s\n", wl.Model)
	fmt.Fprintf(w, "  environments  %s\n", strings.Join(wl.Environments, ", "))
	switch c := wl.Cost; {
	case c.GPUHourUSD != "":
		fmt.Fprintf(w, "  cost          %d GPU × $%s/h\n", c.GPUs, c.GPUHourUSD)
	case c.InputPerMTokUSD != "":
		fmt.Fprintf(w, "  cost          $%s per million input tokens, $%s per million output tokens\n", c.InputPerMTokUSD, c.OutputPerMTokUSD)
	default:
		fmt.Fprintf(w, "  cost          none decided\n")
	}
	fmt.Fprintf(w, "  agent         %t\n", wl.Agent)
	fmt.Fprintf(w, "  dashboard     %s\n", wl.DashboardUID())
	var stages []string
	for s := range t.Backend.Stages {
		stages = append(stages, s)
	}
	fmt.Fprintf(w, "  catalogue     %d stages\n", len(stages))
	for _, s := range wl.SLOs {
		what := "availability"
		if s.Kind == "latency" {
			what = fmt.Sprintf("%s under %s", s.Stage, s.Threshold)
		}
		fmt.Fprintf(w, "  slo %-9s %s%% %s over %s, at least %d requests per long window (%s)\n", s.Name, s.Objective, what, s.Period, s.MinEvents, s.Pos)
	}
}

func explainTarget(w io.Writer, t *plan.Target, errorRatio float64) error {
	paging := "pages"
	if !t.Env.Paging {
		paging = "notifies only"
	}
	fmt.Fprintf(w, "\n%s: %s\n", t.Env.Name, paging)
	for _, s := range t.Workload.SLOs {
		m, err := promrules.Explain(s, t.Env.Paging)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  slo %s: objective %s%%, error budget %s over %s\n", s.Name, m.Objective, m.Budget, m.PeriodText)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "    tier\tseverity\tfactor\tlong/short\tfires above\tbudget spent at fire\tbudget lasts\tfires after (error ratio %g)\n", errorRatio)
		for _, tier := range m.Tiers {
			fire := "never"
			if d, ok := tier.TimeToFire(errorRatio); ok {
				fire = duration(d)
				if pct, ok := m.BudgetSpentPercent(tier, errorRatio); ok {
					fire += fmt.Sprintf(" (%.2f%% of budget)", pct)
				}
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s/%s\t%s\t%s%%\t%s\t%s\n", tier.Name, tier.Severity, tier.Factor, tier.LongText, tier.ShortText,
				tier.Threshold, tier.BudgetPercent, duration(tier.Exhaustion), fire)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func explainArtifacts(w io.Writer, targets []*plan.Target, files []render.Artifact) {
	fmt.Fprintf(w, "\nartifacts\n")
	for _, f := range files {
		for _, t := range targets {
			if producedBy(f.Path, t) {
				fmt.Fprintf(w, "  %s (%d bytes)\n", f.Path, len(f.Bytes))
				break
			}
		}
	}
}

// producedBy reports whether an artifact path belongs to the target: every
// per-workload artifact names the workload's dashboard uid, its
// team/workload pair or team--workload id under the environment.
func producedBy(path string, t *plan.Target) bool {
	if !strings.HasPrefix(path, t.Env.Name+"/") {
		return false
	}
	wl := t.Workload
	return strings.Contains(path, "/"+wl.DashboardUID()+".") ||
		strings.Contains(path, "/"+wl.Team+"/"+wl.Name+".") ||
		strings.Contains(path, "/"+wl.Team+"/"+wl.Name+"_") ||
		strings.Contains(path, "/"+wl.ID()+".")
}

// duration prints 2d2h or 3h36m rather than Go's 50h0m0s.
func duration(d time.Duration) string {
	d = d.Round(time.Minute)
	if d == 0 {
		return "0m"
	}
	var b strings.Builder
	for _, u := range []struct {
		size time.Duration
		unit string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if n := d / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.unit)
			d -= n * u.size
		}
	}
	return b.String()
}
