package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render"
	"github.com/aiobs/aiobs/render/write"
)

// taxonomyPlan is a one-target plan with the standard's taxonomy.
func taxonomyPlan() *plan.Plan {
	env := &plan.Environment{Name: "prod", Paging: true, Loki: plan.Loki{Tenant: "ai-prod"},
		Datasources: plan.Datasources{
			Metrics: plan.Datasource{UID: "mimir", Type: "prometheus"},
			Logs:    plan.Datasource{UID: "loki", Type: "loki"},
			Traces:  plan.Datasource{UID: "tempo", Type: "tempo"},
		}}
	team := &plan.Team{Name: "a"}
	w := &plan.Workload{Team: "a", Name: "w", Pos: diag.Pos{File: "teams.cue", Line: 3, Column: 2}}
	team.Workloads = []*plan.Workload{w}
	return &plan.Plan{
		Environments: []*plan.Environment{env},
		Teams:        []*plan.Team{team},
		Targets:      []*plan.Target{{Team: team, Workload: w, Env: env}},
		Standard: plan.Standard{
			ForbiddenLabels: []string{"request_id", "session_id", "trace_id", "user_id"},
			StreamLabels:    []string{"env", "model_version", "stream", "team", "user_class", "workload"},
		},
	}
}

// findings prints a list the way the CLI does, so tests read as output.
func printFindings(t *testing.T, l diag.List) string {
	t.Helper()
	var b bytes.Buffer
	if err := diag.Print(&b, l, diag.FormatText); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func recordingRuleFile(expr string) string {
	return "groups:\n  - name: g\n    interval: 1m\n    rules:\n      - record: aiobs:x:rate5m\n        expr: '" + expr + "'\n"
}

func logDashboard(tags, plugin, expr string) string {
	return `{"title": "d", "tags": [` + tags + `], "templating": {"list": [
  {"name": "loki_datasource", "type": "datasource", "query": "loki"},
  {"name": "prometheus_datasource", "type": "datasource", "query": "prometheus"}]},
 "panels": [{"type": "row", "title": "Logs", "panels": [{"title": "Log lines", "type": "logs",
  "datasource": {"type": "` + plugin + `", "uid": "${` + plugin + `_datasource}"},
  "targets": [{"refId": "A", "expr": ` + quoteJSON(expr) + `}]}]}]}`
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestTaxonomyFindings(t *testing.T) {
	const dash = "prod/grafana/dashboards/a/aiobs--a--w.json"
	const rules = "prod/loki/rules/ai-prod/a--w.yaml"
	for _, tc := range []struct {
		name       string
		path, body string
		want       string
	}{
		{"a request-scoped label in a Loki stream selector is refused",
			rules, recordingRuleFile(`sum(rate({env="prod", stream="redacted", trace_id="abc"} [5m]))`),
			`prod/loki/rules/ai-prod/a--w.yaml: rule aiobs:x:rate5m: stream selector {env="prod", stream="redacted", trace_id="abc"} uses trace_id, a request-scoped identifier that belongs in structured metadata, never in a stream label [LABEL_REQUEST_SCOPED]` + "\n"},
		{"a stream label outside the taxonomy is refused",
			rules, recordingRuleFile(`sum(rate({namespace="inference", stream="redacted"} [5m]))`),
			`prod/loki/rules/ai-prod/a--w.yaml: rule aiobs:x:rate5m: stream selector {namespace="inference", stream="redacted"} uses namespace, which is not a stream label; the taxonomy allows env, model_version, stream, team, user_class, workload [STREAM_LABEL_NOT_ALLOWED]` + "\n"},
		{"a LogQL grouping by a request-scoped field is refused",
			rules, recordingRuleFile(`sum by (user_id) (rate({stream="redacted"} | json [5m]))`),
			`prod/loki/rules/ai-prod/a--w.yaml: rule aiobs:x:rate5m: by (user_id) groups by user_id, a request-scoped identifier: every request would become a series [LABEL_REQUEST_SCOPED]` + "\n"},
		{"a raw-stream panel in the standard dashboard is refused",
			dash, logDashboard(`"aiobs"`, "loki", `{env="prod", stream="raw", team="a", workload="w"}`),
			`prod/grafana/dashboards/a/aiobs--a--w.json: panel "Log lines" target A: stream selector {env="prod", stream="raw", team="a", workload="w"} matches stream="raw", which can select the raw stream; a standard dashboard may read only the redacted stream (raw-stream panels belong on a dashboard tagged aiobs-restricted) [RAW_STREAM_IN_STANDARD_DASHBOARD]` + "\n"},
		{"a log panel that does not pin the redacted stream is refused",
			dash, logDashboard(``, "loki", `{env="prod", team="a"} |= "error"`),
			`prod/grafana/dashboards/a/aiobs--a--w.json: panel "Log lines" target A: stream selector {env="prod", team="a"} does not pin stream="redacted"; a standard dashboard may read only the redacted stream (raw-stream panels belong on a dashboard tagged aiobs-restricted) [RAW_STREAM_IN_STANDARD_DASHBOARD]` + "\n"},
		{"a regex on the stream label is refused",
			dash, logDashboard(``, "loki", `{env="prod", stream=~"red.*|raw"}`),
			`prod/grafana/dashboards/a/aiobs--a--w.json: panel "Log lines" target A: stream selector {env="prod", stream=~"red.*|raw"} matches stream=~"red.*|raw", which can select the raw stream; a standard dashboard may read only the redacted stream (raw-stream panels belong on a dashboard tagged aiobs-restricted) [RAW_STREAM_IN_STANDARD_DASHBOARD]` + "\n"},
		{"a restricted dashboard may read the raw stream",
			dash, logDashboard(`"aiobs-restricted"`, "loki", `{env="prod", stream="raw", team="a", workload="w"}`), ""},
		{"the redacted stream passes",
			dash, logDashboard(``, "loki", `{env="prod", stream="redacted", team="a", workload="w"} | json`), ""},
		{"a dashboard PromQL selector on a request-scoped label is refused",
			dash, logDashboard(``, "prometheus", `sum(rate(http_requests_total{request_id="1"}[5m]))`),
			`prod/grafana/dashboards/a/aiobs--a--w.json: panel "Log lines" target A: selector {request_id="1"} uses request_id, a request-scoped identifier that must never be a metric label [LABEL_REQUEST_SCOPED]` + "\n"},
		{"a PromQL grouping by a request-scoped label in a Prometheus rule is refused",
			"prod/prometheus/rules/a/w.yaml", "groups:\n  - name: g\n    rules:\n      - record: aiobs:x:sum\n        expr: sum without (instance) (x) / on (session_id) group_left y\n",
			`prod/prometheus/rules/a/w.yaml: rule aiobs:x:sum: on (session_id) groups by session_id, a request-scoped identifier: every request would become a series [LABEL_REQUEST_SCOPED]` + "\n"},
		{"a request-scoped static label of a PrometheusRule object is refused",
			"prod/kubernetes/prometheus-rules/a--w.yaml", "kind: PrometheusRule\nspec:\n  groups:\n    - name: g\n      rules:\n        - alert: X\n          expr: up == 0\n          labels: {user_id: x}\n",
			`prod/kubernetes/prometheus-rules/a--w.yaml: rule X: label user_id is request-scoped and must never label a series or an alert [LABEL_REQUEST_SCOPED]` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := printFindings(t, checkTaxonomy(newArtifacts(taxonomyPlan(), []write.File{{Path: tc.path, Bytes: []byte(tc.body)}})))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestScanQueryFindsLabelBearingParts(t *testing.T) {
	type want struct {
		Selectors []qselector
		Groupings []qgrouping
		Regexes   []qregex
		Ranges    bool
		Stages    []string
	}
	for _, tc := range []struct {
		name, expr string
		want       want
	}{
		{"a LogQL metric query with line filters, a parser and a label filter",
			"sum by (reason) (rate({a=\"b\", c=~\"d.*\"} |= \"x\" |~ `r1` or \"r2\" | json | f=~\"r3\" | g!=\"h\" [5m]))",
			want{
				Selectors: []qselector{{text: `{a="b", c=~"d.*"}`, matchers: []qmatcher{{"a", "=", "b"}, {"c", "=~", "d.*"}}}},
				Groupings: []qgrouping{{"by", []string{"reason"}}},
				Regexes:   []qregex{{"matcher", "d.*"}, {"line filter", "r1"}, {"line filter", "r2"}, {"label filter", "r3"}},
				Ranges:    true, Stages: []string{"json"},
			}},
		{"braces inside a string are not a selector",
			`{a="b"} | line_format "{{.x}} {y=\"z\"}"`,
			want{Selectors: []qselector{{text: `{a="b"}`, matchers: []qmatcher{{"a", "=", "b"}}}}, Stages: []string{"line_format"}}},
		{"PromQL groupings, vector matching and Grafana variables",
			`sum without (user_id) (rate(x{job="$job"}[$__rate_interval])) / on (trace_id) group_left (model) y`,
			want{
				Selectors: []qselector{{text: `{job="$job"}`, matchers: []qmatcher{{"job", "=", "$job"}}}},
				Groupings: []qgrouping{{"without", []string{"user_id"}}, {"on", []string{"trace_id"}}, {"group_left", []string{"model"}}},
				Ranges:    true,
			}},
		{"a variable as a matcher value and single-quoted PromQL strings",
			`up{env=${env}, job='a\'b'}`,
			want{Selectors: []qselector{{text: `{env=${env}, job='a\'b'}`, matchers: []qmatcher{{"env", "=", "${env}"}, {"job", "=", "a'b"}}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := scanQuery(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			got := want{q.selectors, q.groupings, q.regexes, q.ranges, q.stages}
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(qselector{}, qmatcher{}, qgrouping{}, qregex{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestScanQueryRefusesUnreadableQueries(t *testing.T) {
	for _, tc := range []struct{ name, expr string }{
		{"an unterminated string", `{a="b} |= "x"`},
		{"an unterminated raw string", "{a=\"b\"} |~ `x"},
		{"a string with a Go escape Loki refuses", `{a="\d"}`},
		{"a selector without a value", `{a=}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := scanQuery(tc.expr); err == nil {
				t.Errorf("%s scanned without error", tc.expr)
			}
		})
	}
}

// TestExampleRendersClean runs the log, taxonomy and datasource checks over
// the example's whole rendered tree.
func TestExampleRendersClean(t *testing.T) {
	p, err := compile.Compile(context.Background(), "../examples", compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := render.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	a := newArtifacts(p, files)
	var l diag.List
	for _, c := range []checker{checkLokiRules, checkTaxonomy, checkDatasources} {
		l = append(l, c(a)...)
	}
	if got := printFindings(t, l.Sorted()); got != "" {
		t.Errorf("findings on the example:\n%s", got)
	}
}

// FuzzSelectorRoundTrip checks the stream selector builder against the
// scanner validate reads it with: whatever a name holds, the selector
// scans as one selector of four matchers and gives the name back exactly.
func FuzzSelectorRoundTrip(f *testing.F) {
	for _, s := range []string{"chat", `a"b`, `back\slash`, "new\nline", "`", `"}`, `x"} |= "y`, "é", "\u202e", "{", "$env"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if !utf8.ValidString(value) {
			t.Skip("names are UTF-8 by the schema")
		}
		tg := &plan.Target{Team: &plan.Team{Name: "a"}, Workload: &plan.Workload{Team: "a", Name: value}, Env: &plan.Environment{Name: "prod"}}
		sel := tg.RedactedStreamSelector()
		q, err := scanQuery("count_over_time(" + sel + ` |= "x" [5m])`)
		if err != nil {
			t.Fatalf("selector %s does not scan: %v", sel, err)
		}
		if len(q.selectors) != 1 || len(q.selectors[0].matchers) != 4 {
			t.Fatalf("selector %s scans as %+v", sel, q.selectors)
		}
		if m := q.selectors[0].matchers[3]; m.name != "workload" || m.op != "=" || m.value != value {
			t.Fatalf("selector %s gives back %+v, want workload=%q", sel, m, value)
		}
	})
}

// FuzzScanQuery checks that no input makes the scanner panic or loop.
func FuzzScanQuery(f *testing.F) {
	for _, s := range []string{`sum by (a) (rate({a="b"} |~ "x" [5m]))`, `{`, `"`, "`", `$`, `${`, `by (`, `{a=~"(" }`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		_, _ = scanQuery(expr)
	})
}
