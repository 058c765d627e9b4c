package compile

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cuelang.org/go/cue"
	"github.com/prometheus/common/model"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/environments"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

// number keeps a CUE number as the decision wrote it, so 99.9 is printed as
// 99.9 and never as 99.90000000000001.
type number string

// UnmarshalJSON receives the exact decimal CUE encodes.
func (n *number) UnmarshalJSON(b []byte) error {
	*n = number(b)
	return nil
}

func (n number) rat() *big.Rat {
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return new(big.Rat)
	}
	return r
}

// The decoded shape of #Decisions. Every field the schema has must be here:
// Decode silently ignores fields the Go type lacks (TestSchemaFieldsDecoded
// guards it).
type decisions struct {
	Environments map[string]envDecision     `json:"environments"`
	Teams        map[string]teamDecision    `json:"teams"`
	Backends     map[string]backendDecision `json:"backends"`
}

type envDecision struct {
	Datasources struct {
		Metrics string `json:"metrics"`
		Logs    string `json:"logs"`
		Traces  string `json:"traces"`
	} `json:"datasources"`
	Labels     map[string]string `json:"labels"`
	Paging     bool              `json:"paging"`
	GrafanaURL string            `json:"grafanaURL"`
	GPU        struct {
		Reports []string `json:"reports"`
	} `json:"gpu"`
	Loki struct {
		Tenant string `json:"tenant"`
	} `json:"loki"`
}

type teamDecision struct {
	Oncall    string                      `json:"oncall"`
	Chat      string                      `json:"chat"`
	Workloads map[string]workloadDecision `json:"workloads"`
}

type workloadDecision struct {
	Backend      string            `json:"backend"`
	Model        string            `json:"model"`
	Environments []string          `json:"environments"`
	SLO          sloDecisions      `json:"slo"`
	Cost         *costDecision     `json:"cost"`
	Agent        bool              `json:"agent"`
	Selector     map[string]string `json:"selector"`
}

type sloDecisions struct {
	Availability number           `json:"availability"`
	Period       string           `json:"period"`
	TTFT         *latencyDecision `json:"ttft"`
	E2E          *latencyDecision `json:"e2e"`
	ITL          *latencyDecision `json:"itl"`
	Queue        *latencyDecision `json:"queue"`
	MinEvents    int              `json:"minEvents"`
}

type latencyDecision struct {
	Under     string `json:"under"`
	Objective number `json:"objective"`
}

type costDecision struct {
	GPUHourUSD       *number `json:"gpuHourUSD"`
	GPUs             int     `json:"gpus"`
	InputPerMTokUSD  *number `json:"inputPerMTokUSD"`
	OutputPerMTokUSD *number `json:"outputPerMTokUSD"`
}

type backendDecision struct {
	ModelLabel string                    `json:"modelLabel"`
	Stages     map[string]seriesDecision `json:"stages"`
	Notes      map[string]string         `json:"notes"`
}

type seriesDecision struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Unit     string `json:"unit"`
	Matchers []struct {
		Name  string `json:"name"`
		Op    string `json:"op"`
		Value string `json:"value"`
	} `json:"matchers"`
	SumBy   []string `json:"sumBy"`
	Buckets []number `json:"buckets"`
}

// standardData is the non-decision data of the standard.
type standardData struct {
	RunbookBaseURL string `json:"runbookBaseURL"`
	BurnTiers      []struct {
		Name          string `json:"name"`
		Severity      string `json:"severity"`
		BudgetPercent number `json:"budgetPercent"`
		Long          string `json:"long"`
		Short         string `json:"short"`
	} `json:"burnTiers"`
	Taxonomy struct {
		ForbiddenLabels []string `json:"forbiddenLabels"`
		StreamLabels    []string `json:"streamLabels"`
	} `json:"taxonomy"`
	Contract struct {
		EvalScore         string `json:"evalScore"`
		EvalBaseline      string `json:"evalBaseline"`
		EvalLastRun       string `json:"evalLastRun"`
		DriftScore        string `json:"driftScore"`
		DriftThreshold    string `json:"driftThreshold"`
		ToolCalls         string `json:"toolCalls"`
		GuardrailTriggers string `json:"guardrailTriggers"`
		Retries           string `json:"retries"`
		TeamLabel         string `json:"teamLabel"`
		WorkloadLabel     string `json:"workloadLabel"`
		ModelLabel        string `json:"modelLabel"`
	} `json:"contract"`
	GPU struct {
		Util        string   `json:"util"`
		SMActive    string   `json:"smActive"`
		FBUsed      string   `json:"fbUsed"`
		FBFree      string   `json:"fbFree"`
		Power       string   `json:"power"`
		Temp        string   `json:"temp"`
		MemTemp     string   `json:"memTemp"`
		XID         string   `json:"xid"`
		ECCDBE      string   `json:"eccDBE"`
		ClockEvents string   `json:"clockEvents"`
		HostLabel   string   `json:"hostLabel"`
		Safe        []string `json:"safe"`
	} `json:"gpu"`
}

// latencyStages maps the latency SLO keys of #SLOs to catalogue stages.
var latencyStages = []string{"e2e", "itl", "queue", "ttft"}

// build decodes the unified value and turns it into a plan, checking the
// cross-references CUE cannot express.
func (c *compiler) build(v cue.Value) (*plan.Plan, diag.List) {
	var d decisions
	if err := v.Decode(&d); err != nil {
		return nil, cueDiagsIn(v, err, "DECISION_INVALID")
	}
	var sd standardData
	if err := c.std.Decode(&sd); err != nil {
		return nil, diag.List{{Rule: "INTERNAL", Severity: diag.Error, Msg: "internal error: decoding the standard: " + err.Error()}}
	}
	b := &builder{dir: c.dir, root: v, plan: &plan.Plan{}}
	b.standard(sd)
	for _, name := range sortedKeys(d.Backends) {
		b.plan.Backends = append(b.plan.Backends, backend(name, d.Backends[name]))
	}
	for _, name := range sortedKeys(d.Environments) {
		b.environment(name, d.Environments[name])
	}
	if len(d.Environments) == 0 && len(d.Teams) == 0 {
		b.diags = append(b.diags, diag.Diagnostic{Pos: diag.Pos{File: c.display}, Rule: "DECISIONS_EMPTY", Severity: diag.Error,
			Msg: "the decisions define no environments and no teams; run 'aiobs init' for a starting point"})
	}
	if len(d.Environments) == 0 && len(d.Teams) > 0 {
		b.errorAt(cue.ParsePath("teams"), "DECISION_MISSING", "environments", "no environments are defined; add environments: <name>: {datasources: {...}}")
	}
	for _, name := range sortedKeys(d.Teams) {
		b.team(name, d.Teams[name])
	}
	b.logs()
	if len(b.diags) > 0 {
		return nil, b.diags
	}
	if n := len(b.plan.Targets); n > c.opts.MaxTargets {
		return nil, diag.List{{Rule: "PLAN_TOO_LARGE", Severity: diag.Error,
			Msg: fmt.Sprintf("the decisions produce %d targets (workload × environment); the limit is %d", n, c.opts.MaxTargets)}}
	}
	return b.plan, nil
}

type builder struct {
	// dir is the decisions directory; gpuprobe reports are read relative
	// to it.
	dir     string
	safeGPU []string
	root    cue.Value
	plan    *plan.Plan
	diags   diag.List
}

// pos returns the position of the decision at path, preferring the user's
// file over the standard.
func (b *builder) pos(p cue.Path) diag.Pos {
	v := b.root.LookupPath(p)
	if pp := position(v.Pos()); pp.IsValid() && !isStandard(pp) {
		return pp
	}
	// A value unified from several places reports the first; look through
	// the conjuncts for the one the user wrote.
	_, args := v.Expr()
	for _, c := range args {
		if pp := position(c.Pos()); pp.IsValid() && !isStandard(pp) {
			return pp
		}
	}
	return diag.Pos{}
}

func (b *builder) errorAt(p cue.Path, rule, path, msg string) {
	b.diags = append(b.diags, diag.Diagnostic{Pos: b.pos(p), Rule: rule, Severity: diag.Error, Path: path, Msg: msg})
}

func (b *builder) standard(sd standardData) {
	s := &b.plan.Standard
	s.RunbookBaseURL = sd.RunbookBaseURL
	for _, t := range sd.BurnTiers {
		s.BurnTiers = append(s.BurnTiers, plan.BurnTier{Name: t.Name, Severity: t.Severity, BudgetPercent: string(t.BudgetPercent), Long: t.Long, Short: t.Short})
	}
	s.ForbiddenLabels = slices.Sorted(slices.Values(sd.Taxonomy.ForbiddenLabels))
	s.StreamLabels = slices.Sorted(slices.Values(sd.Taxonomy.StreamLabels))
	k := sd.Contract
	s.Contract = plan.Contract{EvalScore: k.EvalScore, EvalBaseline: k.EvalBaseline, EvalLastRun: k.EvalLastRun,
		DriftScore: k.DriftScore, DriftThreshold: k.DriftThreshold, ToolCalls: k.ToolCalls,
		GuardrailTriggers: k.GuardrailTriggers, Retries: k.Retries,
		TeamLabel: k.TeamLabel, WorkloadLabel: k.WorkloadLabel, ModelLabel: k.ModelLabel}
	g := sd.GPU
	s.GPU = plan.GPUMetrics{Util: g.Util, SMActive: g.SMActive, FBUsed: g.FBUsed, FBFree: g.FBFree, Power: g.Power, Temp: g.Temp,
		MemTemp: g.MemTemp, XID: g.XID, ECCDBE: g.ECCDBE, ClockEvents: g.ClockEvents, UtilUnit: "percent", HostLabel: g.HostLabel}
	b.safeGPU = g.Safe
}

func backend(name string, d backendDecision) *plan.Backend {
	be := &plan.Backend{Name: name, ModelLabel: d.ModelLabel, Stages: map[string]plan.Series{}, Notes: d.Notes}
	for stage, s := range d.Stages {
		ps := plan.Series{Name: s.Name, Type: s.Type, Unit: s.Unit, SumBy: s.SumBy}
		for _, m := range s.Matchers {
			ps.Matchers = append(ps.Matchers, plan.Matcher{Name: m.Name, Op: m.Op, Value: m.Value})
		}
		slices.SortFunc(ps.Matchers, func(a, b plan.Matcher) int { return strings.Compare(a.Name, b.Name) })
		for _, bk := range s.Buckets {
			ps.Buckets = append(ps.Buckets, string(bk))
		}
		be.Stages[stage] = ps
	}
	return be
}

func labels(m map[string]string) []plan.Label {
	var out []plan.Label
	for _, k := range sortedKeys(m) {
		out = append(out, plan.Label{Name: k, Value: m[k]})
	}
	return out
}

func (b *builder) environment(name string, d envDecision) {
	base := cue.MakePath(cue.Str("environments"), cue.Str(name))
	at := func(sel ...cue.Selector) diag.Pos {
		return b.pos(cue.MakePath(append(base.Selectors(), sel...)...))
	}
	ds := cue.Str("datasources")
	env := &plan.Environment{
		Name: name,
		Datasources: plan.Datasources{
			Metrics: plan.Datasource{UID: d.Datasources.Metrics, Type: "prometheus", Pos: at(ds, cue.Str("metrics"))},
			Logs:    plan.Datasource{UID: d.Datasources.Logs, Type: "loki", Pos: at(ds, cue.Str("logs"))},
			Traces:  plan.Datasource{UID: d.Datasources.Traces, Type: "tempo", Pos: at(ds, cue.Str("traces"))},
		},
		Labels:     labels(d.Labels),
		Paging:     d.Paging,
		GrafanaURL: strings.TrimSuffix(d.GrafanaURL, "/"),
		Loki:       plan.Loki{Tenant: d.Loki.Tenant},
		GPUReports: d.GPU.Reports,
		Pos:        b.pos(base),
	}
	b.labelNames(sub(base, "labels"), "environments."+name+".labels", d.Labels)
	env.GPU = environments.GPU(b.plan.Standard.GPU, b.safeGPU, b.gpuReports(sub(base, "gpu", "reports"), d.GPU.Reports))
	b.plan.Environments = append(b.plan.Environments, env)
}

func (b *builder) team(name string, d teamDecision) {
	base := cue.MakePath(cue.Str("teams"), cue.Str(name))
	team := &plan.Team{Name: name, Pager: d.Oncall, Chat: d.Chat, Pos: b.pos(base)}
	b.plan.Teams = append(b.plan.Teams, team)
	for _, wname := range sortedKeys(d.Workloads) {
		wpath := cue.MakePath(cue.Str("teams"), cue.Str(name), cue.Str("workloads"), cue.Str(wname))
		w := b.workload(team, wname, wpath, d.Workloads[wname])
		if w == nil {
			continue
		}
		team.Workloads = append(team.Workloads, w)
		be := b.plan.Backend(w.Backend)
		for _, e := range w.Environments {
			b.plan.Targets = append(b.plan.Targets, &plan.Target{Team: team, Workload: w, Env: b.plan.Environment(e), Backend: be})
		}
	}
}

func sub(p cue.Path, sel ...string) cue.Path {
	s := p.Selectors()
	for _, x := range sel {
		s = append(s, cue.Str(x))
	}
	return cue.MakePath(s...)
}

func (b *builder) workload(team *plan.Team, name string, path cue.Path, d workloadDecision) *plan.Workload {
	display := "teams." + team.Name + ".workloads." + name
	n := len(b.diags)
	w := &plan.Workload{Team: team.Name, Name: name, Backend: d.Backend, Model: d.Model, Agent: d.Agent, Selector: labels(d.Selector), Pos: b.pos(path)}

	be := b.plan.Backend(d.Backend)
	if be == nil {
		var names []string
		for _, x := range b.plan.Backends {
			names = append(names, x.Name)
		}
		b.errorAt(sub(path, "backend"), "UNKNOWN_BACKEND", display+".backend",
			fmt.Sprintf("%q is not a known backend%s; want one of %s", d.Backend, suggest(d.Backend, names), strings.Join(names, ", ")))
	}

	w.Environments = slices.Clone(d.Environments)
	if w.Environments == nil {
		for _, e := range b.plan.Environments {
			w.Environments = append(w.Environments, e.Name)
		}
	}
	slices.Sort(w.Environments)
	if dup := duplicates(w.Environments); len(dup) > 0 {
		b.errorAt(sub(path, "environments"), "DUPLICATE_ENVIRONMENT", display+".environments", "environment "+strings.Join(dup, ", ")+" is listed twice")
	}
	w.Environments = slices.Compact(w.Environments)
	for i, e := range w.Environments {
		if b.plan.Environment(e) == nil {
			var names []string
			for _, x := range b.plan.Environments {
				names = append(names, x.Name)
			}
			p := cue.MakePath(append(sub(path, "environments").Selectors(), cue.Index(slices.Index(d.Environments, e)))...)
			_ = i
			b.errorAt(p, "UNKNOWN_ENVIRONMENT", display+".environments",
				fmt.Sprintf("environment %q does not exist%s; defined environments: %s", e, suggest(e, names), strings.Join(names, ", ")))
		}
	}

	b.labelNames(sub(path, "selector"), display+".selector", d.Selector)
	w.Cost = b.cost(sub(path, "cost"), display+".cost", d.Cost)
	w.SLOs = b.slos(sub(path, "slo"), display+".slo", d.SLO, be)
	if len(b.diags) > n {
		return nil
	}
	return w
}

func duplicates(sorted []string) []string {
	var out []string
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] && (len(out) == 0 || out[len(out)-1] != sorted[i]) {
			out = append(out, sorted[i])
		}
	}
	return out
}

func (b *builder) cost(path cue.Path, display string, d *costDecision) plan.Cost {
	if d == nil {
		return plan.Cost{}
	}
	gpu := d.GPUHourUSD != nil
	tok := d.InputPerMTokUSD != nil || d.OutputPerMTokUSD != nil
	switch {
	case gpu && tok:
		b.errorAt(path, "COST_AMBIGUOUS", display, "give either gpuHourUSD (self-hosted) or inputPerMTokUSD and outputPerMTokUSD (hosted API), not both")
	case tok && (d.InputPerMTokUSD == nil || d.OutputPerMTokUSD == nil):
		b.errorAt(path, "COST_INCOMPLETE", display, "a token-priced cost needs both inputPerMTokUSD and outputPerMTokUSD")
	case !gpu && !tok:
		b.errorAt(path, "COST_INCOMPLETE", display, "give gpuHourUSD (self-hosted) or inputPerMTokUSD and outputPerMTokUSD (hosted API)")
	}
	c := plan.Cost{GPUs: d.GPUs}
	if d.GPUHourUSD != nil {
		c.GPUHourUSD = string(*d.GPUHourUSD)
	}
	if d.InputPerMTokUSD != nil {
		c.InputPerMTokUSD = string(*d.InputPerMTokUSD)
	}
	if d.OutputPerMTokUSD != nil {
		c.OutputPerMTokUSD = string(*d.OutputPerMTokUSD)
	}
	return c
}

func (b *builder) slos(path cue.Path, display string, d sloDecisions, be *plan.Backend) []*plan.SLO {
	period, err := model.ParseDuration(d.Period)
	if err != nil || period <= 0 {
		b.errorAt(sub(path, "period"), "SLO_PERIOD", display+".period", fmt.Sprintf("%q is not a valid period: want a Prometheus duration such as 30d", d.Period))
		return nil
	}
	out := []*plan.SLO{{Name: "availability", Kind: "availability", Objective: string(d.Availability), Period: d.Period,
		MinEvents: d.MinEvents, Tiers: b.tiers(time.Duration(period)), Pos: b.pos(sub(path, "availability"))}}
	b.reachable(sub(path, "availability"), display+".availability", d.Availability, time.Duration(period))

	lat := map[string]*latencyDecision{"ttft": d.TTFT, "e2e": d.E2E, "itl": d.ITL, "queue": d.Queue}
	for _, stage := range latencyStages {
		l := lat[stage]
		if l == nil {
			continue
		}
		lpath := sub(path, stage)
		ldisplay := display + "." + stage
		slo := &plan.SLO{Name: stage, Kind: "latency", Objective: string(l.Objective), Period: d.Period, Threshold: l.Under,
			Stage: stage, MinEvents: d.MinEvents, Tiers: b.tiers(time.Duration(period)), Pos: b.pos(lpath)}
		b.reachable(sub(lpath, "objective"), ldisplay+".objective", l.Objective, time.Duration(period))
		if be != nil {
			b.bucket(sub(lpath, "under"), ldisplay+".under", l.Under, stage, be)
		}
		out = append(out, slo)
	}
	return out
}

// tiers computes the standard's burn tiers for one SLO period.
func (b *builder) tiers(period time.Duration) []plan.SLOTier {
	var out []plan.SLOTier
	for _, t := range b.plan.Standard.BurnTiers {
		long, err := model.ParseDuration(t.Long)
		if err != nil {
			continue
		}
		out = append(out, plan.SLOTier{BurnTier: t, Factor: FormatRat(Factor(t.BudgetPercent, period, time.Duration(long)))})
	}
	return out
}

// reachable refuses an objective for which a burn-rate tier could never
// fire: factor × (1 − objective) ≥ 1 means the error ratio would have to
// exceed 100%.
func (b *builder) reachable(path cue.Path, display string, objective number, period time.Duration) {
	budget := new(big.Rat).Sub(big.NewRat(1, 1), new(big.Rat).Quo(objective.rat(), big.NewRat(100, 1)))
	for _, t := range b.plan.Standard.BurnTiers {
		long, err := model.ParseDuration(t.Long)
		if err != nil {
			continue
		}
		f := Factor(t.BudgetPercent, time.Duration(period), time.Duration(long))
		if new(big.Rat).Mul(f, budget).Cmp(big.NewRat(1, 1)) >= 0 {
			b.errorAt(path, "SLO_TIER_UNREACHABLE", display, fmt.Sprintf(
				"objective %s%% leaves an error budget of %s%%, so the %s tier (burn factor %s) could never fire; raise the objective above %s%%",
				objective, FormatRat(new(big.Rat).Mul(budget, big.NewRat(100, 1))), t.Name, FormatRat(f),
				FormatRat(new(big.Rat).Mul(new(big.Rat).Sub(big.NewRat(1, 1), new(big.Rat).Inv(f)), big.NewRat(100, 1)))))
			return
		}
	}
}

// bucket refuses a latency threshold that is not a bucket boundary of the
// backend's histogram: a "fraction under X" needs an le="X" series.
func (b *builder) bucket(path cue.Path, display, under, stage string, be *plan.Backend) {
	s, ok := be.Stages[stage]
	if !ok || s.Type != "histogram" {
		b.errorAt(path, "SLO_NO_HISTOGRAM", display, fmt.Sprintf("backend %s has no %s histogram, so a %s latency SLO cannot be measured", be.Name, stage, stage))
		return
	}
	d, err := model.ParseDuration(under)
	if err != nil {
		b.errorAt(path, "SLO_THRESHOLD", display, fmt.Sprintf("%q is not a Prometheus duration", under))
		return
	}
	want := new(big.Rat).SetFrac64(time.Duration(d).Nanoseconds(), int64(unitOf(s.Unit)))
	for _, bk := range s.Buckets {
		if number(bk).rat().Cmp(want) == 0 {
			return
		}
	}
	b.errorAt(path, "SLO_THRESHOLD_NOT_BUCKET", display, fmt.Sprintf("%s is not a bucket boundary of %s; the buckets are %s (%s)",
		under, s.Name, strings.Join(s.Buckets, ", "), s.Unit))
}

func unitOf(u string) time.Duration {
	switch u {
	case "ms":
		return time.Millisecond
	case "µs":
		return time.Microsecond
	}
	return time.Second
}

func isStandard(p diag.Pos) bool { return strings.HasPrefix(p.File, "aiobs-standard/") }

// suggest returns ` (did you mean "x"?)` for the closest candidate within
// two edits, or "".
func suggest(got string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := levenshtein(got, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// gpuReports reads the environment's gpuprobe reports, relative to the
// decisions directory.
func (b *builder) gpuReports(path cue.Path, names []string) []report.Report {
	var out []report.Report
	for i, name := range names {
		at := cue.MakePath(append(path.Selectors(), cue.Index(i))...)
		f, err := os.Open(filepath.Join(b.dir, filepath.FromSlash(name)))
		if err != nil {
			b.errorAt(at, "GPU_REPORT_UNREADABLE", "", fmt.Sprintf("cannot read gpuprobe report %s: %s", name, pathError(err)))
			continue
		}
		r, err := report.Read(f)
		f.Close()
		if err != nil {
			b.errorAt(at, "GPU_REPORT_INVALID", "", fmt.Sprintf("gpuprobe report %s: %v", name, err))
			continue
		}
		out = append(out, r)
	}
	return out
}

// labelNames refuses static labels and selectors that use a request-scoped
// label: every value would be a new series, and the taxonomy keeps such ids
// in log lines and traces.
func (b *builder) labelNames(path cue.Path, display string, labels map[string]string) {
	for _, name := range sortedKeys(labels) {
		if strings.HasPrefix(name, "__") {
			b.errorAt(sub(path, name), "LABEL_RESERVED", display+"."+name,
				fmt.Sprintf("%s: label names starting with __ are reserved by Prometheus", name))
			continue
		}
		if slices.Contains(b.plan.Standard.ForbiddenLabels, name) {
			b.errorAt(sub(path, name), "LABEL_REQUEST_SCOPED", display+"."+name,
				fmt.Sprintf("%s is a request-scoped identifier (taxonomy.forbiddenLabels); it belongs in log lines, structured metadata and traces, never in labels", name))
		}
	}
}
