package panels

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/nodegraph"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/tempo"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/aiobs/aiobs/compile/plan"
)

// Series of Tempo's metrics-generator (span-metrics processor) the traces
// row reads. The generator names the span's service.name resource
// attribute service and its name span_name; latencies are in seconds.
const (
	SpanMetricsLatency = "traces_spanmetrics_latency"
	spanServiceLabel   = "service"
	spanNameLabel      = "span_name"
)

// SemanticSpans are the names of the spans an instrumented AI request
// pipeline emits for its stages, in the order a request passes them: the
// aiobs span convention the latency-per-span panel reads.
func SemanticSpans() []string {
	return []string{"vector_search", "prompt_build", "model_inference", "tool_execution", "output_filtering"}
}

// defaultSlowRequest is the duration above which a request counts as slow
// when the workload has no end-to-end latency SLO.
const defaultSlowRequest = "10s"

// exemplarSentence tells a latency panel's reader what its points are.
const exemplarSentence = "Points are exemplars: each is one traced request in the bucket, and clicking it opens the trace in Tempo"

// Traces is the traces row: the slowest recent requests as a list of
// traces, and the latency of each stage of the request pipeline from
// Tempo's span metrics, with exemplars that open a trace. An agent
// workload adds its service graph, its traces with tool calls and the
// rate of tool calls by tool from TraceQL metrics.
func Traces(c *Context) (Row, error) {
	r := newRow(c, "Traces")
	t := c.Target
	slow, why := slowRequest(t.Workload)
	r.add(traceTable(t,
		"Slowest requests",
		describe("The workload's most recent server spans slower than "+slow+" ("+why+"), as a TraceQL search in Tempo, sorted by duration",
			"Each row is a trace with the model, token usage and finish reasons of its matching span; the trace ID opens the whole trace, and its logs through the trace-to-logs link"),
		t.TraceQLSelector("span:kind = server", "span:duration > "+slow)+
			" | select(span.gen_ai.request.model, span.gen_ai.usage.input_tokens, span.gen_ai.usage.output_tokens, span.gen_ai.response.finish_reasons)",
		0, 12))
	r.add(graph(spec{
		title: "Latency per pipeline span",
		desc: describe("95th percentile duration of each stage of the request pipeline ("+strings.Join(SemanticSpans(), ", ")+") over the rate window, from the span metrics "+
			seriesList(SpanMetricsLatency+"_bucket")+" that Tempo's metrics-generator derives from the workload's spans (service = "+t.Workload.Name+")",
			exemplarSentence),
		unit: "s", queries: []query{{expr: spanLatency(t), legend: "{{" + spanNameLabel + "}}", exemplar: true}},
		noValue: "No span metrics: the Tempo metrics-generator's span-metrics processor is off, or the workload emits none of these spans",
		w:       12, h: 10,
	}))
	if !t.Workload.Agent {
		return r.done()
	}
	r.add(serviceGraph(t))
	tools := t.TraceQLSelector("span.gen_ai.operation.name = " + plan.Quote("execute_tool"))
	r.add(traceTable(t,
		"Tool calls per trace",
		describe("The workload's most recent traces with tool calls (spans with gen_ai.operation.name = execute_tool), as a TraceQL search in Tempo, each with its tool-call spans, the tool's name and the span status",
			"A trace with many calls to one tool shows an agent that loops; the trace ID opens the whole trace"),
		tools+" | select(span.gen_ai.tool.name, span:status)",
		20, 12))
	r.add(traceMetrics(t,
		"Tool-call rate by tool",
		describe("Tool calls per second by tool (gen_ai.tool.name), counted from the workload's execute_tool spans with TraceQL metrics in Tempo",
			"Unlike the tool-call counter of the Agent tools row, it needs no instrumentation beyond the OpenTelemetry GenAI spans"),
		tools+" | rate() by (span.gen_ai.tool.name)", "ops", 12))
	return r.done()
}

// slowRequest is the duration above which the slowest-requests panel
// lists a request, as a TraceQL duration, and where it comes from: the
// end-to-end latency SLO's threshold, or defaultSlowRequest.
func slowRequest(w *plan.Workload) (string, string) {
	if s := latencySLO(w, "e2e"); s != nil {
		if d, ok := traceQLDuration(s.Threshold); ok {
			return d, "the end-to-end latency SLO's threshold"
		}
	}
	return defaultSlowRequest, "the workload has no end-to-end latency SLO"
}

// traceQLDuration writes a Prometheus duration (500ms, 1h30m, 1d) as a
// TraceQL duration, which knows no days, weeks or years: whole seconds,
// else whole milliseconds. ok is false for an unreadable or zero duration.
func traceQLDuration(d string) (string, bool) {
	sec, ok := seconds(d)
	if !ok || sec <= 0 {
		return "", false
	}
	if sec == math.Trunc(sec) {
		return fmt.Sprintf("%ds", int64(sec)), true
	}
	return fmt.Sprintf("%dms", int64(math.Round(sec*1000))), true
}

// spanLatency is the p95 of each pipeline span of the target's workload
// from the span metrics' latency histogram.
func spanLatency(t *plan.Target) string {
	var names []string
	for _, n := range SemanticSpans() {
		names = append(names, regexp.QuoteMeta(n))
	}
	sel := SpanMetricsLatency + "_bucket" + plan.FormatMatchers([]plan.Matcher{
		{Name: spanServiceLabel, Op: "=", Value: t.Workload.Name},
		{Name: spanNameLabel, Op: "=~", Value: strings.Join(names, "|")},
	})
	return "histogram_quantile(0.95, " + sumBy(rate(sel), "le", spanNameLabel) + ")"
}

// tempoQuery is a TraceQL query of a panel, on the Tempo datasource
// variable.
func tempoQuery(t *plan.Target, traceQL string) *tempo.TempoQueryBuilder {
	return tempo.NewTempoQueryBuilder().
		Datasource(Datasource("tempo")).
		RefId(refID(0)).
		QueryType(string(tempo.TempoQueryTypeTraceql)).
		Query(traceQL).
		Filters(scopeFilters(t))
}

// scopeFilters are the workload's resource attributes as filters of
// Grafana's TraceQL search builder. The TraceQL in query is what runs;
// the filters are where the builder starts when a reader switches the
// query to it, so it stays on the workload. (They also keep the list
// non-empty: the SDK's strict reader cannot read back an empty one.)
func scopeFilters(t *plan.Target) []cog.Builder[tempo.TraceqlFilter] {
	filter := func(id, attribute, value string) cog.Builder[tempo.TraceqlFilter] {
		return tempo.NewTraceqlFilterBuilder().
			Id(id).
			Scope(tempo.TraceqlSearchScopeResource).
			Tag(attribute).
			Operator("=").
			Value([]string{value}).
			ValueType("string")
	}
	return []cog.Builder[tempo.TraceqlFilter]{
		filter("service-namespace", plan.TeamResourceAttribute, t.Team.Name),
		filter("service-name", plan.WorkloadResourceAttribute, t.Workload.Name),
	}
}

// traceTable lists the traces a TraceQL search finds, slowest first; spss
// is the number of matching spans shown per trace (Tempo's default of 3
// when zero). Search results are a table: Grafana's traces visualization
// draws a single trace and cannot show a list.
func traceTable(t *plan.Target, title, desc, traceQL string, spss int64, w uint32) (Panel, error) {
	q := tempoQuery(t, traceQL).Limit(20).TableType(tempo.SearchTableTypeTraces)
	if spss > 0 {
		q.Spss(spss)
	}
	b := table.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(Datasource("tempo")).
		WithTarget(q).
		// Tempo gives its duration column its own unit (ms); the default
		// unit serves the selected attributes, which are counts.
		Unit("short").
		ShowHeader(true).
		CellHeight(common.TableCellHeightSm).
		// The SDK's default footer has a null reducer, which Grafana's
		// schema refuses.
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Duration").Desc(true),
		}).
		NoValue("No matching traces")
	return build(b, w, 10)
}

// traceMetrics is a time series of a TraceQL metrics query.
func traceMetrics(t *plan.Target, title, desc, traceQL, unit string, w uint32) (Panel, error) {
	q := tempoQuery(t, traceQL).MetricsQueryType(tempo.MetricsQueryTypeRange)
	b := timeseries.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(Datasource("tempo")).
		Targets([]cog.Builder[variants.Dataquery]{q}).
		Unit(unit).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending)).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		NoValue("No tool-call spans, or TraceQL metrics are not enabled in Tempo")
	return build(b, w, 10)
}

// serviceGraph is the node graph of the services around the workload,
// from the service-graph series Tempo's metrics-generator writes: the
// edges into the workload (its callers) and out of it (the tools, models
// and stores it calls), so an agent's tool topology shows.
func serviceGraph(t *plan.Target) (Panel, error) {
	filters := []string{
		plan.FormatMatchers([]plan.Matcher{{Name: "server", Op: "=", Value: t.Workload.Name}}),
		plan.FormatMatchers([]plan.Matcher{{Name: "client", Op: "=", Value: t.Workload.Name}}),
	}
	q := tempo.NewTempoQueryBuilder().
		Datasource(Datasource("tempo")).
		RefId(refID(0)).
		QueryType(string(tempo.TempoQueryTypeServiceMap)).
		ServiceMapQuery(tempo.StringOrArrayOfString{ArrayOfString: filters}).
		Filters(scopeFilters(t))
	b := nodegraph.NewPanelBuilder().
		Title("Service graph").
		Description(describe("The services that call the workload and those it calls (tools, models, stores), with request rates and latencies, from the traces_service_graph_* series Tempo's metrics-generator derives from spans",
			"A service the workload calls in-process has no edge: only calls between instrumented services, or to peers named in span attributes, appear")).
		Datasource(Datasource("tempo")).
		WithTarget(q).
		// Tempo gives the node and edge statistics their units; the
		// default serves any other number.
		Unit("short").
		NoValue("No service-graph series: the Tempo metrics-generator's service-graphs processor is off")
	return build(b, 24, 10)
}
