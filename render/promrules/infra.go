package promrules

import (
	"fmt"
	"slices"

	"github.com/aiobs/aiobs/compile/plan"
)

// Thresholds of the infrastructure and quality alerts. They are not
// decisions yet; each is the value the alert's description states.
const (
	// queueFloor ignores a handful of waiting requests, which continuous
	// batching produces in normal operation.
	queueFloor = "5"
	// kvCacheHigh is the KV-cache usage (0-1) above which preemptions
	// mean the cache is too small for the load.
	kvCacheHigh = "0.9"
	// evalDropFactor: a score below 95% of its baseline is a drop.
	evalDropFactor = "0.95"
	// guardrailRise and guardrailFloor: triggers per second over the last
	// hour above twice the previous day's rate, and above about 7 an hour.
	guardrailRise  = "2"
	guardrailFloor = "0.002"
)

// gpuSeries selects a dcgm-exporter series (through wrap, e.g. an
// increase) with the pod using each GPU in the pod label. dcgm-exporter
// (with --kubernetes) names that pod in pod, but a scrape with
// honor_labels: false (the exporter Helm chart's ServiceMonitor default)
// renames it exported_pod and puts the exporter's own pod in pod; those
// series get exported_pod copied back into pod. The panels do the same.
func gpuSeries(metric string, env []plan.Matcher, wrap func(string) string) string {
	renamed := metric + plan.FormatMatchers(sortedMatchers(append(slices.Clone(env), plan.Matcher{Name: "exported_pod", Op: "!=", Value: ""})))
	plain := metric + plan.FormatMatchers(sortedMatchers(append(slices.Clone(env), plan.Matcher{Name: "exported_pod", Op: "=", Value: ""})))
	return `(label_replace(` + wrap(renamed) + `, "pod", "$1", "exported_pod", "(.+)") or ` + wrap(plain) + `)`
}

// gpuJoin keeps the GPU series of the pods that serve the workload:
// without it a GPU fault anywhere in the cluster would page every team.
func gpuJoin(gpu, pods string) string {
	return gpu + " * on (pod) group_left () " + pods
}

func same(s string) string { return s }

// infraGroup renders the alerts on the serving stack itself. They page
// (where the environment pages) because each means users are or soon will
// be failed, whatever the SLOs say yet. An alert is only rendered when the
// backend's catalogue has the series it reads.
func infraGroup(std *plan.Standard, t *plan.Target) (ruleGroup, bool) {
	sev := "page"
	if !t.Env.Paging {
		sev = "notify"
	}
	be := t.Backend
	var rules []rule
	add := func(alert, expr, forDur, summary, desc string) {
		ls := map[string]string{LabelTeam: t.Team.Name, LabelWorkload: t.Workload.Name, LabelEnv: t.Env.Name,
			LabelSeverity: sev, LabelClass: ClassInfra}
		rules = append(rules, rule{Alert: alert, Expr: expr, For: forDur, Labels: ls, Annotations: map[string]string{
			"summary":       t.Team.Name + "/" + t.Workload.Name + " in " + t.Env.Name + ": " + summary,
			"description":   desc,
			"runbook_url":   runbookURL(std, alert),
			"dashboard_url": t.Env.DashboardURL(t.Workload.DashboardUID()),
		}})
	}
	stage := func(name string) (plan.Series, bool) {
		if be == nil {
			return plan.Series{}, false
		}
		s, ok := be.Stages[name]
		return s, ok
	}

	// The scrape targets: the environment's labels and the workload's
	// selector, without the model label (up has none).
	var tm []plan.Matcher
	for _, l := range t.Env.Labels {
		tm = append(tm, plan.Matcher{Name: l.Name, Op: "=", Value: l.Value})
	}
	for _, l := range t.Workload.Selector {
		tm = append(tm, plan.Matcher{Name: l.Name, Op: "=", Value: l.Value})
	}
	up := "up" + plan.FormatMatchers(sortedMatchers(tm))
	if len(t.Workload.Selector) > 0 {
		add("AIOBSServingTargetDown", "(sum("+up+") or vector(0)) == 0", "5m",
			"no serving target is up",
			// The selector stays out of the text: a label value may hold
			// {{, which the annotation's template would try to parse.
			"Every scrape target of "+t.Workload.Name+" in "+t.Env.Name+" has been down or missing for 5m: the workload serves nothing, or its metrics are gone and its SLOs are blind.")
	}

	if gpuBacked(t) && len(t.Workload.Selector) > 0 {
		var env []plan.Matcher
		for _, l := range t.Env.Labels {
			env = append(env, plan.Matcher{Name: l.Name, Op: "=", Value: l.Value})
		}
		pods := "group by (pod) (" + up + ")"
		g := gpuMetrics(std, t.Env)
		host := g.HostLabel
		by := "max by (" + host + ", gpu) "
		if g.Util != "" {
			add("AIOBSDCGMExporterMissing",
				"count("+up+" == 1) > 0\nunless on ()\ncount("+gpuJoin(gpuSeries(g.Util, env, same), pods)+")", "15m",
				"no GPU metrics for its pods",
				"The workload's targets are up but dcgm-exporter reports no "+g.Util+" for its pods (joined on pod, or exported_pod where the scrape renamed it) for 15m: the exporter is down or not running with --kubernetes, or the workload's targets carry no pod label. GPU fault alerts are blind until this is fixed.")
		}
		if g.XID != "" {
			add("AIOBSGPUXIDError", by+"("+gpuJoin(gpuSeries(g.XID, env, same), pods)+") > 0", "",
				"XID {{ $value }} on GPU {{ $labels.gpu }} of {{ $labels."+host+" }}",
				"dcgm-exporter reports XID {{ $value }} (the last XID error of the GPU) on a GPU serving "+t.Workload.Name+". Most XIDs mean a driver or hardware fault that needs the GPU drained and reset; look the code up in NVIDIA's XID catalogue.")
		}
		if g.ECCDBE != "" {
			inc := func(sel string) string { return "increase(" + sel + "[10m])" }
			add("AIOBSGPUDoubleBitECC", by+"("+gpuJoin(gpuSeries(g.ECCDBE, env, inc), pods)+") > 0", "",
				"uncorrectable ECC errors on GPU {{ $labels.gpu }} of {{ $labels."+host+" }}",
				"The GPU's volatile double-bit ECC counter ("+g.ECCDBE+") rose in the last 10m: memory corruption the GPU could not correct. Drain the node and reset the GPU.")
		}
		if g.ClockEvents != "" {
			// PromQL has no bitwise and: floor(x / bit) % 2 tests one bit.
			bits := func(sel string) string {
				return fmt.Sprintf("(floor(%[1]s / 8) %% 2 + floor(%[1]s / 32) %% 2 + floor(%[1]s / 64) %% 2 + floor(%[1]s / 128) %% 2)", sel)
			}
			add("AIOBSGPUThrottling", by+"("+gpuJoin(gpuSeries(g.ClockEvents, env, bits), pods)+") > 0", "15m",
				"GPU {{ $labels.gpu }} of {{ $labels."+host+" }} is thermally or power throttled",
				"For 15m the GPU's clock event reasons ("+g.ClockEvents+") have held a hardware slowdown, software or hardware thermal slowdown, or power-brake bit (0x8, 0x20, 0x40, 0x80): clocks are cut and latency rises. Check cooling and power.")
		}
	}

	q, okQ := stage("queueDepth")
	run, okR := stage("running")
	if okQ && okR {
		waiting := "sum(" + t.Selector(q, "") + ")"
		running := "sum(" + t.Selector(run, "") + ")"
		add("AIOBSQueueSaturated", waiting+" > "+running+"\nand\n"+waiting+" >= "+queueFloor, "10m",
			"more requests waiting than running for 10m",
			"For 10m more requests have waited in the queue than are running (and at least "+queueFloor+" waited): the workload is out of capacity. Add replicas or shed load.")
		add("AIOBSQueueBacklogGrowing", "deriv("+waiting+"[10m:1m]) > 0\nand\n"+waiting+" > "+running, "15m",
			"the request backlog keeps growing",
			"For 15m the queue has grown (positive 10m slope) while more requests wait than run: arrivals exceed capacity and latency will keep rising.")
	}
	kv, okK := stage("kvCache")
	pre, okP := stage("preemptions")
	if okK && okP {
		add("AIOBSKVCachePressure",
			"max("+t.Selector(kv, "")+") > "+kvCacheHigh+"\nand\nsum(rate("+t.Selector(pre, "")+"[5m])) > 0", "10m",
			"KV cache full and requests preempted",
			"For 10m an engine's KV cache has been over "+kvCacheHigh+" full while requests are being preempted: sequences are evicted and recomputed, which wastes GPU time and inflates latency. Lower max concurrency or add memory.")
	}
	if len(rules) == 0 {
		return ruleGroup{}, false
	}
	return ruleGroup{Name: InfraGroupName(t), Rules: rules}, true
}

// gpuMetrics is the environment's projection of the standard's GPU
// metrics (empty names have no data there and are never queried), or the
// standard's own set for a plan built without the projection.
func gpuMetrics(std *plan.Standard, env *plan.Environment) plan.GPUMetrics {
	if env.GPU.HostLabel != "" {
		return env.GPU
	}
	return std.GPU
}

// gpuBacked says whether the workload runs on GPUs aiobs can see: not a
// token-priced hosted API, and not a backend that notes it has no GPU.
func gpuBacked(t *plan.Target) bool {
	if t.Workload.Cost.InputPerMTokUSD != "" || t.Workload.Cost.OutputPerMTokUSD != "" {
		return false
	}
	if t.Backend != nil {
		if _, ok := t.Backend.Notes["gpu"]; ok {
			return false
		}
	}
	return true
}

// qualityGroup renders the ML-quality alerts. They always notify, even
// where the environment pages: a drifting model or a dropped eval score
// needs a person at work, not one woken up.
func qualityGroup(std *plan.Standard, t *plan.Target) (ruleGroup, bool) {
	c := std.Contract
	if c.TeamLabel == "" || c.WorkloadLabel == "" {
		return ruleGroup{}, false
	}
	ms := []plan.Matcher{
		{Name: c.TeamLabel, Op: "=", Value: t.Team.Name},
		{Name: c.WorkloadLabel, Op: "=", Value: t.Workload.Name},
	}
	for _, l := range t.Env.Labels {
		ms = append(ms, plan.Matcher{Name: l.Name, Op: "=", Value: l.Value})
	}
	sel := plan.FormatMatchers(sortedMatchers(ms))
	id := c.TeamLabel + ", " + c.WorkloadLabel
	if c.ModelLabel != "" {
		id += ", " + c.ModelLabel
	}
	var rules []rule
	add := func(alert, expr, forDur, summary, desc string) {
		ls := map[string]string{LabelTeam: t.Team.Name, LabelWorkload: t.Workload.Name, LabelEnv: t.Env.Name,
			LabelSeverity: "notify", LabelClass: ClassQuality}
		rules = append(rules, rule{Alert: alert, Expr: expr, For: forDur, Labels: ls, Annotations: map[string]string{
			"summary":       t.Team.Name + "/" + t.Workload.Name + " in " + t.Env.Name + ": " + summary,
			"description":   desc,
			"runbook_url":   runbookURL(std, alert),
			"dashboard_url": t.Env.DashboardURL(t.Workload.DashboardUID()),
		}})
	}
	if c.EvalScore != "" && c.EvalBaseline != "" {
		by := "max by (" + id + ", suite, metric) "
		add("AIOBSEvalScoreDrop",
			by+"("+c.EvalScore+sel+")\n< "+evalDropFactor+" * "+by+"("+c.EvalBaseline+sel+")", "15m",
			"eval {{ $labels.suite }}/{{ $labels.metric }} dropped below its baseline",
			"The latest "+c.EvalScore+" of suite {{ $labels.suite }}, metric {{ $labels.metric }}, is {{ $value }}: below "+evalDropFactor+" × its baseline ("+c.EvalBaseline+"). A model, prompt or retrieval change has cost quality.")
	}
	if c.DriftScore != "" && c.DriftThreshold != "" {
		by := "max by (" + id + ", signal, method, reference_window) "
		add("AIOBSDriftDetected",
			by+"("+c.DriftScore+sel+")\n> "+by+"("+c.DriftThreshold+sel+")", "30m",
			"{{ $labels.signal }} drifted ({{ $labels.method }})",
			"For 30m "+c.DriftScore+" of signal {{ $labels.signal }} ({{ $labels.method }} against {{ $labels.reference_window }}) has been {{ $value }}, above its threshold ("+c.DriftThreshold+"): production inputs or outputs no longer look like the reference.")
	}
	if c.GuardrailTriggers != "" {
		by := "sum by (" + c.TeamLabel + ", " + c.WorkloadLabel + ", guardrail) "
		now := by + "(avg_over_time(" + c.GuardrailTriggers + sel + "[1h]))"
		add("AIOBSGuardrailTriggersRising",
			now+"\n> "+guardrailRise+" * "+by+"(avg_over_time("+c.GuardrailTriggers+sel+"[1d] offset 1h))\nand\n"+now+" > "+guardrailFloor, "15m",
			"guardrail {{ $labels.guardrail }} triggers more often",
			"Guardrail {{ $labels.guardrail }} fired {{ $value }} times per second over the last hour: more than "+guardrailRise+"× its rate over the day before, and above "+guardrailFloor+"/s. Users or the model changed behaviour.")
	}
	if len(rules) == 0 {
		return ruleGroup{}, false
	}
	return ruleGroup{Name: QualityGroupName(t), Rules: rules}, true
}

func sortedMatchers(ms []plan.Matcher) []plan.Matcher {
	// Insertion sort by name keeps equal names in order, as plan does.
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Name < ms[j-1].Name; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	return ms
}
