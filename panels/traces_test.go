package panels

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/aiobs/aiobs/compile/plan"
)

func TestOnlyAgentWorkloadsGetTheServiceGraphAndToolTraces(t *testing.T) {
	tests := []struct {
		name  string
		agent bool
		want  []string
	}{
		{"a serving workload gets its slow requests and span latencies", false,
			[]string{"table Slowest requests", "timeseries Latency per pipeline span"}},
		{"an agent workload adds its service graph and tool calls", true,
			[]string{"table Slowest requests", "timeseries Latency per pipeline span", "nodeGraph Service graph", "table Tool calls per trace", "timeseries Tool-call rate by tool"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := targetOn(t, "vllm")
			c.Target.Workload.Agent = tt.agent
			row, err := Traces(c)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range decodePanels(t, row) {
				got = append(got, p.Type+" "+p.Title)
				if p.Type != "nodeGraph" {
					continue
				}
				if len(p.Targets) != 1 || p.Targets[0].QueryType != "serviceMap" || p.Datasource.Type != "tempo" {
					t.Errorf("the service graph is not a Tempo service-map query: %+v", p.Targets)
					continue
				}
				var filters []string
				if err := json.Unmarshal(p.Targets[0].ServiceMapQuery, &filters); err != nil {
					t.Fatal(err)
				}
				w := c.Target.Workload.Name
				if d := cmp.Diff([]string{`{server="` + w + `"}`, `{client="` + w + `"}`}, filters); d != "" {
					t.Errorf("service-map filters (-want +got):\n%s", d)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("panels (-want +got):\n%s", d)
			}
		})
	}
}

func TestSlowRequestsStartAtTheEndToEndSLO(t *testing.T) {
	tests := []struct {
		name string
		slos []*plan.SLO
		want string
	}{
		{"an end-to-end SLO sets the bar", []*plan.SLO{{Kind: "latency", Stage: "e2e", Threshold: "20s"}}, "span:duration > 20s"},
		{"a sub-second SLO is written in milliseconds", []*plan.SLO{{Kind: "latency", Stage: "e2e", Threshold: "1s500ms"}}, "span:duration > 1500ms"},
		{"a day is written in seconds, which TraceQL reads", []*plan.SLO{{Kind: "latency", Stage: "e2e", Threshold: "1d"}}, "span:duration > 86400s"},
		{"a TTFT SLO does not bound the whole request", []*plan.SLO{{Kind: "latency", Stage: "ttft", Threshold: "500ms"}}, "span:duration > 10s"},
		{"without an SLO requests over 10s are slow", nil, "span:duration > 10s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := targetOn(t, "vllm")
			c.Target.Workload.SLOs = tt.slos
			row, err := Traces(c)
			if err != nil {
				t.Fatal(err)
			}
			q := decodePanels(t, row)[0].Targets[0].Query
			want := c.Target.TraceQLSelector("span:kind = server", tt.want) + " | select("
			if !strings.HasPrefix(q, want) {
				t.Errorf("slowest requests query\n%s\ndoes not start with\n%s", q, want)
			}
		})
	}
}

func TestSpanLatencyReadsTheWorkloadsPipelineSpans(t *testing.T) {
	c := targetOn(t, "vllm")
	q := spanLatency(c.Target)
	e, err := parser.NewParser(parser.Options{}).ParseExpr(strings.ReplaceAll(q, "$__rate_interval", "5m"))
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var got []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					got = append(got, m.Value)
					continue
				}
				got = append(got, m.String())
			}
		}
		return nil
	})
	want := []string{
		`service="` + c.Target.Workload.Name + `"`,
		`span_name=~"vector_search|prompt_build|model_inference|tool_execution|output_filtering"`,
		SpanMetricsLatency + "_bucket",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("selector of %s (-want +got):\n%s", q, d)
	}
}

// TestLatencyGraphsOpenTracesThroughExemplars checks that every time
// series of a latency histogram asks for exemplars, once per panel, and
// that no instant query does.
func TestLatencyGraphsOpenTracesThroughExemplars(t *testing.T) {
	c := targetOn(t, "vllm")
	var panels []builtPanel
	for _, f := range []RowFunc{Health, Latency, Traces} {
		row, err := f(c)
		if err != nil {
			t.Fatal(err)
		}
		panels = append(panels, decodePanels(t, row)...)
	}
	var withExemplars []string
	for _, p := range panels {
		n := 0
		for _, tg := range p.Targets {
			if !tg.Exemplar {
				continue
			}
			n++
			if tg.Instant || p.Type != "timeseries" || !strings.Contains(tg.Expr, "_bucket") {
				t.Errorf("%s %s asks for exemplars of %s; only time series of histograms show them", p.Type, p.Title, tg.Expr)
			}
		}
		if n > 1 {
			t.Errorf("%s draws its exemplars %d times", p.Title, n)
		}
		if n > 0 {
			withExemplars = append(withExemplars, p.Title)
		}
	}
	want := []string{"Time to first token", "End-to-end latency p95", "Queue time", "Prefill time", "Decode time", "End-to-end latency", "Inter-token latency", "Latency per pipeline span"}
	if d := cmp.Diff(want, withExemplars); d != "" {
		t.Errorf("panels with exemplars (-want +got):\n%s", d)
	}
}
