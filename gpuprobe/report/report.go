// Package report is the versioned capabilities report that aiobs gpuprobe
// writes and aiobs render reads.
//
// In: a Report value built by gpuprobe.Probe, or JSON bytes from a file.
// Out: canonical JSON (Write), a readable table (Text), or a Report (Read).
// The package is plain Go with the standard library only, so the compiler
// can read reports without cgo, go-dcgm or go-nvml. It must not know how a
// report is measured.
//
// Compatibility: Read accepts only SchemaVersion and rejects unknown keys,
// so a report from a newer aiobs fails loudly instead of being half-read.
// Any change to the JSON shape needs a new schema version.
package report

// SchemaVersion is the only schema this package reads and writes.
const SchemaVersion = "aiobs.gpuprobe/v1"

// Backend names, as backend.Name* (repeated here to keep this package a leaf).
const (
	BackendDCGMEmbedded   = "dcgm-embedded"
	BackendDCGMStandalone = "dcgm-standalone"
	BackendNVML           = "nvml"
)

// Status is the verdict for one field on one entity.
type Status string

// Statuses, from best to worst for a dashboard.
const (
	// StatusAvailable: at least one valid, non-zero value in the window.
	StatusAvailable Status = "available"
	// StatusAvailableZero: valid values, all zero. A hint, not a verdict: an
	// idle GPU, an absent engine (NVENC on H100) or a stuck profiling counter.
	StatusAvailableZero Status = "available_zero"
	// StatusBlank: the watch worked but every value was a BLANK sentinel or
	// DCGM said no data.
	StatusBlank Status = "blank"
	// StatusEventNoEvent: as StatusBlank, for an event field (XID): normal
	// until an event happens.
	StatusEventNoEvent Status = "event_no_event"
	// StatusNotSupported: a NOT_SUPPORTED (or NOT_FOUND) sentinel or status,
	// or a profiling field the GPU's metric groups lack.
	StatusNotSupported Status = "not_supported"
	// StatusNoPermission: a NOT_PERMISSIONED sentinel or status.
	StatusNoPermission Status = "no_permission"
	// StatusWatchFailed: the watch call itself failed for this field; Code
	// carries DCGM's return code.
	StatusWatchFailed Status = "watch_failed"
	// StatusNotApplicable: the field cannot exist on this entity (a vGPU
	// field on bare metal).
	StatusNotApplicable Status = "not_applicable"
)

// Statuses lists every status in a fixed order.
func Statuses() []Status {
	return []Status{
		StatusAvailable, StatusAvailableZero, StatusBlank, StatusEventNoEvent,
		StatusNotSupported, StatusNoPermission, StatusWatchFailed, StatusNotApplicable,
	}
}

// Usable reports whether a dashboard panel on this field shows data.
func (s Status) Usable() bool { return s == StatusAvailable || s == StatusAvailableZero }

// Engine measurement states.
const (
	EngineMeasured = "measured"
	EngineUnknown  = "unknown"
)

// Report is the whole gpuprobe result.
type Report struct {
	Schema   string   `json:"schema"`
	ProbedAt string   `json:"probed_at"` // RFC 3339 UTC, from the probe's injected clock
	Backend  Backend  `json:"backend"`
	Settings Settings `json:"settings"`
	GPUs     []GPU    `json:"gpus"`
	// Global holds node-wide fields (the driver version).
	Global       []Field      `json:"global"`
	Profiling    []Profiling  `json:"profiling"`
	Benchmarks   Benchmarks   `json:"benchmarks"`
	Summary      Summary      `json:"summary"`
	Capabilities Capabilities `json:"capabilities"`
}

// Backend says what measured the report.
type Backend struct {
	Name          string `json:"name"`
	Address       string `json:"address,omitempty"`
	DriverVersion string `json:"driver_version,omitempty"`
	// Fallback says why DCGM was not used, when it was not.
	Fallback string `json:"fallback,omitempty"`
	// Note qualifies the result, e.g. that NVML shows what the hardware can
	// report, not what dcgm-exporter will export.
	Note string `json:"note,omitempty"`
}

// Settings are the probe parameters the figures depend on.
type Settings struct {
	WindowMS   int64 `json:"window_ms"`
	IntervalMS int64 `json:"interval_ms"`
	PollMS     int64 `json:"poll_ms"`
}

// GPU is one physical GPU.
type GPU struct {
	Index     int        `json:"index"`
	UUID      string     `json:"uuid"`
	Model     string     `json:"model"`
	MIG       bool       `json:"mig_mode"`
	Fields    []Field    `json:"fields"`
	Instances []Instance `json:"instances,omitempty"`
}

// Instance is a MIG GPU instance with its instance-level fields.
type Instance struct {
	EntityID      int     `json:"entity_id"`
	GPUInstanceID int     `json:"gpu_instance_id"`
	Slices        int     `json:"slices,omitempty"`
	Fields        []Field `json:"fields"`
}

// Field is the verdict for one DCGM field on one entity.
type Field struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`   // DCGM 4.6 field name
	Metric string `json:"metric"` // dcgm-exporter (≤ 4.8) metric name
	Status Status `json:"status"`
	// Code is the DCGM return code behind the status, when one was seen.
	Code    int      `json:"code,omitempty"`
	Detail  string   `json:"detail,omitempty"`
	Samples *Samples `json:"samples,omitempty"`
}

// Samples summarises what polling saw for one watched field.
type Samples struct {
	Polls    int `json:"polls"`    // values read
	Distinct int `json:"distinct"` // distinct sample timestamps among them
	Valid    int `json:"valid"`    // values that were not sentinels or errors
	// Min and Max over valid numeric values.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// FirstValidMS is the time from the start of the watch call to the poll
	// that first saw a valid value.
	FirstValidMS *float64 `json:"first_valid_ms,omitempty"`
	// IntervalMS is the median gap between distinct sample timestamps: the
	// update interval the engine really delivers.
	IntervalMS *float64 `json:"interval_ms,omitempty"`
}

// Profiling is the profiling (DCP) support of one GPU model, checked on
// one GPU of that model; dcgm-exporter checks GPU 0 only.
type Profiling struct {
	Model     string        `json:"model"`
	GPUs      []int         `json:"gpus"`
	ProbedGPU int           `json:"probed_gpu"`
	Supported bool          `json:"supported"`
	Code      int           `json:"code,omitempty"`
	Detail    string        `json:"detail,omitempty"`
	Groups    []MetricGroup `json:"groups"`
}

// MetricGroup is one profiling metric group.
type MetricGroup struct {
	Major    int   `json:"major"`
	Minor    int   `json:"minor"`
	FieldIDs []int `json:"field_ids"`
}

// Benchmarks are the timing and cost figures of the probe.
type Benchmarks struct {
	InitMS  float64 `json:"init_ms"`
	WatchMS float64 `json:"watch_ms"`
	// FirstValidMS: time to first valid sample, over watched fields.
	FirstValidMS Dist `json:"first_valid_ms"`
	// UpdateIntervalMS: effective update interval, over watched fields.
	UpdateIntervalMS Dist `json:"update_interval_ms"`
	// PollLatencyUS: latency of one poll of all fields on all entities.
	PollLatencyUS Dist   `json:"poll_latency_us"`
	Engine        Engine `json:"engine"`
}

// Dist is a distribution summary; all zero when Count is 0.
type Dist struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	Max   float64 `json:"max"`
}

// Engine is the host engine's CPU and memory cost during the probe.
type Engine struct {
	Status string        `json:"status"`           // EngineMeasured or EngineUnknown
	Reason string        `json:"reason,omitempty"` // why it is unknown
	Start  *EngineSample `json:"start,omitempty"`
	End    *EngineSample `json:"end,omitempty"`
}

// EngineSample is one reading of the host engine's cost.
type EngineSample struct {
	CPUPercent float64 `json:"cpu_percent"`
	MemoryKB   int64   `json:"memory_kb"`
}

// Summary counts entity×field verdicts per status.
type Summary struct {
	Available     int `json:"available"`
	AvailableZero int `json:"available_zero"`
	Blank         int `json:"blank"`
	EventNoEvent  int `json:"event_no_event"`
	NotSupported  int `json:"not_supported"`
	NoPermission  int `json:"no_permission"`
	WatchFailed   int `json:"watch_failed"`
	NotApplicable int `json:"not_applicable"`
}

// Add counts one verdict.
func (s *Summary) Add(st Status) {
	switch st {
	case StatusAvailable:
		s.Available++
	case StatusAvailableZero:
		s.AvailableZero++
	case StatusBlank:
		s.Blank++
	case StatusEventNoEvent:
		s.EventNoEvent++
	case StatusNotSupported:
		s.NotSupported++
	case StatusNoPermission:
		s.NoPermission++
	case StatusWatchFailed:
		s.WatchFailed++
	case StatusNotApplicable:
		s.NotApplicable++
	}
}

// Capabilities is the summary aiobs render consumes: what dashboards can
// rely on for every GPU of the node.
//
// A metric counts for a GPU when its status is available or available_zero
// on the GPU itself or, under MIG, on every GPU instance of it.
type Capabilities struct {
	// HardwareOnly is true for an NVML report: the hardware can report these
	// fields, but dcgm-exporter needs DCGM to export them.
	HardwareOnly bool `json:"hardware_only"`
	// DCP: every GPU has at least one usable profiling field.
	DCP bool `json:"dcp"`
	// MIG: at least one GPU runs in MIG mode (unlike the other flags, not
	// every GPU); per-instance panels are needed.
	MIG bool `json:"mig"`
	// NVLink, ECC, Throttle: every GPU has at least one usable field of the
	// family.
	NVLink   bool `json:"nvlink"`
	ECC      bool `json:"ecc"`
	Throttle bool `json:"throttle"`
	// XID: every GPU can report XID errors (a value, or a working watch that
	// saw no event).
	XID bool `json:"xid"`
	// Metrics are the exporter metric names usable on every GPU, sorted.
	Metrics []string `json:"metrics"`
	// EventOnly are event metrics that watch fine everywhere but had no event
	// in the window: keep their alerts, expect no series until an event.
	EventOnly []string `json:"event_only"`
	// Substitutes name a usable metric for each probed metric that is not.
	Substitutes []Substitute `json:"substitutes"`
}

// Substitute says: Metric has no data on every GPU; Use does.
type Substitute struct {
	Metric string `json:"metric"`
	Use    string `json:"use"`
}

// Capability names, as Options.Require in gpuprobe spells them.
const (
	CapDCP      = "dcp"
	CapECC      = "ecc"
	CapMIG      = "mig"
	CapNVLink   = "nvlink"
	CapThrottle = "throttle"
	CapXID      = "xid"
)

// CapabilityNames lists the capability names, sorted.
func CapabilityNames() []string {
	return []string{CapDCP, CapECC, CapMIG, CapNVLink, CapThrottle, CapXID}
}

// Has reports whether the named capability is present; ok is false for an
// unknown name.
func (c Capabilities) Has(name string) (has, ok bool) {
	switch name {
	case CapDCP:
		return c.DCP, true
	case CapECC:
		return c.ECC, true
	case CapMIG:
		return c.MIG, true
	case CapNVLink:
		return c.NVLink, true
	case CapThrottle:
		return c.Throttle, true
	case CapXID:
		return c.XID, true
	}
	return false, false
}
