package panels

import (
	"fmt"
	"strings"

	"github.com/aiobs/aiobs/compile/plan"
)

// hostLabels are both spellings of dcgm-exporter's host label: Hostname in
// every release up to 4.5.x, hostname on main since d5e5f51. Grouping by
// both keeps whichever a series has (the other is empty), and legends
// print {{Hostname}}{{hostname}}, so either exporter fills them.
var hostLabels = []string{"Hostname", "hostname"}

const hostLegend = "{{Hostname}}{{hostname}}"

// gpuBy groups GPU series per physical GPU.
var gpuBy = append(append([]string(nil), hostLabels...), "gpu")

// HostVar is the fleet dashboard's host variable.
const HostVar = "host"

// envMatchers are the environment's static labels.
func envMatchers(env *plan.Environment) []plan.Matcher {
	var ms []plan.Matcher
	for _, l := range env.Labels {
		ms = append(ms, plan.Matcher{Name: l.Name, Op: "=", Value: l.Value})
	}
	return ms
}

func with(ms []plan.Matcher, extra ...plan.Matcher) []plan.Matcher {
	out := append(append([]plan.Matcher(nil), ms...), extra...)
	sortMatchers(out)
	return out
}

// anchor is a series every pod serving the workload reports, grouped by
// pod: the right-hand side of the GPU join. It is "" when the catalogue
// has no such series.
func (c *Context) anchor() string {
	s := c.anchorSeries()
	if s == nil {
		return ""
	}
	return "group by (pod) (" + c.sel(*s, anchorSuffix(*s)) + ")"
}

// gpuJoin selects a dcgm-exporter series for the GPUs of the pods that
// serve the workload. dcgm-exporter names the pod using a GPU in pod; a
// ServiceMonitor with honorLabels: false (the Helm chart's default)
// renames it exported_pod and puts the exporter's own pod in pod. So
// series with exported_pod get it copied into pod by label_replace, the
// others keep pod, and the union joins on pod with a series every serving
// pod reports.
func (c *Context) gpuJoin(metric, anchor string) string {
	env := envMatchers(c.Target.Env)
	renamed := metric + plan.FormatMatchers(with(env, plan.Matcher{Name: "exported_pod", Op: "!=", Value: ""}))
	plain := metric + plan.FormatMatchers(with(env, plan.Matcher{Name: "exported_pod", Op: "=", Value: ""}))
	return `(label_replace(` + renamed + `, "pod", "$1", "exported_pod", "(.+)") or ` + plain + `) * on (pod) group_left () ` + anchor
}

// throttleReasons are the clock-event reasons of DCGM's bitmask that
// slow a GPU down, with their bits (DCGM_CLOCKS_EVENT_REASON_*).
var throttleReasons = []struct {
	bit    int
	reason string
}{
	{4, "software power cap"},
	{8, "hardware slowdown"},
	{32, "software thermal"},
	{64, "hardware thermal"},
	{128, "power brake"},
}

// gpuPanels are the panels of one GPU view. g is the environment's GPU
// metric set (an empty name has no data there and is not queried), std
// the standard's, sel selects a DCGM series, and none is what a panel
// says when no GPU matches.
func gpuPanels(r *rowBuilder, g, std plan.GPUMetrics, measured bool, sel func(string) string, scope, none string) {
	by := strings.Join(gpuBy, ", ")
	per := func(agg, metric string) string { return agg + " by (" + by + ") (" + sel(metric) + ")" }
	if g.Util != "" {
		unit, top, scale := "percent", 100.0, " * 100"
		if g.UtilUnit == "percentunit" {
			unit, top, scale = "percentunit", 1.0, ""
		}
		qs := []query{{expr: per("avg", g.Util), legend: hostLegend + " GPU {{gpu}}"}}
		names := []string{g.Util}
		if g.SMActive != "" {
			qs = append(qs, query{expr: per("avg", g.SMActive) + scale, legend: hostLegend + " GPU {{gpu}} SM active"})
			names = append(names, g.SMActive)
		}
		r.add(graph(spec{
			title: "GPU utilisation",
			desc: describe("Share of time each GPU "+scope+" was busy, from "+seriesList(names...),
				"SM activity (the share of SMs with a warp resident) is the truer measure where the profiling fields have data"),
			unit: unit, queries: qs, min: ptr(0.0), max: ptr(top), noValue: none, w: 8,
		}))
	}
	if g.FBUsed != "" {
		qs := []query{{expr: per("max", g.FBUsed), legend: hostLegend + " GPU {{gpu}} used"}}
		names := []string{g.FBUsed}
		if g.FBFree != "" {
			qs = append(qs, query{expr: per("max", g.FBFree), legend: hostLegend + " GPU {{gpu}} free"})
			names = append(names, g.FBFree)
		}
		r.add(graph(spec{
			title: "GPU memory (framebuffer)",
			desc:  describe("Framebuffer memory used and free per GPU " + scope + ", in MiB, from " + seriesList(names...) + "; serving engines reserve most of it for the KV cache up front"),
			unit:  "mbytes", queries: qs, noValue: none, w: 8,
		}))
	}
	if g.Power != "" {
		r.add(graph(spec{
			title: "GPU power",
			desc:  describe("Board power draw per GPU " + scope + ", from " + seriesList(g.Power)),
			unit:  "watt", queries: []query{{expr: per("max", g.Power), legend: hostLegend + " GPU {{gpu}}"}}, noValue: none, w: 8,
		}))
	}
	if g.Temp != "" {
		qs := []query{{expr: per("max", g.Temp), legend: hostLegend + " GPU {{gpu}}"}}
		names := []string{g.Temp}
		if g.MemTemp != "" {
			qs = append(qs, query{expr: per("max", g.MemTemp), legend: hostLegend + " GPU {{gpu}} memory"})
			names = append(names, g.MemTemp)
		}
		r.add(graph(spec{
			title: "GPU and memory temperature",
			desc:  describe("GPU die and memory temperature per GPU " + scope + ", from " + seriesList(names...)),
			unit:  "celsius", queries: qs, noValue: none, w: 8,
		}))
	}
	if g.ClockEvents != "" {
		var qs []query
		for _, t := range throttleReasons {
			qs = append(qs, query{
				expr:   fmt.Sprintf("count(floor(%s / %d) %% 2 == 1) or vector(0)", sel(g.ClockEvents), t.bit),
				legend: t.reason,
			})
		}
		r.add(graph(spec{
			title: "GPUs throttled, by clock-event reason",
			desc: describe("Number of GPUs "+scope+" whose clocks are held back, per reason, decoded from the bits of the "+seriesList(g.ClockEvents)+" bitmask",
				"Idle, application-clock and display reasons are left out: they are not throttling"),
			unit: "short", queries: qs, w: 8,
		}))
	}
	if g.XID != "" {
		r.add(single(spec{
			title: "Last XID error",
			desc:  describe("The last XID error code each GPU " + scope + " reported, from " + seriesList(g.XID) + " (a code, not a count); no series means no XID since the exporter started"),
			unit:  "none", queries: []query{{expr: "max by (" + by + ", err_code) (" + sel(g.XID) + ")", legend: hostLegend + " GPU {{gpu}}"}},
			base: "red", noValue: "No XID reported", w: 8, h: graphHeight,
		}))
	}
	if g.ECCDBE != "" {
		r.add(single(spec{
			title: "ECC double-bit errors",
			desc:  describe("Uncorrectable (double-bit) ECC errors per GPU " + scope + " since the driver loaded, from " + seriesList(g.ECCDBE) + "; any is a reason to drain the node"),
			unit:  "short", queries: []query{{expr: per("max", g.ECCDBE), legend: hostLegend + " GPU {{gpu}}"}},
			steps: []step{{1, "red"}}, noValue: none, w: 8, h: graphHeight,
		}))
	}
	for _, n := range g.Notes {
		r.explain("GPU metric", n)
	}
	var dropped []string
	for _, m := range []struct{ std, env string }{
		{std.Util, g.Util}, {std.SMActive, g.SMActive}, {std.FBUsed, g.FBUsed}, {std.FBFree, g.FBFree},
		{std.Power, g.Power}, {std.Temp, g.Temp}, {std.MemTemp, g.MemTemp}, {std.XID, g.XID},
		{std.ECCDBE, g.ECCDBE}, {std.ClockEvents, g.ClockEvents},
	} {
		if m.std != "" && m.env == "" {
			dropped = append(dropped, m.std)
		}
	}
	if len(dropped) > 0 && !measured {
		r.explain("Not measured", seriesList(dropped...)+": no gpuprobe report describes this environment's GPUs, so only dcgm-exporter's default counters are queried; run aiobs gpuprobe on each kind of GPU node and give its report to the environment")
	}
}

// GPU is the infrastructure row at the bottom of the workload dashboard:
// the GPUs of the pods that serve the workload, joined through the pod
// label (see gpuJoin), as dcgm-exporter reports them.
func GPU(c *Context) (Row, error) {
	r := newRow(c, "GPU")
	if n := c.note("gpu"); n != "" {
		r.explain("GPU", n)
		return r.done()
	}
	a := c.anchor()
	if a == "" {
		r.explain("GPU", "the catalogue has no series every serving pod reports, so GPUs cannot be joined to the workload")
		return r.done()
	}
	env := c.Target.Env
	gpuPanels(r, env.GPU, c.Standard.GPU, len(env.GPUReports) > 0, func(m string) string { return c.gpuJoin(m, a) },
		"serving this workload (joined through the pod label, or exported_pod where the scrape renamed it)",
		"No GPU found under the workload's pods")
	return r.done()
}

// Fleet is the fleet GPU dashboard's content for one environment: every
// GPU dcgm-exporter reports there, by host, filtered by the $host
// variable whichever spelling of the host label the exporter uses.
func Fleet(env *plan.Environment, std *plan.Standard) ([]Row, error) {
	c := &Context{Target: &plan.Target{Env: env}, Standard: std}
	g := env.GPU
	sel := func(m string) string {
		ms := envMatchers(env)
		return "(" + m + plan.FormatMatchers(with(ms, plan.Matcher{Name: "Hostname", Op: "=~", Value: "$" + HostVar})) +
			" or " + m + plan.FormatMatchers(with(ms, plan.Matcher{Name: "hostname", Op: "=~", Value: "$" + HostVar})) + ")"
	}
	over := newRow(c, "Fleet overview")
	over.heading = "Not shown:"
	if g.Util != "" {
		over.add(single(spec{
			title: "GPUs reporting",
			desc:  describe("GPUs whose dcgm-exporter reports " + seriesList(g.Util) + " in this environment"),
			unit:  "short", queries: []query{{expr: "count(" + sel(g.Util) + ")", legend: "GPUs"}}, w: 6,
		}))
		unit, top := "percent", 100.0
		if g.UtilUnit == "percentunit" {
			unit, top = "percentunit", 1.0
		}
		over.add(single(spec{
			title: "Mean GPU utilisation",
			desc:  describe("Mean share of time the GPUs shown were busy, from " + seriesList(g.Util)),
			unit:  unit, queries: []query{{expr: "avg(" + sel(g.Util) + ")", legend: "mean"}},
			min: ptr(0.0), max: ptr(top), w: 6,
		}))
	}
	if g.Power != "" {
		over.add(single(spec{
			title: "Total GPU power",
			desc:  describe("Board power of every GPU shown, added up, from " + seriesList(g.Power)),
			unit:  "watt", queries: []query{{expr: "sum(" + sel(g.Power) + ")", legend: "total"}}, w: 6,
		}))
	}
	if g.XID != "" {
		over.add(single(spec{
			title: "GPUs with an XID error",
			desc:  describe("GPUs that reported an XID error since their exporter started, from " + seriesList(g.XID)),
			unit:  "short", queries: []query{{expr: "count(" + sel(g.XID) + " > 0) or vector(0)", legend: "GPUs"}},
			steps: []step{{1, "red"}}, w: 6,
		}))
	}
	overview, err := over.done()
	if err != nil {
		return nil, err
	}
	per := newRow(c, "Per GPU")
	per.heading = "Not shown:"
	gpuPanels(per, g, std.GPU, len(env.GPUReports) > 0, sel, "in the environment", "No GPU reported")
	detail, err := per.done()
	if err != nil {
		return nil, err
	}
	return []Row{overview, detail}, nil
}
