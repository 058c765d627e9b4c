package smoke

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aiobs/aiobs/compile/plan"
)

// Scrape jobs of the generated configuration. Serving pods and the first
// kind of GPU node are scraped with honor_labels: false, as a PodMonitor
// and the dcgm-exporter Helm chart's ServiceMonitor do, so target labels
// (namespace, pod, instance) win and dcgm-exporter's own pod label becomes
// exported_pod. The second kind of GPU node is scraped with
// honor_labels: true, so its series keep the serving pod in pod; the GPU
// panels must join both. The quality job stands for a Pushgateway, which
// is always scraped with honor_labels: true.
const (
	jobServing     = "serving"
	jobDCGMRenamed = "dcgm-renamed"
	jobDCGMHonored = "dcgm-honored"
	jobQuality     = "quality"
)

// exporter serves the synthetic /metrics of every scrape target: one per
// serving pod, one per GPU node, one Pushgateway per environment. What it
// serves comes from the plan only (see newExporter); it never reads a
// dashboard or a rule.
type exporter struct {
	now   func() time.Time
	start time.Time
	// endpoints are sorted by path.
	endpoints []*endpoint
}

// endpoint is one scrape target: its URL path, the scrape job and the
// target labels the scrape attaches (what Kubernetes service discovery
// and relabelling would give it), and the metric families it exposes.
type endpoint struct {
	path     string
	job      string
	labels   map[string]string
	families []*family
}

type family struct {
	name, typ string
	// bounds are a histogram's upper bounds as text, ascending.
	bounds []string
	series []*series
}

// series is one label set of a family with how its value grows: a gauge
// holds level; counters, histograms and summaries grow by rate per second.
type series struct {
	labels []plan.Label // sorted by name
	level  float64
	rate   float64
	// age, when positive, makes a gauge a unix time that many seconds
	// before the scrape.
	age float64
}

// newExporter builds the exporters of every target of the plan.
//
// Serving pods expose each series of their backend's catalogue once,
// whatever the number of stages reading it, with the model label carrying
// the workload's model, the label values the stages' matchers select (and
// realistic other values where a stage selects "any value"; see
// labelValues), and two values of the first label the catalogue says to
// sum away, as a server with two engines or ranks has. Environment static labels and workload selector
// labels are target labels, as relabelling would attach them; the pod,
// namespace (the team; an assumption, the plan names no namespace) and
// instance labels are what Kubernetes discovery gives a pod.
//
// A GPU-priced workload (gpuHourUSD with gpus > 0) gets a GPU node per
// environment exposing the environment's projected dcgm-exporter set
// (Environment.GPU; an empty name is not served) for its GPUs, shared out
// over its pods, plus one idle GPU no pod holds. Token-priced workloads
// run on no GPU.
//
// The quality contract's pushed series (eval scores, baselines, last run,
// drift scores and thresholds, agent tool calls) are served per target by
// one Pushgateway per environment, with the contract's team, workload and
// model labels and the extra labels standards/contract.cue documents.
// Log-derived contract series (guardrail triggers, retries) are recorded
// by the Loki ruler, which a smoke run does not have, so nothing serves
// them.
//
// Tempo's metrics-generator is one endpoint per environment serving the
// span metrics of every target's pipeline spans (see spanEndpoint). It
// remote-writes its series with their own labels in production; the
// quality job's honor_labels: true keeps them the same way here.
func newExporter(p *plan.Plan, now func() time.Time) (*exporter, error) {
	e := &exporter{now: now, start: now()}
	var errs []error
	for ei, env := range p.Environments {
		var gpuTargets []*plan.Target
		for ti, t := range p.TargetsIn(env.Name) {
			if t.Backend == nil {
				continue
			}
			for i := range podCount(t) {
				ep, err := servingEndpoint(t, i, fmt.Sprintf("10.%d.%d.%d:8000", ei, ti, i+10))
				if err != nil {
					errs = append(errs, err)
					continue
				}
				e.endpoints = append(e.endpoints, ep)
			}
			if gpus(t) > 0 {
				gpuTargets = append(gpuTargets, t)
			}
		}
		for ni, t := range gpuTargets {
			e.endpoints = append(e.endpoints, gpuEndpoint(env, t, p.Standard.GPU.HostLabel, ni, fmt.Sprintf("10.%d.200.%d:9400", ei, ni)))
		}
		if ep := qualityEndpoint(p, env); ep != nil {
			e.endpoints = append(e.endpoints, ep)
		}
		if ep := spanEndpoint(p, env); ep != nil {
			e.endpoints = append(e.endpoints, ep)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(e.endpoints, func(a, b *endpoint) int { return cmp.Compare(a.path, b.path) })
	return e, nil
}

// gpus is the number of GPUs a target runs on: cost.gpus of a GPU-priced
// workload, none for a token-priced one (whose plan still says one GPU).
func gpus(t *plan.Target) int {
	if t.Workload.Cost.GPUHourUSD == "" {
		return 0
	}
	return t.Workload.Cost.GPUs
}

// podCount is the number of pods serving a target: two, or one when it
// has a single GPU.
func podCount(t *plan.Target) int {
	if gpus(t) == 1 {
		return 1
	}
	return 2
}

// podName is the name of the i-th pod serving a workload. It does not
// name the environment: the same deployment has the same pod names in
// every cluster, so a join that forgets the environment's labels mixes
// them up, as it would in production.
func podName(t *plan.Target, i int) string {
	return fmt.Sprintf("%s-%s-%d", t.Workload.Name, shortHash(t.Team.Name+"/"+t.Workload.Name), i)
}

func shortHash(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("%08x", h.Sum32())[:7]
}

// servingEndpoint is the i-th pod of a target.
func servingEndpoint(t *plan.Target, i int, instance string) (*endpoint, error) {
	ep := &endpoint{
		path: fmt.Sprintf("/serving/%s/%s/%s/%d", t.Env.Name, t.Team.Name, t.Workload.Name, i),
		job:  jobServing,
		labels: map[string]string{
			"namespace": t.Team.Name,
			"pod":       podName(t, i),
			"container": t.Backend.Name,
			"instance":  instance,
		},
	}
	for _, l := range t.Env.Labels {
		ep.labels[l.Name] = l.Value
	}
	for _, l := range t.Workload.Selector {
		ep.labels[l.Name] = l.Value
	}
	// A series may measure several stages (vLLM's request_success_total
	// counts requests, errors and outcomes): expose it once, with every
	// label value any of its stages selects.
	byName := map[string][]string{}
	for stage, s := range t.Backend.Stages {
		byName[s.Name] = append(byName[s.Name], stage)
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		stages := byName[name]
		slices.Sort(stages)
		f, err := servingFamily(t, name, stages, 1+0.5*float64(i))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s/%s/%s: %w", t.Env.Name, t.Team.Name, t.Workload.Name, err))
			continue
		}
		ep.families = append(ep.families, f)
	}
	return ep, errors.Join(errs...)
}

// servingFamily builds one catalogue series of a pod from the stages that
// read it; scale tells the pods apart.
func servingFamily(t *plan.Target, name string, stages []string, scale float64) (*family, error) {
	first := t.Backend.Stages[stages[0]]
	f := &family{name: name, typ: first.Type}
	unit := first.Unit
	var matchers []plan.Matcher
	var sumBy []string
	for _, st := range stages {
		s := t.Backend.Stages[st]
		if s.Type != f.typ {
			return nil, fmt.Errorf("series %s is a %s for stage %s but a %s for stage %s", name, f.typ, stages[0], s.Type, st)
		}
		if len(f.bounds) == 0 {
			f.bounds = s.Buckets
		}
		matchers = append(matchers, s.Matchers...)
		for _, l := range s.SumBy {
			if !slices.Contains(sumBy, l) {
				sumBy = append(sumBy, l)
			}
		}
	}
	if (f.typ == "histogram") && len(f.bounds) == 0 {
		f.bounds = defaultBounds(unit)
	}
	dims := [][]plan.Label{}
	if ml := t.Backend.ModelLabel; ml != "" {
		dims = append(dims, []plan.Label{{Name: ml, Value: t.Workload.Model}})
	}
	var names []string
	for _, m := range matchers {
		if !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		vals, err := labelValues(n, matchers)
		if err != nil {
			return nil, fmt.Errorf("series %s: %w", name, err)
		}
		var d []plan.Label
		for _, v := range vals {
			d = append(d, plan.Label{Name: n, Value: v})
		}
		dims = append(dims, d)
	}
	for i, l := range sumBy {
		vals := sumByValues(l)
		if i > 0 {
			// Two values of the first label show that the query sums
			// ranks away; more would only multiply the series.
			vals = vals[:1]
		}
		var d []plan.Label
		for _, v := range vals {
			d = append(d, plan.Label{Name: l, Value: v})
		}
		dims = append(dims, d)
	}
	// A counter of failures only (the errors stage, and the outcomes
	// stage reading the same series) grows slowly: the synthetic traffic
	// is healthy, well within every SLO.
	failures := slices.Contains(stages, "errors") && !slices.ContainsFunc(stages, func(st string) bool { return st != "errors" && st != "outcomes" })
	for _, ls := range product(dims) {
		rate := 2.0
		if failures || failed(ls) {
			rate = 0.001
		}
		f.series = append(f.series, &series{
			labels: ls,
			level:  gaugeLevel(t.Backend, stages, ls, unit) * scale,
			rate:   rate * scale,
		})
	}
	// Every stage must find its part of the series, or the exporter
	// itself is wrong and the smoke run would blame a dashboard.
	for _, st := range stages {
		s := t.Backend.Stages[st]
		if !slices.ContainsFunc(f.series, func(se *series) bool { return matchesAll(se.labels, s.Matchers) }) {
			return nil, fmt.Errorf("series %s: no label set matches stage %s's matchers %v", name, st, s.Matchers)
		}
	}
	return f, nil
}

// knownValues are realistic values of labels the catalogue selects "any
// value" of (label!=""), from the backends' documentation
// (shared/reference/backends.md). The plan only says such a label is
// present, not what it holds; an unknown label gets "other".
var knownValues = map[string][]string{
	"finished_reason": {"stop", "length", "abort", "error"},
	"reason":          {"REJECTED", "BACKEND"},
	"status_code":     {"200", "429", "500"},
	"err":             {"timeout"},
	"error_type":      {"timeout"},
}

// labelValues are the values a label of a series takes so that every
// matcher on it selects something: exact values as given, known values
// for "any value" and negative matchers, and a known value matching a
// regular expression.
func labelValues(name string, ms []plan.Matcher) ([]string, error) {
	var out []string
	add := func(vs ...string) {
		for _, v := range vs {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	known := knownValues[name]
	if len(known) == 0 {
		known = []string{"other"}
	}
	for _, m := range ms {
		if m.Name != name {
			continue
		}
		switch m.Op {
		case "=":
			if m.Value != "" {
				add(m.Value)
			}
		case "!=":
			for _, v := range known {
				if v != m.Value {
					add(v)
				}
			}
		case "=~", "!~":
			re, err := regexp.Compile("^(?:" + m.Value + ")$")
			if err != nil {
				return nil, fmt.Errorf("matcher %s%s%q: %w", m.Name, m.Op, m.Value, err)
			}
			n := len(out)
			for _, v := range known {
				if re.MatchString(v) == (m.Op == "=~") {
					add(v)
				}
			}
			if len(out) == n {
				return nil, fmt.Errorf("no known value of %s satisfies %s%s%q; add one to knownValues", name, m.Name, m.Op, m.Value)
			}
		default:
			return nil, fmt.Errorf("unknown matcher operator %q on %s", m.Op, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// sumByValues are two values of a label the catalogue sums away (ranks,
// engines, streaming flags, versions).
func sumByValues(label string) []string {
	switch label {
	case "is_streaming":
		return []string{"false", "true"}
	case "engine_type":
		return []string{"unified", "prefill"}
	case "cache_source":
		return []string{"device", "host"}
	case "gpu_uuid":
		return []string{"GPU-0b8f2c51-5a4f-4d7e-9c1e-2f6a7b8c9d01", "GPU-0b8f2c51-5a4f-4d7e-9c1e-2f6a7b8c9d02"}
	case "version":
		return []string{"1", "2"}
	}
	return []string{"0", "1"}
}

// product is every combination of one label from each dimension, each
// sorted by name.
func product(dims [][]plan.Label) [][]plan.Label {
	out := [][]plan.Label{nil}
	for _, d := range dims {
		var next [][]plan.Label
		for _, prefix := range out {
			for _, l := range d {
				ls := append(append([]plan.Label(nil), prefix...), l)
				next = append(next, ls)
			}
		}
		out = next
	}
	for _, ls := range out {
		slices.SortFunc(ls, func(a, b plan.Label) int { return cmp.Compare(a.Name, b.Name) })
	}
	return out
}

func matchesAll(ls []plan.Label, ms []plan.Matcher) bool {
	for _, m := range ms {
		v := ""
		for _, l := range ls {
			if l.Name == m.Name {
				v = l.Value
			}
		}
		var ok bool
		switch m.Op {
		case "=":
			ok = v == m.Value
		case "!=":
			ok = v != m.Value
		case "=~", "!~":
			re, err := regexp.Compile("^(?:" + m.Value + ")$")
			ok = err == nil && re.MatchString(v) == (m.Op == "=~")
		}
		if !ok {
			return false
		}
	}
	return true
}

// failed reports whether a label set counts failed requests, by the
// values knownValues lists.
func failed(ls []plan.Label) bool {
	for _, l := range ls {
		switch l.Value {
		case "error", "abort", "REJECTED", "BACKEND", "500", "429", "timeout":
			return true
		}
	}
	return false
}

// gaugeLevel is a plausible level of a gauge in its unit: a short queue
// behind many running requests, a cache less than half full.
func gaugeLevel(b *plan.Backend, stages []string, ls []plan.Label, unit string) float64 {
	for _, st := range stages {
		if !matchesAll(ls, b.Stages[st].Matchers) {
			continue
		}
		switch st {
		case "queueDepth":
			return 1
		case "running":
			return 8
		}
	}
	switch unit {
	case "percentunit":
		return 0.42
	case "percent":
		return 42
	}
	return 3
}

// defaultBounds are a histogram's bounds where the catalogue lists none
// (it records the backend's bounds only where a latency SLO needs them).
func defaultBounds(unit string) []string {
	switch unit {
	case "s":
		return []string{"0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"}
	case "ms":
		return []string{"50", "100", "250", "500", "1000", "2500", "5000"}
	case "µs":
		return []string{"50000", "100000", "250000", "500000", "1000000"}
	}
	return []string{"16", "64", "256", "1024", "4096"}
}

// share is the fraction of a histogram's observations at or below its
// j-th of n bounds: half in the first bucket, half of the rest in the
// next, and so on, none above the last bound. Latencies are then well
// under any SLO threshold that sits on a bucket boundary past the first
// few.
func share(j, n int) float64 {
	if j >= n-1 {
		return 1
	}
	return 1 - math.Pow(0.5, float64(j+1))
}

// histogramMean is the mean observation of share's distribution, taking
// each bucket's observations at its upper bound.
func histogramMean(bounds []string) float64 {
	var mean, prev float64
	for j, b := range bounds {
		v, err := strconv.ParseFloat(b, 64)
		if err != nil {
			continue
		}
		s := share(j, len(bounds))
		mean += (s - prev) * v
		prev = s
	}
	return mean
}

// gpuEndpoint is the dcgm-exporter of one GPU node holding a target's
// GPUs, one pod per GPU in turn, and one idle GPU. Node n is scraped with
// honor_labels false when n is even (the Helm chart's default), true when
// odd.
func gpuEndpoint(env *plan.Environment, t *plan.Target, hostLabel string, n int, instance string) *endpoint {
	node := fmt.Sprintf("gpu-node-%d", n)
	job := jobDCGMRenamed
	if n%2 == 1 {
		job = jobDCGMHonored
	}
	ep := &endpoint{
		path: fmt.Sprintf("/dcgm/%s/%s", env.Name, node),
		job:  job,
		labels: map[string]string{
			"namespace": "gpu-operator",
			"pod":       "nvidia-dcgm-exporter-" + shortHash(env.Name+node),
			"container": "nvidia-dcgm-exporter",
			"instance":  instance,
		},
	}
	for _, l := range env.Labels {
		ep.labels[l.Name] = l.Value
	}
	if hostLabel == "" {
		hostLabel = "Hostname"
	}
	pods, n := podCount(t), gpus(t)
	g := env.GPU
	metrics := []struct {
		name  string
		level float64
		xid   bool
	}{
		{g.Util, 55, false}, {g.FBUsed, 61234, false}, {g.FBFree, 20683, false}, {g.Power, 312.5, false},
		{g.Temp, 61, false}, {g.MemTemp, 70, false}, {g.SMActive, 0.48, false}, {g.XID, 0, true},
		{g.ECCDBE, 0, false}, {g.ClockEvents, 0, false},
	}
	if g.UtilUnit == "percentunit" {
		metrics[0].level = 0.55
	}
	for _, m := range metrics {
		if m.name == "" {
			continue
		}
		f := &family{name: m.name, typ: "gauge"}
		for gpu := 0; gpu <= n; gpu++ {
			ls := []plan.Label{
				{Name: hostLabel, Value: node},
				{Name: "DCGM_FI_DRIVER_VERSION", Value: "570.124.06"},
				{Name: "UUID", Value: fmt.Sprintf("GPU-%s-%04d", shortHash(env.Name+node), gpu)},
				{Name: "device", Value: fmt.Sprintf("nvidia%d", gpu)},
				{Name: "gpu", Value: strconv.Itoa(gpu)},
				{Name: "modelName", Value: "NVIDIA H100 80GB HBM3"},
				{Name: "pci_bus_id", Value: fmt.Sprintf("00000000:%02X:00.0", 0x18+gpu)},
			}
			if m.xid {
				// dcgm-exporter adds the code and text of the last XID.
				ls = append(ls, plan.Label{Name: "err_code", Value: "0"}, plan.Label{Name: "err_msg", Value: "No Error"})
			}
			if gpu < n {
				// dcgm-exporter's --kubernetes mode names the pod that
				// holds the GPU; the last GPU is idle.
				ls = append(ls,
					plan.Label{Name: "pod", Value: podName(t, gpu%pods)},
					plan.Label{Name: "namespace", Value: t.Team.Name},
					plan.Label{Name: "container", Value: t.Backend.Name})
			}
			slices.SortFunc(ls, func(a, b plan.Label) int { return cmp.Compare(a.Name, b.Name) })
			f.series = append(f.series, &series{labels: ls, level: m.level})
		}
		ep.families = append(ep.families, f)
	}
	return ep
}

// qualityEndpoint is an environment's Pushgateway with the contract
// series of its targets, or nil when the contract names none.
func qualityEndpoint(p *plan.Plan, env *plan.Environment) *endpoint {
	k := p.Standard.Contract
	ep := &endpoint{
		path: "/pushgateway/" + env.Name,
		job:  jobQuality,
		labels: map[string]string{
			"namespace": "monitoring",
			"pod":       "pushgateway-0",
			"container": "pushgateway",
			"instance":  "pushgateway." + env.Name + ":9091",
		},
	}
	for _, l := range env.Labels {
		ep.labels[l.Name] = l.Value
	}
	fams := map[string]*family{}
	add := func(name, typ string, ls []plan.Label, level, rate, age float64) {
		if name == "" {
			return
		}
		f := fams[name]
		if f == nil {
			f = &family{name: name, typ: typ}
			fams[name] = f
		}
		ls = append([]plan.Label(nil), ls...)
		slices.SortFunc(ls, func(a, b plan.Label) int { return cmp.Compare(a.Name, b.Name) })
		f.series = append(f.series, &series{labels: ls, level: level, rate: rate, age: age})
	}
	for _, t := range p.TargetsIn(env.Name) {
		base := []plan.Label{
			{Name: k.TeamLabel, Value: t.Team.Name},
			{Name: k.WorkloadLabel, Value: t.Workload.Name},
		}
		if k.ModelLabel != "" {
			base = append(base, plan.Label{Name: k.ModelLabel, Value: t.Workload.Model})
		}
		with := func(job string, extra ...plan.Label) []plan.Label {
			ls := append(append([]plan.Label{{Name: "job", Value: job}}, base...), extra...)
			return ls
		}
		// The labels below are the ones standards/contract.cue documents
		// for each series; the values are examples.
		for _, suite := range []struct{ suite, metric string }{{"faq", "exact_match"}, {"safety", "refusal_rate"}} {
			ls := with("aiobs-eval", plan.Label{Name: "suite", Value: suite.suite}, plan.Label{Name: "metric", Value: suite.metric})
			add(k.EvalScore, "gauge", ls, 0.87, 0, 0)
			add(k.EvalBaseline, "gauge", ls, 0.85, 0, 0)
		}
		for _, suite := range []string{"faq", "safety"} {
			// A unix time: the suite last ran ten minutes ago.
			add(k.EvalLastRun, "gauge", with("aiobs-eval", plan.Label{Name: "suite", Value: suite}), 0, 0, 600)
		}
		ls := with("aiobs-drift",
			plan.Label{Name: "signal", Value: "output_length"},
			plan.Label{Name: "method", Value: "psi"},
			plan.Label{Name: "reference_window", Value: "7d"})
		add(k.DriftScore, "gauge", ls, 0.12, 0, 0)
		add(k.DriftThreshold, "gauge", ls, 0.2, 0, 0)
		if t.Workload.Agent {
			// Where the agent exports its tool calls does not matter to
			// the dashboards, which select them by team and workload only.
			for _, c := range []struct{ tool, status string }{{"search", "ok"}, {"search", "error"}, {"calculator", "ok"}} {
				ls := with("aiobs-agent", plan.Label{Name: "tool", Value: c.tool}, plan.Label{Name: "status", Value: c.status})
				rate := 3.0
				if c.status == "error" {
					rate = 0.01
				}
				add(k.ToolCalls, "counter", ls, 0, rate, 0)
			}
		}
	}
	if len(fams) == 0 {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(fams)) {
		ep.families = append(ep.families, fams[name])
	}
	return ep
}

// semanticSpans are the pipeline spans of the aiobs span convention, which
// the workload dashboard's traces row reads from Tempo's span metrics
// (panels.SemanticSpans; exporter_test checks that the two agree).
var semanticSpans = []string{"vector_search", "prompt_build", "model_inference", "tool_execution", "output_filtering"}

// spanMetricsBounds are the default latency buckets, in seconds, of
// Tempo's span-metrics processor.
var spanMetricsBounds = []string{"0.002", "0.004", "0.008", "0.016", "0.032", "0.064", "0.128", "0.256", "0.512", "1.024", "2.048", "4.096", "8.192", "16.384"}

// spanEndpoint is an environment's Tempo metrics-generator: for every
// target, the span metrics of each pipeline span, labelled as the
// span-metrics processor labels them (service is the span's service.name,
// which the span convention sets to the workload's name; span_name,
// span_kind, status_code), with the environment's static labels as
// external labels. It is nil for an environment without targets.
func spanEndpoint(p *plan.Plan, env *plan.Environment) *endpoint {
	targets := p.TargetsIn(env.Name)
	if len(targets) == 0 {
		return nil
	}
	ep := &endpoint{
		path: "/tempo/" + env.Name,
		job:  jobQuality,
		labels: map[string]string{
			"namespace": "tracing",
			"pod":       "tempo-metrics-generator-0",
			"container": "metrics-generator",
			"instance":  "tempo-metrics-generator." + env.Name + ":3200",
		},
	}
	for _, l := range env.Labels {
		ep.labels[l.Name] = l.Value
	}
	latency := &family{name: "traces_spanmetrics_latency", typ: "histogram", bounds: spanMetricsBounds}
	calls := &family{name: "traces_spanmetrics_calls_total", typ: "counter"}
	for _, t := range targets {
		for _, span := range semanticSpans {
			ls := []plan.Label{
				{Name: "service", Value: t.Workload.Name},
				{Name: "span_kind", Value: "SPAN_KIND_INTERNAL"},
				{Name: "span_name", Value: span},
				{Name: "status_code", Value: "STATUS_CODE_UNSET"},
			}
			latency.series = append(latency.series, &series{labels: ls, rate: 2})
			calls.series = append(calls.series, &series{labels: ls, rate: 2})
		}
	}
	ep.families = []*family{calls, latency}
	return ep
}

// targets are the scrape targets, in path order.
func (e *exporter) targets() []*endpoint { return e.endpoints }

// ServeHTTP writes one endpoint's families in the text exposition format.
// Counters grow with the time since the exporter started, so that rate()
// and increase() see traffic on every scrape.
func (e *exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, ok := slices.BinarySearchFunc(e.endpoints, r.URL.Path, func(ep *endpoint, p string) int { return cmp.Compare(ep.path, p) })
	if !ok {
		http.NotFound(w, r)
		return
	}
	now := e.now()
	// A minute of history at start keeps first scrapes from being zero.
	elapsed := now.Sub(e.start).Seconds() + 60
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b strings.Builder
	for _, f := range e.endpoints[i].families {
		writeFamily(&b, f, elapsed, now)
	}
	_, _ = w.Write([]byte(b.String()))
}

func writeFamily(b *strings.Builder, f *family, elapsed float64, now time.Time) {
	fmt.Fprintf(b, "# HELP %s Synthetic series of the aiobs smoke test.\n# TYPE %s %s\n", f.name, f.name, f.typ)
	for _, s := range f.series {
		switch f.typ {
		case "counter":
			sample(b, f.name, s.labels, "", "", s.rate*elapsed)
		case "histogram":
			count := s.rate * elapsed
			for j, le := range f.bounds {
				sample(b, f.name+"_bucket", s.labels, "le", le, count*share(j, len(f.bounds)))
			}
			sample(b, f.name+"_bucket", s.labels, "le", "+Inf", count)
			sample(b, f.name+"_sum", s.labels, "", "", count*histogramMean(f.bounds))
			sample(b, f.name+"_count", s.labels, "", "", count)
		case "summary":
			count := s.rate * elapsed
			mean := histogramMean(defaultBounds(""))
			for _, q := range []string{"0.5", "0.9", "0.99"} {
				sample(b, f.name, s.labels, "quantile", q, mean)
			}
			sample(b, f.name+"_sum", s.labels, "", "", count*mean)
			sample(b, f.name+"_count", s.labels, "", "", count)
		default:
			v := s.level
			if s.age > 0 {
				v = float64(now.Unix()) - s.age
			}
			sample(b, f.name, s.labels, "", "", v)
		}
	}
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// sample writes one sample line; extra, when not empty, is one more label
// (le, quantile) after ls.
func sample(b *strings.Builder, name string, ls []plan.Label, extra, extraValue string, v float64) {
	b.WriteString(name)
	if len(ls) > 0 || extra != "" {
		b.WriteByte('{')
		for i, l := range ls {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l.Name)
			b.WriteString(`="`)
			b.WriteString(labelEscaper.Replace(l.Value))
			b.WriteByte('"')
		}
		if extra != "" {
			if len(ls) > 0 {
				b.WriteByte(',')
			}
			b.WriteString(extra + `="` + labelEscaper.Replace(extraValue) + `"`)
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	b.WriteByte('\n')
}

// server is the exporter listening on loopback.
type server struct {
	ln  net.Listener
	srv *http.Server
}

// listen serves the exporter on a free loopback port.
func (e *exporter) listen() (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s := &server{ln: ln, srv: &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *server) Addr() string { return s.ln.Addr().String() }

func (s *server) Close() { _ = s.srv.Close() }
