package lokirules_test

import (
	"bytes"
	"context"
	"flag"
	"github.com/aiobs/aiobs/render/write/writetest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/lokirules"
	"github.com/aiobs/aiobs/render/write"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func updating() bool { return *update || os.Getenv("AIOBS_UPDATE") == "1" }

func renderExample(t *testing.T) (*plan.Plan, []write.File) {
	t.Helper()
	p, err := compile.Compile(context.Background(), "../../examples", compile.Options{})
	if err != nil {
		t.Fatalf("compile the example: %v", err)
	}
	files, err := lokirules.Render(p)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return p, files
}

// TestRenderMatchesGoldens compares the example's Loki rule files with
// testdata/golden; -update or AIOBS_UPDATE=1 rewrites them.
func TestRenderMatchesGoldens(t *testing.T) {
	_, files := renderExample(t)
	compareGoldens(t, filepath.Join("testdata", "golden"), files)
}

func compareGoldens(t *testing.T, root string, files []write.File) {
	t.Helper()
	writetest.GoldenTree(t, root, files, updating())
}

func TestRenderIsDeterministic(t *testing.T) {
	_, a := renderExample(t)
	_, b := renderExample(t)
	if len(a) != len(b) {
		t.Fatalf("two renders give %d and %d files", len(a), len(b))
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Bytes, b[i].Bytes) {
			t.Errorf("two renders differ at %s / %s", a[i].Path, b[i].Path)
		}
	}
}

type ruleYAML struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert  string            `yaml:"alert"`
			Record string            `yaml:"record"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// severities maps alert name to severity in one rendered file.
func severities(t *testing.T, files []write.File, path string) map[string]string {
	t.Helper()
	for _, f := range files {
		if f.Path != path {
			continue
		}
		var rf ruleYAML
		if err := yaml.Unmarshal(f.Bytes, &rf); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					out[r.Alert] = r.Labels["severity"]
				}
			}
		}
		return out
	}
	t.Fatalf("no file %s", path)
	return nil
}

// TestPIIAlertsPageWhereOthersOnlyNotify pins the paging decision: dev does
// not page, so a CUDA out-of-memory alert only notifies there, but a PII
// leak still pages, because the leaked data is stored whatever the
// environment.
func TestPIIAlertsPageWhereOthersOnlyNotify(t *testing.T) {
	_, files := renderExample(t)
	for _, tc := range []struct {
		name, path, alert, want string
	}{
		{"an infra page pages in production", "prod/loki/rules/ai-prod/assistants--chat.yaml", "CudaOutOfMemory", "page"},
		{"an infra page notifies in dev, which does not page", "dev/loki/rules/ai-dev/assistants--chat.yaml", "CudaOutOfMemory", "notify"},
		{"a PII leak pages in dev all the same", "dev/loki/rules/ai-dev/assistants--chat.yaml", "PiiEmailInLogs", "page"},
		{"the canary pages in dev all the same", "dev/loki/rules/ai-dev/assistants--chat.yaml", "PiiCanaryInLogs", "page"},
		{"a notification stays a notification", "prod/loki/rules/ai-prod/assistants--chat.yaml", "RetryStorm", "notify"},
		{"a hosted workload gets no GPU alerts", "prod/loki/rules/ai-prod/search--summarizer.yaml", "CudaOutOfMemory", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := severities(t, files, tc.path)[tc.alert]; got != tc.want {
				t.Errorf("%s in %s: severity %q, want %q", tc.alert, tc.path, got, tc.want)
			}
		})
	}
}

func TestExprCompilesEachQueryShape(t *testing.T) {
	tg := &plan.Target{
		Team:     &plan.Team{Name: "a"},
		Workload: &plan.Workload{Team: "a", Name: "w"},
		Env:      &plan.Environment{Name: "prod"},
	}
	sel := `{env="prod", stream="redacted", team="a", workload="w"}`
	for _, tc := range []struct {
		name string
		q    plan.LogQuery
		want string
	}{
		{"a pattern count sums the whole stream",
			plan.LogQuery{Matches: []string{`(?i)cuda out of memory`}, Aggregate: "count", Window: "5m"},
			"sum(count_over_time(" + sel + " |~ `(?i)cuda out of memory` [5m]))"},
		{"literal filters come before patterns and exclusions after",
			plan.LogQuery{Contains: []string{"NCCL"}, ContainsAny: []string{"WARN", "ERROR"}, Matches: []string{`x+`}, Excludes: []string{"debug"}, NotMatches: []string{`@example\.com`}, Aggregate: "count", Window: "10m"},
			"sum(count_over_time(" + sel + ` |= "NCCL" |= "WARN" or "ERROR" |~ ` + "`x+`" + ` != "debug" !~ ` + "`@example\\.com`" + " [10m]))"},
		{"a parsed rate groups by fields and drops parser errors",
			plan.LogQuery{Contains: []string{"retry"}, Parser: "json", Where: []plan.FieldFilter{{Field: "event", Op: "=", Value: "retry"}}, Aggregate: "rate", By: []string{"reason"}, Window: "5m"},
			"sum by (reason) (rate(" + sel + ` |= "retry" | json | __error__="" | event="retry" [5m]))`},
		{"field filters quote strings, back-quote patterns and keep numbers",
			plan.LogQuery{Parser: "logfmt", Where: []plan.FieldFilter{{Field: "code", Op: "!=", Value: `a"b`}, {Field: "path", Op: "=~", Value: `/v1/.*`}, {Field: "n", Op: ">=", Value: "3", Number: true}}, Aggregate: "count", Window: "5m"},
			"sum(count_over_time(" + sel + ` | logfmt | __error__="" | code!="a\"b" | path=~` + "`/v1/.*`" + ` | n>=3 [5m]))`},
		{"a quantile unwraps a field and groups inside the range function",
			plan.LogQuery{Parser: "json", Aggregate: "quantile", Unwrap: "usage_completion_tokens", Quantiles: []string{"0.5", "0.95"}, Window: "5m"},
			"quantile_over_time(0.95, " + sel + ` | json | __error__="" | unwrap usage_completion_tokens | __error__="" [5m]) by ()`},
		{"extra stream labels join the selector in order",
			plan.LogQuery{Streams: []plan.Label{{Name: "model_version", Value: "v2"}}, Contains: []string{"x"}, Aggregate: "max", Parser: "json", Unwrap: "n", By: []string{"route"}, Window: "1m"},
			`max_over_time({env="prod", model_version="v2", stream="redacted", team="a", workload="w"} |= "x" | json | __error__="" | unwrap n | __error__="" [1m]) by (route)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := lokirules.Expr(tg, &tc.q, len(tc.q.Quantiles)-1)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestRawStreamRetentionIsAnOverride(t *testing.T) {
	p := &plan.Plan{Environments: []*plan.Environment{
		{Name: "dev", Loki: plan.Loki{Tenant: "ai-dev"}},
		{Name: "prod", Loki: plan.Loki{Tenant: "ai-prod", Raw: &plan.LokiRaw{Tenant: "ai-prod-raw", RetentionHours: 48}}},
	}}
	files, err := lokirules.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "prod/loki/runtime/aiobs-raw.yaml" {
		t.Fatalf("want only prod/loki/runtime/aiobs-raw.yaml, got %v", files)
	}
	body := string(files[0].Bytes)
	body = body[strings.Index(body, "overrides:"):]
	if d := cmp.Diff("overrides:\n  ai-prod-raw:\n    retention_period: 48h\n", body); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// FuzzPattern checks that any RE2 pattern reaches LogQL intact: back-quoted
// as it is when that is possible, else double-quoted so that Go's (and so
// Loki's) unquoting gives it back, never with a raw line break.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{`\d+`, "a`b", `"quoted"`, "line\nbreak", `(?i)x|y`, "é", "\x00", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, re string) {
		lit := lokirules.Pattern(re)
		if strings.ContainsAny(lit, "\n\r") {
			t.Fatalf("literal %q holds a raw line break", lit)
		}
		switch lit[0] {
		case '`':
			if lit[len(lit)-1] != '`' || strings.Contains(lit[1:len(lit)-1], "`") || lit[1:len(lit)-1] != re {
				t.Fatalf("raw literal %q does not hold exactly %q", lit, re)
			}
		case '"':
			got, err := strconv.Unquote(lit)
			if err != nil || got != re {
				t.Fatalf("literal %q unquotes to %q (%v), want %q", lit, got, err, re)
			}
		default:
			t.Fatalf("literal %q is not quoted", lit)
		}
	})
}
