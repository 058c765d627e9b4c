// Package plan is the typed intermediate representation that compile produces
// and every later stage reads: environments, teams, workloads with their SLOs
// and costs, the backend metric catalogues and the standard's data, and one
// Target per team × workload × environment.
//
// The plan is plain data. It knows nothing about CUE, files or output formats,
// and every slice in it is sorted so that iterating it is deterministic.
//
// Render reuses the artifacts of a unit (a target, a team's cost in an
// environment) whose inputs are unchanged, and hashes every field to tell.
// A field tagged key:"-" is left out of that hash: a position, which only
// findings read, or data no artifact of the unit reads. Tag nothing else.
package plan

import (
	"cmp"
	"slices"

	"github.com/aiobs/aiobs/compile/diag"
)

// Plan is everything the decisions and the standard say, decoded and checked.
type Plan struct {
	Environments []*Environment // sorted by name
	Teams        []*Team        // sorted by name
	Backends     []*Backend     // sorted by name
	// Targets are sorted by team, workload, then environment.
	Targets  []*Target
	Standard Standard
}

// Standard holds the organisation-wide data the standard defines.
type Standard struct {
	// BurnTiers is the burn-rate window catalogue, fastest tier first.
	BurnTiers []BurnTier
	// Taxonomy lists label names that may never appear on metrics or
	// Loki streams because they are request-scoped.
	ForbiddenLabels []string
	// StreamLabels are the only labels allowed on Loki streams.
	StreamLabels []string
	// GPU is the standard's dcgm-exporter metric names for GPU panels.
	GPU GPUMetrics
	// Contract names the series quality jobs push and log rules record.
	Contract Contract
	// RunbookBaseURL prefixes every runbook_url annotation.
	RunbookBaseURL string
	// Logs are the log alert and log-derived metric rules (logs.go).
	Logs Logs
}

// Contract is the metric contract of eval, drift, agent and log-derived
// series (standards/contract.cue documents each).
type Contract struct {
	EvalScore, EvalBaseline, EvalLastRun string
	DriftScore, DriftThreshold           string
	ToolCalls                            string
	GuardrailTriggers, Retries           string
	TeamLabel, WorkloadLabel, ModelLabel string
}

// BurnTier is one multiwindow burn-rate alert tier, expressed as the share
// of the error budget that may burn within the long window.
type BurnTier struct {
	Name          string // e.g. "page-fast"
	Severity      string // "page" or "notify"
	BudgetPercent string // exact decimal text, e.g. "2"
	Long, Short   string // Prometheus durations, e.g. "1h", "5m"
}

// GPUMetrics names the dcgm-exporter series the GPU row and the GPU alerts
// read. An empty name means the series will have no data in the
// environment, so nothing may query it.
type GPUMetrics struct {
	Util, FBUsed, FBFree, Power, Temp, MemTemp, SMActive, XID string
	// ECCDBE counts volatile double-bit ECC errors; ClockEvents is the
	// clock-event (throttle) reason bitmask.
	ECCDBE, ClockEvents string
	// UtilUnit is the Grafana unit of Util: "percent" for
	// DCGM_FI_DEV_GPU_UTIL (0-100), "percentunit" for a profiling ratio
	// substituted under MIG (0-1).
	UtilUnit string
	// HostLabel is the label dcgm-exporter puts the node name in.
	HostLabel string
	// Notes say why a metric was dropped or swapped, for the dashboard.
	Notes []string
}

// Environment is one deployment environment and what it binds to.
type Environment struct {
	Name        string
	Datasources Datasources
	// Labels are static matchers added to every selector in this
	// environment (e.g. cluster="eu-1"); sorted by name.
	Labels []Label
	// Paging says whether alerts may page here; when false every alert is
	// downgraded to notify.
	Paging bool
	// GrafanaURL is the base URL used for dashboard_url annotations.
	GrafanaURL string
	Loki       Loki
	// GPU is the standard's GPU metric set projected onto what the
	// environment's gpuprobe reports say has data; without a report it is
	// the standard's safe default set.
	GPU GPUMetrics
	// GPUReports are the report files the projection read, as the
	// decisions name them.
	GPUReports []string
	Pos        diag.Pos `key:"-"`
}

// Datasources binds the three signal types to Grafana datasource uids.
type Datasources struct {
	Metrics Datasource
	Logs    Datasource
	Traces  Datasource
}

// Datasource is a Grafana datasource by uid and plugin type.
type Datasource struct {
	UID  string
	Type string   // prometheus, loki, tempo
	Pos  diag.Pos `key:"-"`
}

// Label is one static label name and value.
type Label struct{ Name, Value string }

// Loki holds the environment's Loki ruler settings.
type Loki struct {
	Tenant string
	// Raw is the opt-in raw (unredacted) stream; nil when the environment
	// has none.
	Raw *LokiRaw
}

// Team owns workloads and receives their alerts.
type Team struct {
	Name string
	// Pager and Chat are the Alertmanager receivers for page and notify.
	Pager, Chat string
	Workloads   []*Workload `key:"-"` // sorted by name; each target reads only its own
	Pos         diag.Pos    `key:"-"`
}

// Workload is one AI inference workload of a team.
type Workload struct {
	Team    string
	Name    string
	Backend string
	Model   string
	// Environments are the names of the environments the workload runs in,
	// sorted.
	Environments []string
	SLOs         []*SLO // sorted by name
	Cost         Cost
	Agent        bool
	// Selector are extra matchers identifying the workload's series
	// (e.g. job="chat"); sorted by name.
	Selector []Label
	Pos      diag.Pos `key:"-"`
}

// SLO is one service level objective of a workload.
type SLO struct {
	Name string // availability, ttft, ...
	// Kind is "availability" or "latency".
	Kind string
	// Objective is the target in percent as the decision wrote it, e.g. "99.5".
	Objective string
	// Period is a Prometheus duration, e.g. "30d".
	Period string
	// Threshold is the latency bound for latency SLOs, as a Prometheus
	// duration (e.g. "500ms"); empty for availability.
	Threshold string
	// Stage names the catalogue series a latency SLO reads (ttft, e2e, ...).
	Stage string
	// MinEvents is the smallest number of requests in a long window for
	// which a burn-rate alert may fire.
	MinEvents int
	// Tiers are the burn-rate alert tiers with factors computed for the
	// SLO's period, fastest first.
	Tiers []SLOTier
	Pos   diag.Pos `key:"-"`
}

// SLOTier is one burn-rate tier of one SLO.
type SLOTier struct {
	BurnTier
	// Factor is the burn rate at which the tier fires, as exact decimal
	// text (14.4, 6, 3, 1 for 30 days).
	Factor string
}

// Cost is how a workload's spend is computed: either GPU-hours for
// self-hosted models, or per-token prices for hosted APIs.
type Cost struct {
	GPUHourUSD string // decimal text; empty when token-priced
	GPUs       int
	// InputPerMTokUSD and OutputPerMTokUSD are decimal text prices per
	// million tokens; empty when GPU-priced.
	InputPerMTokUSD, OutputPerMTokUSD string
}

// Backend is one serving backend's metric catalogue.
type Backend struct {
	Name string
	// ModelLabel is the label that carries the served model name.
	ModelLabel string
	// Stages maps a stage of the AI metric set (ttft, e2e, queueDepth, ...)
	// to the series that measures it; stages the backend lacks are absent.
	Stages map[string]Series
	// Notes says, per missing stage, why the backend lacks it.
	Notes map[string]string
}

// Series describes one metric a backend exposes.
type Series struct {
	Name string
	// Type is counter, gauge, histogram or summary.
	Type string
	// Unit is the Grafana unit id of the value (s, ms, µs as "µs", percentunit, short...).
	Unit string
	// Matchers select the part of the series the stage means, e.g.
	// finished_reason="error"; sorted by name.
	Matchers []Matcher
	// SumBy are extra labels that must be summed away (ranks, engines).
	SumBy []string
	// Buckets are the histogram's upper bounds in seconds or the series'
	// unit, as text, ascending.
	Buckets []string
}

// Matcher is one label matcher of a catalogue series.
type Matcher struct {
	Name  string
	Op    string // =, !=, =~, !~
	Value string
}

// Target is one workload projected onto one environment: the unit every
// artifact is rendered for.
type Target struct {
	Team     *Team
	Workload *Workload
	Env      *Environment
	Backend  *Backend
}

// Backend returns the catalogue with the given name, or nil.
func (p *Plan) Backend(name string) *Backend {
	i, ok := slices.BinarySearchFunc(p.Backends, name, func(b *Backend, n string) int { return cmp.Compare(b.Name, n) })
	if !ok {
		return nil
	}
	return p.Backends[i]
}

// Environment returns the environment with the given name, or nil.
func (p *Plan) Environment(name string) *Environment {
	i, ok := slices.BinarySearchFunc(p.Environments, name, func(e *Environment, n string) int { return cmp.Compare(e.Name, n) })
	if !ok {
		return nil
	}
	return p.Environments[i]
}

// TargetsIn returns the targets rendered into the named environment, in
// plan order.
func (p *Plan) TargetsIn(env string) []*Target {
	var out []*Target
	for _, t := range p.Targets {
		if t.Env.Name == env {
			out = append(out, t)
		}
	}
	return out
}
