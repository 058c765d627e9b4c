package validate

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/encode"
	"github.com/aiobs/aiobs/render/grafana"
	"github.com/aiobs/aiobs/render/write"
)

type corpus struct {
	plan  *plan.Plan
	files []write.File
}

var (
	corpora   = map[string]*corpus{}
	corporaMu sync.Mutex
)

// rendered compiles and renders a decisions directory once.
func rendered(t *testing.T, dir string) *corpus {
	t.Helper()
	corporaMu.Lock()
	defer corporaMu.Unlock()
	if c, ok := corpora[dir]; ok {
		return c
	}
	p, err := compile.Compile(context.Background(), dir, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := grafana.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	corpora[dir] = &corpus{p, files}
	return corpora[dir]
}

var dirs = []string{"../examples", "../render/grafana/testdata/backends"}

func TestRenderedDashboardsPassEveryCheck(t *testing.T) {
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			c := rendered(t, dir)
			if l := checkDashboards(newArtifacts(c.plan, c.files)); len(l) > 0 {
				t.Errorf("findings on rendered output:\n%v", l)
			}
		})
	}
}

const vllmBoard = "prod/grafana/dashboards/serving/aiobs--serving--vllm.json"

// broken returns the rendered files with one dashboard changed by edit,
// which works on the dashboard as generic JSON.
func broken(t *testing.T, c *corpus, path string, edit func(d map[string]any)) []write.File {
	t.Helper()
	var out []write.File
	for _, f := range c.files {
		if f.Path == path {
			var d map[string]any
			if err := json.Unmarshal(f.Bytes, &d); err != nil {
				t.Fatal(err)
			}
			edit(d)
			raw, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			b, err := encode.CanonicalJSON(raw)
			if err != nil {
				t.Fatal(err)
			}
			f = write.File{Path: f.Path, Bytes: b}
		}
		out = append(out, f)
	}
	return out
}

// panelTitled finds a top-level panel by title.
func panelTitled(t *testing.T, d map[string]any, title string) map[string]any {
	t.Helper()
	for _, p := range d["panels"].([]any) {
		if m := p.(map[string]any); m["title"] == title {
			return m
		}
	}
	t.Fatalf("no panel %q", title)
	return nil
}

func firstTarget(p map[string]any) map[string]any {
	return p["targets"].([]any)[0].(map[string]any)
}

func variableNamed(t *testing.T, d map[string]any, name string) map[string]any {
	t.Helper()
	for _, v := range d["templating"].(map[string]any)["list"].([]any) {
		if m := v.(map[string]any); m["name"] == name {
			return m
		}
	}
	t.Fatalf("no variable %q", name)
	return nil
}

func TestDashboardChecksFireOnHandBrokenDashboards(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, d map[string]any)
		want []string
	}{
		{
			name: "a panel without a datasource falls back to Grafana's default",
			edit: func(t *testing.T, d map[string]any) { delete(panelTitled(t, d, "Preemptions"), "datasource") },
			want: []string{"DATASOURCE_DEFAULT"},
		},
		{
			name: "a panel naming the default datasource falls back to it",
			edit: func(t *testing.T, d map[string]any) {
				panelTitled(t, d, "Preemptions")["datasource"] = map[string]any{"type": "prometheus", "uid": "default"}
			},
			want: []string{"DATASOURCE_DEFAULT"},
		},
		{
			name: "a datasource variable defaulting to another uid is unbound",
			edit: func(t *testing.T, d map[string]any) {
				variableNamed(t, d, "prometheus_datasource")["current"] = map[string]any{"text": "mimir-dev", "value": "mimir-dev"}
			},
			want: []string{"DATASOURCE_UNBOUND"},
		},
		{
			name: "a uid the environment does not bind is unbound",
			edit: func(t *testing.T, d map[string]any) {
				firstTarget(panelTitled(t, d, "Preemptions"))["datasource"] = map[string]any{"type": "prometheus", "uid": "grafanacloud-prom"}
			},
			want: []string{"DATASOURCE_UNBOUND"},
		},
		{
			name: "a reference to a variable that does not exist is unbound",
			edit: func(t *testing.T, d map[string]any) {
				panelTitled(t, d, "Preemptions")["datasource"] = map[string]any{"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
			},
			want: []string{"DATASOURCE_UNBOUND"},
		},
		{
			name: "a Prometheus panel on the Loki variable has the wrong type",
			edit: func(t *testing.T, d map[string]any) {
				panelTitled(t, d, "Preemptions")["datasource"] = map[string]any{"type": "prometheus", "uid": "${loki_datasource}"}
			},
			want: []string{"DATASOURCE_TYPE"},
		},
		{
			name: "a Prometheus query on the environment's Tempo uid has the wrong type",
			edit: func(t *testing.T, d map[string]any) {
				firstTarget(panelTitled(t, d, "Preemptions"))["datasource"] = map[string]any{"type": "prometheus", "uid": "tempo-prod"}
			},
			want: []string{"DATASOURCE_TYPE"},
		},
		{
			name: "a query variable without a datasource falls back to the default",
			edit: func(t *testing.T, d map[string]any) { delete(variableNamed(t, d, "instance"), "datasource") },
			want: []string{"DATASOURCE_DEFAULT"},
		},
		{
			name: "an annotation without a datasource falls back to the default",
			edit: func(t *testing.T, d map[string]any) {
				a := d["annotations"].(map[string]any)
				a["list"] = append(a["list"].([]any), map[string]any{"name": "deploys", "enable": true, "expr": "changes(up[5m])", "iconColor": "red"})
			},
			want: []string{"DATASOURCE_DEFAULT"},
		},
		{
			name: "a query that does not parse",
			edit: func(t *testing.T, d map[string]any) {
				firstTarget(panelTitled(t, d, "Preemptions"))["expr"] = `sum(rate(vllm:num_preemptions_total[$__rate_interval])`
			},
			want: []string{"PROMQL_PARSE"},
		},
		{
			name: "a query naming a variable the dashboard lacks does not parse",
			edit: func(t *testing.T, d map[string]any) {
				firstTarget(panelTitled(t, d, "Preemptions"))["expr"] = `sum(rate(vllm:num_preemptions_total[$window]))`
			},
			want: []string{"PROMQL_PARSE"},
		},
		{
			name: "a rate over a fixed window ignores the scrape interval",
			edit: func(t *testing.T, d map[string]any) {
				tg := firstTarget(panelTitled(t, d, "Preemptions"))
				tg["expr"] = strings.ReplaceAll(tg["expr"].(string), "$__rate_interval", "5m")
			},
			want: []string{"RATE_INTERVAL"},
		},
		{
			name: "the preemption counter without _total matches no series",
			edit: func(t *testing.T, d map[string]any) {
				tg := firstTarget(panelTitled(t, d, "Preemptions"))
				tg["expr"] = strings.ReplaceAll(tg["expr"].(string), "vllm:num_preemptions_total", "vllm:num_preemptions")
			},
			want: []string{"METRIC_UNKNOWN"},
		},
		{
			name: "another backend's series is unknown to a vLLM workload",
			edit: func(t *testing.T, d map[string]any) {
				firstTarget(panelTitled(t, d, "Preemptions"))["expr"] = `sum(rate(sglang:num_retracted_requests_total[$__rate_interval]))`
			},
			want: []string{"METRIC_UNKNOWN"},
		},
		{
			name: "Tempo's span metrics are a known contract, but a misspelt one is unknown",
			edit: func(t *testing.T, d map[string]any) {
				tg := firstTarget(panelTitled(t, d, "Latency per pipeline span"))
				tg["expr"] = strings.ReplaceAll(tg["expr"].(string), "traces_spanmetrics_latency_bucket", "traces_spanmetric_latency_bucket")
			},
			want: []string{"METRIC_UNKNOWN"},
		},
		{
			name: "a Loki query on the Prometheus variable has the wrong type, and Prometheus cannot read it",
			edit: func(t *testing.T, d map[string]any) {
				firstTarget(panelTitled(t, d, "Error lines"))["datasource"] = map[string]any{"type": "loki", "uid": "${prometheus_datasource}"}
			},
			want: []string{"DATASOURCE_TYPE", "PROMQL_PARSE"},
		},
		{
			name: "a Loki query on the Tempo variable under a Loki panel has the wrong type",
			edit: func(t *testing.T, d map[string]any) {
				firstTarget(panelTitled(t, d, "Error lines"))["datasource"] = map[string]any{"type": "tempo", "uid": "${tempo_datasource}"}
			},
			want: []string{"DATASOURCE_TYPE"},
		},
		{
			name: "a Loki query without LogQL",
			edit: func(t *testing.T, d map[string]any) { delete(firstTarget(panelTitled(t, d, "Error lines")), "expr") },
			want: []string{"DATASOURCE_TYPE"},
		},
		{
			name: "a Tempo query without TraceQL",
			edit: func(t *testing.T, d map[string]any) {
				delete(firstTarget(panelTitled(t, d, "Slowest requests")), "query")
			},
			want: []string{"DATASOURCE_TYPE"},
		},
		{
			name: "a Tempo service-map query without filters",
			edit: func(t *testing.T, d map[string]any) {
				tg := firstTarget(panelTitled(t, d, "Slowest requests"))
				delete(tg, "query")
				tg["queryType"] = "serviceMap"
			},
			want: []string{"DATASOURCE_TYPE"},
		},
		{
			name: "a Tempo panel on an unbound uid",
			edit: func(t *testing.T, d map[string]any) {
				panelTitled(t, d, "Slowest requests")["datasource"] = map[string]any{"type": "tempo", "uid": "tempo-dev"}
			},
			want: []string{"DATASOURCE_UNBOUND"},
		},
		{
			name: "a panel without a unit",
			edit: func(t *testing.T, d map[string]any) {
				delete(panelTitled(t, d, "Preemptions")["fieldConfig"].(map[string]any)["defaults"].(map[string]any), "unit")
			},
			want: []string{"PANEL_UNIT"},
		},
		{
			name: "a panel without a description",
			edit: func(t *testing.T, d map[string]any) { delete(panelTitled(t, d, "Preemptions"), "description") },
			want: []string{"PANEL_DESCRIPTION"},
		},
		{
			name: "two panels with one id",
			edit: func(t *testing.T, d map[string]any) {
				panelTitled(t, d, "Preemptions")["id"] = panelTitled(t, d, "KV-cache usage")["id"]
			},
			want: []string{"PANEL_ID_DUPLICATE"},
		},
		{
			name: "a panel without an id",
			edit: func(t *testing.T, d map[string]any) { delete(panelTitled(t, d, "Preemptions"), "id") },
			want: []string{"PANEL_ID_MISSING"},
		},
		{
			name: "two panels on one spot of the grid",
			edit: func(t *testing.T, d map[string]any) {
				panelTitled(t, d, "Preemptions")["gridPos"] = panelTitled(t, d, "KV-cache usage")["gridPos"]
			},
			want: []string{"PANEL_OVERLAP"},
		},
		{
			name: "a panel sticking out of the grid",
			edit: func(t *testing.T, d map[string]any) {
				g := panelTitled(t, d, "KV-cache usage")["gridPos"].(map[string]any)
				g["w"] = 12
			},
			want: []string{"PANEL_OVERLAP"},
		},
	}
	c := rendered(t, "../render/grafana/testdata/backends")
	var pos plan.Workload
	for _, tg := range c.plan.Targets {
		if tg.Workload.Name == "vllm" {
			pos = *tg.Workload
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := broken(t, c, vllmBoard, func(d map[string]any) { tt.edit(t, d) })
			i := slices.IndexFunc(files, func(f write.File) bool { return f.Path == vllmBoard })
			l := checkDashboards(newArtifacts(c.plan, files[i:i+1]))
			var rules []string
			for _, d := range l {
				if !slices.Contains(rules, d.Rule) {
					rules = append(rules, d.Rule)
				}
				if d.Artifact != vllmBoard || d.Pos != pos.Pos {
					t.Errorf("finding %v should name %s at %v", d, vllmBoard, pos.Pos)
				}
			}
			if d := cmp.Diff(tt.want, rules); d != "" {
				t.Errorf("rules (-want +got):\n%s\nfindings:\n%v", d, l)
			}
		})
	}
}

func TestConfigMapCheckRefusesWhatKubectlApplyWouldReject(t *testing.T) {
	tests := []struct {
		name string
		size int
		want []string
	}{
		{"a ConfigMap under the annotation limit passes", 1000, nil},
		{"a ConfigMap over the annotation limit is refused", maxAppliedBytes, []string{"CONFIGMAP_TOO_LARGE"}},
		{"a ConfigMap over the object limit is refused", maxConfigMapBytes, []string{"CONFIGMAP_TOO_LARGE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  x.json: " + strings.Repeat("x", tt.size) + "\n"
			f := write.File{Path: "prod/kubernetes/grafana-dashboards/x.yaml", Bytes: []byte(data)}
			var rules []string
			for _, d := range checkDashboards(newArtifacts(&plan.Plan{}, []write.File{f})) {
				rules = append(rules, d.Rule)
			}
			if d := cmp.Diff(tt.want, rules); d != "" {
				t.Errorf("rules (-want +got):\n%s", d)
			}
		})
	}
}

func TestExpandReplacesGrafanaVariablesAsGrafanaWould(t *testing.T) {
	vars := map[string]variable{
		"model":    {kind: "query", values: []string{"llama-3.1"}},
		"instance": {kind: "query", values: []string{"$__all"}, all: ".*"},
		"pods":     {kind: "query", values: []string{"a", "b"}},
	}
	builtins := map[string]string{"__rate_interval": "5m"}
	tests := []struct {
		name, in, want string
	}{
		{"a selected value replaces $name", `x{m=~"$model"}`, `x{m=~"llama-3.1"}`},
		{"braces and a format are accepted", `x{m=~"${model:regex}"}`, `x{m=~"llama-3.1"}`},
		{"All becomes the all value", `x{i=~"$instance"}`, `x{i=~".*"}`},
		{"several values become an alternation", `x{p=~"$pods"}`, `x{p=~"(a|b)"}`},
		{"the rate interval is a duration", `rate(x[$__rate_interval])`, `rate(x[5m])`},
		{"an unknown name stays as written", `label_replace(x, "pod", "$1", "p", "(.+)")`, `label_replace(x, "pod", "$1", "p", "(.+)")`},
		{"the old bracket syntax works too", `x{m=~"[[model]]"}`, `x{m=~"llama-3.1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := expand(tt.in, vars, builtins); got != tt.want {
				t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDashboardQueriesListEveryPrometheusQuery(t *testing.T) {
	c := rendered(t, "../render/grafana/testdata/backends")
	for _, f := range c.files {
		if !strings.HasSuffix(f.Path, ".json") {
			continue
		}
		t.Run(f.Path, func(t *testing.T) {
			qs, err := DashboardQueries(f.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			var d dashboardJSON
			if err := json.Unmarshal(f.Bytes, &d); err != nil {
				t.Fatal(err)
			}
			// Loki and Tempo queries are left out; every panel and target
			// names its datasource's type.
			targets := 0
			for _, p := range flatten(d.Panels) {
				for _, tg := range p.Targets {
					ds := tg.Datasource
					if len(ds) == 0 {
						ds = p.Datasource
					}
					var ref struct{ Type string }
					if err := json.Unmarshal(ds, &ref); err != nil {
						t.Fatal(err)
					}
					if ref.Type == "prometheus" {
						targets++
					}
				}
			}
			panelQueries := 0
			for _, q := range qs {
				if q.PanelID > 0 {
					panelQueries++
				}
				if q.RefID == "" && q.PanelID > 0 || q.Panel == "" || q.Expr == "" {
					t.Errorf("incomplete query %+v", q)
				}
				if strings.Contains(q.Expanded, "$__") || strings.Contains(q.Expanded, "$model") || strings.Contains(q.Expanded, "$instance") {
					t.Errorf("%s %s: variables left in %s", q.Panel, q.RefID, q.Expanded)
				}
				if _, err := parser.NewParser(parser.Options{}).ParseExpr(q.Expanded); err != nil {
					t.Errorf("%s %s: %v", q.Panel, q.RefID, err)
				}
			}
			if panelQueries != targets {
				t.Errorf("%d panel queries listed, dashboard has %d targets", panelQueries, targets)
			}
		})
	}
}

// TestQueriesEvaluateAgainstSyntheticSeries runs every query of the vLLM
// fixture dashboard, as DashboardQueries expands it, in Prometheus's own
// engine over series shaped like vLLM's and dcgm-exporter's, and checks
// the answers of the joins and ratios that are easy to get wrong.
func TestQueriesEvaluateAgainstSyntheticSeries(t *testing.T) {
	const sel = `cluster="eu-1", tier="gold \"a\\b\"", job="vllm", model_name="meta-llama/Llama-3.1-8B-Instruct", instance="10.0.0.1:8000", pod="vllm-0", engine="0"`
	const gpu = `cluster="eu-1", tier="gold \"a\\b\""`
	load := `load 15s
  vllm:num_requests_running{` + sel + `} 3+0x40
  vllm:request_success_total{` + sel + `, finished_reason="stop"} 0+10x40
  vllm:request_success_total{` + sel + `, finished_reason="error"} 0+1x40
  vllm:num_preemptions_total{` + sel + `} 0+1x40
  DCGM_FI_DEV_GPU_UTIL{` + gpu + `, Hostname="node-a", gpu="0", pod="dcgm-exporter-a", exported_pod="vllm-0"} 80+0x40
  DCGM_FI_DEV_GPU_UTIL{` + gpu + `, hostname="node-b", gpu="1", pod="vllm-0"} 60+0x40
  DCGM_FI_DEV_GPU_UTIL{` + gpu + `, Hostname="node-c", gpu="0", pod="dcgm-exporter-c", exported_pod="other-0"} 10+0x40
  DCGM_FI_DEV_CLOCK_THROTTLE_REASONS{` + gpu + `, Hostname="node-a", gpu="0", pod="dcgm-exporter-a", exported_pod="vllm-0"} 68+0x40
`
	st := promqltest.LoadedStorage(t, load)
	eng := promqltest.NewTestEngine(t, false, 5*time.Minute, 1000000)
	c := rendered(t, "../render/grafana/testdata/backends")
	i := slices.IndexFunc(c.files, func(f write.File) bool { return f.Path == vllmBoard })
	qs, err := DashboardQueries(c.files[i].Bytes)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, q := range qs {
		iq, err := eng.NewInstantQuery(context.Background(), st, nil, q.Expanded, time.Unix(600, 0))
		if err != nil {
			t.Errorf("%s %s: %v", q.Panel, q.RefID, err)
			continue
		}
		res := iq.Exec(context.Background())
		if res.Err != nil {
			t.Errorf("%s %s: %v", q.Panel, q.RefID, res.Err)
			continue
		}
		got[q.Panel+" "+q.RefID] = strings.ReplaceAll(res.Value.String(), " @[600000]", "")
	}
	want := map[string]string{
		// The GPU of the pod renamed into exported_pod and the GPU whose
		// pod label is the serving pod; not the other pod's GPU.
		"GPU utilisation A": "{Hostname=\"node-a\", gpu=\"0\"} => 80\n{gpu=\"1\", hostname=\"node-b\"} => 60",
		// 68 = software power cap (4) + hardware thermal (64).
		"GPUs throttled, by clock-event reason A": "{} => 1",
		"GPUs throttled, by clock-event reason B": "{} => 0",
		"GPUs throttled, by clock-event reason D": "{} => 1",
		// One failed request of eleven finished.
		"Error ratio A": "{} => 0.09090909090909091",
		"Preemptions A": "{} => 0.06666666666666667",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
