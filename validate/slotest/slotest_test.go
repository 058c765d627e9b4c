package slotest

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/promrules"
	"github.com/aiobs/aiobs/render/write"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func updating() bool { return *update || os.Getenv("AIOBS_UPDATE") == "1" }

func smallPlan(t *testing.T) (*plan.Plan, []write.File) {
	t.Helper()
	p, err := compile.Compile(context.Background(), filepath.Join("testdata", "small"), compile.Options{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	files, err := promrules.Render(p)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return p, files
}

// TestSmallPlanPassesEveryScenario replays all scenarios on a one-workload
// plan and compares the table with testdata/small.md: the simulation is
// deterministic, so every observed time is part of the golden.
func TestSmallPlanPassesEveryScenario(t *testing.T) {
	p, files := smallPlan(t)
	var opts Options
	if raceEnabled {
		// The short stories still run several simulations at once.
		opts.Scenarios = []string{promrules.ScenarioOutage, promrules.ScenarioUninitialised}
	}
	start := time.Now()
	rs, err := Run(context.Background(), p, files, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d scenarios in %s", len(rs), time.Since(start).Round(time.Millisecond))
	for _, r := range Failed(rs) {
		t.Errorf("%s %s %s: expected %s; observed %s", r.Target(), r.SLO, r.Scenario, r.Expected, r.Observed)
	}
	if raceEnabled {
		return
	}
	got := Markdown(rs)
	golden := filepath.Join("testdata", "small.md")
	if updating() {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("results differ from %s (-want +got):\n%s", golden, diff)
	}
}

// TestBrokenRulesFailTheirScenario proves the simulator can fail: each
// edit breaks the rendered rule file the way a careless change would, and
// the named scenario must catch it.
func TestBrokenRulesFailTheirScenario(t *testing.T) {
	p, files := smallPlan(t)
	rulePath := promrules.RuleFilePath(p.Targets[0])
	tests := []struct {
		name     string
		edit     func(string) string
		slo      string
		scenario string
	}{
		{
			name:     "a page threshold ten times too high pages too late in an outage",
			edit:     func(s string) string { return strings.ReplaceAll(s, "> 0.072\n", "> 0.72\n") },
			slo:      "availability",
			scenario: promrules.ScenarioOutage,
		},
		{
			name: "dropping the minimum-events guard pages on one failure at low traffic",
			edit: func(s string) string {
				return strings.ReplaceAll(s, "\n          and\n          sum_over_time(aiobs:slo_requests:increase5m{env=\"prod\", slo=\"availability\", team=\"shop\", workload=\"chat\"}[57m30s]) >= 20", "")
			},
			slo:      "availability",
			scenario: promrules.ScenarioLowTraffic,
		},
		{
			// One engine spells the bound 1, the other 1.0 as Prometheus 3
			// does: an equality matcher sees half the fast requests.
			name:     "an le equality matcher that misses Prometheus 3's spelling pages before any incident",
			edit:     func(s string) string { return strings.ReplaceAll(s, `le=~"1(\\.0*)?|1(\\.0*)?[eE]\\+?0*0"`, `le="1"`) },
			slo:      "e2e",
			scenario: promrules.ScenarioOutage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if raceEnabled && tt.scenario == promrules.ScenarioLowTraffic {
				t.Skip("too slow under the race detector; runs without -race")
			}
			var edited []write.File
			changed := false
			for _, f := range files {
				if f.Path == rulePath {
					b := tt.edit(string(f.Bytes))
					changed = b != string(f.Bytes)
					f = write.File{Path: f.Path, Bytes: []byte(b)}
				}
				edited = append(edited, f)
			}
			if !changed {
				t.Fatal("the edit changed nothing; the test no longer tests anything")
			}
			rs, err := Run(context.Background(), p, edited, Options{Scenarios: []string{tt.scenario}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if r.SLO == tt.slo && r.Scenario == tt.scenario {
					if r.Pass {
						t.Errorf("scenario passed on broken rules: expected %s; observed %s", r.Expected, r.Observed)
					}
					return
				}
			}
			t.Errorf("no result for %s %s", tt.slo, tt.scenario)
		})
	}
}

func TestMarkdownEscapesPipesAndMarksFailures(t *testing.T) {
	got := Markdown([]Result{
		{Env: "prod", Team: "a", Workload: "b", SLO: "availability", Scenario: "outage", Story: "x|y", Expected: "page ≤ 9m19s", Observed: "no page", Pass: false},
		{Env: "prod", Team: "a", Workload: "b", SLO: "availability", Scenario: "low-traffic", Story: "-", Skipped: "minEvents is 0", Pass: true, Also: []string{"dev/a/b"}},
	})
	want := "| Target | SLO | Scenario | Expected | Observed | Result |\n" +
		"| --- | --- | --- | --- | --- | --- |\n" +
		"| prod/a/b | availability | outage: x\\|y | page ≤ 9m19s | no page | **FAIL** |\n" +
		"| prod/a/b (also dev/a/b) | availability | low-traffic: - | minEvents is 0 |  | skipped |\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
