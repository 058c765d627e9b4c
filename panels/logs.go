package panels

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/logs"
	"github.com/grafana/grafana-foundation-sdk/go/loki"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// AutoInterval is the range of every LogQL range aggregation in a panel:
// Grafana sizes it to the step, as grafana/dashboard-linter's
// target-logql-auto rule asks.
const AutoInterval = "$__auto"

// The line filters of the logs row, RE2 in back-quotes so that Loki reads
// the backslashes as they are. errorLines finds errors, exceptions and
// tracebacks in any logger's format; gpuFailureLines finds the CUDA, NCCL
// and driver lines that precede a GPU workload's failures (the standard's
// GPU log alerts watch the same text).
const (
	errorLines      = "(?i)\\b(?:error|exception|traceback|fatal)\\b"
	gpuFailureLines = "(?i)cuda out of memory|OutOfMemoryError|NCCL (?:WARN|ERROR)|NVRM: Xid|CUDA error:"
)

// traceLinkSentence tells a logs panel's reader how a line opens its trace.
const traceLinkSentence = "A line's trace_id (structured metadata of OTLP logs, or a trace id written in the line) links to its trace in Tempo through the Loki datasource's derived fields, which aiobs's datasource provisioning configures"

// Logs is the logs row: the workload's log volume by level, its error
// lines and, on GPUs the organisation runs, the CUDA, NCCL and driver
// failure lines. Every query reads the redacted stream only
// (plan.Target.RedactedStreamSelector); the raw stream belongs on a
// restricted dashboard, never here.
func Logs(c *Context) (Row, error) {
	r := newRow(c, "Logs")
	r.heading = "Not shown for this workload:"
	sel := c.Target.RedactedStreamSelector()
	r.add(logVolume("sum by (detected_level) (count_over_time(" + sel + " [" + AutoInterval + "]))"))
	// As for the standard's GPU log alerts (plan.LogAlert.AppliesTo), a
	// workload priced per token runs on its provider's GPUs and has no
	// such lines.
	gpu := c.Target.Workload.Cost.InputPerMTokUSD == ""
	w := uint32(24)
	if gpu {
		w = 12
	}
	r.add(logLines("Error lines",
		describe("Lines of the workload's redacted stream that mention an error, exception, traceback or fatal condition, newest first", traceLinkSentence),
		sel+" |~ `"+errorLines+"`", w))
	if gpu {
		r.add(logLines("GPU failure lines",
			describe("Lines of the workload's redacted stream that announce a GPU failure: CUDA out-of-memory errors, NCCL warnings and errors, NVIDIA driver Xid events and CUDA runtime errors", traceLinkSentence),
			sel+" |~ `"+gpuFailureLines+"`", 12))
	} else {
		r.explain("GPU failure lines", "the workload is priced per token and runs on its provider's GPUs, so its logs hold no CUDA, NCCL or driver lines")
	}
	return r.done()
}

// lokiQuery is a Loki query of a panel, on the Loki datasource variable.
func lokiQuery(expr, legend string, queryType loki.LokiQueryType) cog.Builder[variants.Dataquery] {
	b := loki.NewDataqueryBuilder().
		Datasource(Datasource("loki")).
		RefId(refID(0)).
		Expr(expr).
		QueryType(string(queryType)).
		EditorMode(loki.QueryEditorModeCode)
	if legend != "" {
		b.LegendFormat(legend)
	}
	return b
}

// logVolume is the stacked count of the stream's lines by the level Loki
// detects in each line.
func logVolume(expr string) (Panel, error) {
	b := timeseries.NewPanelBuilder().
		Title("Log volume by level").
		Description(describe("Lines the workload logged per interval in its redacted stream, by the level Loki detects in each line (detected_level), stacked",
			"A rise in error or warn lines is often the first sign of trouble; the Error lines panel below shows them")).
		Datasource(Datasource("loki")).
		WithTarget(lokiQuery(expr, "{{detected_level}}", loki.LokiQueryTypeRange)).
		Unit("short").
		AxisLabel("lines").
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending)).
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		NoValue("No log lines in the redacted stream")
	return build(b, 24, graphHeight)
}

// logLines is a logs panel of the lines a query selects, newest first,
// with the details view where derived fields show the trace link.
func logLines(title, desc, expr string, w uint32) (Panel, error) {
	b := logs.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(Datasource("loki")).
		WithTarget(lokiQuery(expr, "", loki.LokiQueryTypeRange)).
		// A logs panel shows no numbers; the unit keeps the rule that
		// every panel names one.
		Unit("short").
		ShowTime(true).
		ShowLabels(false).
		ShowCommonLabels(false).
		WrapLogMessage(true).
		PrettifyLogMessage(false).
		EnableLogDetails(true).
		DedupStrategy(common.LogsDedupStrategyNone).
		SortOrder(common.LogsSortOrderDescending).
		NoValue("No matching lines")
	return build(b, w, 10)
}
