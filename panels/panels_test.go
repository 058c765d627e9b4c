package panels

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/plan"
)

var (
	examplePlan     *plan.Plan
	examplePlanErr  error
	examplePlanOnce sync.Once
)

// example compiles the example decisions once; they carry every backend
// catalogue of the standard.
func example(t *testing.T) *plan.Plan {
	t.Helper()
	examplePlanOnce.Do(func() {
		examplePlan, examplePlanErr = compile.Compile(context.Background(), "../examples", compile.Options{})
	})
	if examplePlanErr != nil {
		t.Fatal(examplePlanErr)
	}
	return examplePlan
}

// targetOn is a target of the example's first workload moved onto the
// named backend.
func targetOn(t *testing.T, backend string) *Context {
	t.Helper()
	p := example(t)
	be := p.Backend(backend)
	if be == nil {
		t.Fatalf("no backend %s", backend)
	}
	src := p.Targets[0]
	w := *src.Workload
	w.Backend = backend
	return &Context{Target: &plan.Target{Team: src.Team, Workload: &w, Env: src.Env, Backend: be}, Standard: &p.Standard}
}

// expectedStages are the stages every catalogue either exposes or
// explains in its notes, so no dashboard row silently lacks a panel.
var expectedStages = []string{
	"ttft", "itl", "e2e", "queue", "prefill", "decode",
	"promptTokens", "generationTokens", "errors",
	"queueDepth", "running", "preemptions", "kvCache", "prefixCacheQueries", "prefixCacheHits",
}

func TestEveryCatalogueExposesOrExplainsEachStage(t *testing.T) {
	p := example(t)
	var names []string
	for _, be := range p.Backends {
		names = append(names, be.Name)
		t.Run(be.Name, func(t *testing.T) {
			for _, st := range expectedStages {
				if _, ok := be.Stages[st]; !ok && be.Notes[st] == "" {
					t.Errorf("stage %s is neither catalogued nor explained in notes", st)
				}
			}
			_, req := be.Stages["requests"]
			_, succ := be.Stages["successes"]
			if !req && !succ && be.Notes["requests"] == "" {
				t.Errorf("requests are neither counted nor explained")
			}
			for st, s := range be.Stages {
				if st == "batchSize" && s.Type != "gauge" {
					t.Errorf("batchSize is a %s; it holds an average and must be read as a gauge", s.Type)
				}
				if s.Type == "counter" && !strings.HasSuffix(s.Name, "_total") && be.Name != "tgi" && be.Name != "triton" &&
					!strings.HasSuffix(s.Name, "_count") {
					t.Errorf("stage %s: counter %s lacks the _total suffix its client library adds", st, s.Name)
				}
			}
		})
	}
	want := []string{"gateway", "llamacpp", "otel-genai", "sglang", "tgi", "triton", "vllm"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("catalogues (-want +got):\n%s", d)
	}
}

func TestLatencyStagesAreReadAsTheirSeriesAllow(t *testing.T) {
	tests := []struct {
		name, backend, stage string
		want                 latencyKind
	}{
		{"a vLLM histogram gives quantiles", "vllm", "ttft", latencyHistogram},
		{"a Triton millisecond histogram gives quantiles", "triton", "ttft", latencyHistogram},
		{"a Triton microsecond counter gives a mean per request", "triton", "queue", latencyMean},
		{"llama.cpp prefill seconds without a request count give a speed", "llamacpp", "prefill", latencySpeed},
		{"a stage TGI lacks gives nothing", "tgi", "ttft", latencyNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := targetOn(t, tt.backend).latency(tt.stage); got != tt.want {
				t.Errorf("latency(%s) on %s = %v, want %v", tt.stage, tt.backend, got, tt.want)
			}
		})
	}
}

func TestTimeUnitsAreShownInSeconds(t *testing.T) {
	c := targetOn(t, "triton")
	queue, _ := c.stage("queue")
	ttft, _ := c.stage("ttft")
	tests := []struct {
		name, got, suffix string
	}{
		{"a microsecond counter mean is divided by a million", c.counterMean(queue), " / 1000000"},
		{"a millisecond histogram quantile is divided by a thousand", c.quantile("0.95", ttft), " / 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.HasSuffix(tt.got, tt.suffix) {
				t.Errorf("%s does not end in %q", tt.got, tt.suffix)
			}
			if _, err := parser.NewParser(parser.Options{}).ParseExpr(strings.ReplaceAll(strings.ReplaceAll(tt.got, "$__rate_interval", "5m"), "$", "")); err != nil {
				t.Errorf("%s: %v", tt.got, err)
			}
		})
	}
}

func TestAveragesHeldInCountersAreNeverRated(t *testing.T) {
	c := targetOn(t, "llamacpp")
	row, err := Scheduler(c)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range row.Panels {
		for _, q := range promExprs(t, p) {
			if strings.Contains(q, "llamacpp:n_busy_slots_per_decode") {
				found = true
				if strings.Contains(q, "rate(") || strings.Contains(q, "increase(") {
					t.Errorf("%s takes the rate of an average", q)
				}
			}
		}
	}
	if !found {
		t.Error("no panel reads llama.cpp's busy slots per decode")
	}
}

func promExprs(t *testing.T, p Panel) []string {
	t.Helper()
	var out []string
	for _, q := range p.Panel.Targets {
		var target struct {
			Expr string `json:"expr"`
		}
		if err := json.Unmarshal([]byte(jsonOf(t, q)), &target); err != nil {
			t.Fatal(err)
		}
		out = append(out, target.Expr)
	}
	return out
}

func TestSelectorsKeepEveryLabelValueIntact(t *testing.T) {
	values := []string{`plain`, `with "quotes"`, `back\slash`, `new` + "\n" + `line`, `dollar $model`, `brace }`}
	for _, v := range values {
		t.Run(v, func(t *testing.T) {
			c := targetOn(t, "vllm")
			c.Fixed = true
			env := *c.Target.Env
			env.Labels = []plan.Label{{Name: "cluster", Value: v}}
			c.Target.Env = &env
			s, _ := c.stage("running")
			e, err := parser.NewParser(parser.Options{}).ParseExpr(c.sel(s, ""))
			if err != nil {
				t.Fatalf("%s: %v", c.sel(s, ""), err)
			}
			vs := e.(*parser.VectorSelector)
			for _, m := range vs.LabelMatchers {
				if m.Name == "cluster" && m.Value != v {
					t.Errorf("cluster = %q, want %q", m.Value, v)
				}
			}
		})
	}
}

func FuzzSelectorRoundTrip(f *testing.F) {
	for _, s := range []string{"a", `"`, `\`, "\x00", "é", "$instance"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8Valid(v) {
			t.Skip()
		}
		ms := []plan.Matcher{{Name: "cluster", Op: "=", Value: v}}
		e, err := parser.NewParser(parser.Options{}).ParseExpr("up" + plan.FormatMatchers(ms))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		for _, m := range e.(*parser.VectorSelector).LabelMatchers {
			if m.Name == "cluster" && m.Value != v {
				t.Errorf("cluster = %q, want %q", m.Value, v)
			}
		}
	})
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"500ms", 0.5, true},
		{"20s", 20, true},
		{"1h30m", 5400, true},
		{"1d", 86400, true},
		{"", 0, true},
		{"5x", 0, false},
		{"ms", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := seconds(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("seconds(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestErrorBudget(t *testing.T) {
	tests := []struct {
		objective string
		want      float64
	}{
		{"99.5", 0.005},
		{"99.9", 0.001},
		{"99", 0.01},
		{"95", 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.objective, func(t *testing.T) {
			if got, _ := errorBudget(tt.objective); got != tt.want {
				t.Errorf("errorBudget(%s) = %v, want %v", tt.objective, got, tt.want)
			}
		})
	}
}

func TestRefIDsFollowGrafanasOrder(t *testing.T) {
	got := []string{refID(0), refID(1), refID(25), refID(26), refID(27), refID(51), refID(52)}
	want := []string{"A", "B", "Z", "AA", "AB", "AZ", "BA"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("refIDs (-want +got):\n%s", d)
	}
}

func TestSpreadFillsTheGridWidth(t *testing.T) {
	for n := 1; n <= 7; n++ {
		specs := spread(make([]spec, n), 24)
		var sum uint32
		for _, s := range specs {
			sum += s.w
		}
		if sum != 24 {
			t.Errorf("%d panels take %d columns, want 24", n, sum)
		}
	}
}

func TestWorkloadRowsKeepUsersOnTopAndGPUsAtTheBottom(t *testing.T) {
	base := []string{"User-perceived health", "Latency by stage", "Throughput and errors", "Scheduler and caches", "Quality", "Cost", "Logs", "Traces", "GPU"}
	tests := []struct {
		name  string
		agent bool
		want  []string
	}{
		{"a serving workload has the standard rows", false, base},
		{"an agent workload adds its tools after quality", true, append(append(append([]string(nil), base[:5]...), "Agent tools"), base[5:]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := targetOn(t, "vllm")
			c.Target.Workload.Agent = tt.agent
			var titles []string
			for _, f := range Workload() {
				r, err := f(c)
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Panels) > 0 {
					titles = append(titles, r.Title)
				}
			}
			if d := cmp.Diff(tt.want, titles); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
		})
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
