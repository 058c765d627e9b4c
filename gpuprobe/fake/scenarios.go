package fake

import (
	"fmt"
	"sort"
	"time"

	"github.com/aiobs/aiobs/gpuprobe/backend"
)

// Scenario scripts one node.
type Scenario struct {
	Name    string
	Backend string // backend name: dcgm-embedded, dcgm-standalone or nvml
	Address string
	// InitErr makes Init fail.
	InitErr error
	GPUs    []backend.GPU
	// Profiling is keyed by GPU model; a model not listed answers "module
	// not loaded", as DCGM does on consumer GPUs.
	Profiling map[string]Profiling
	// Values scripts each field on each entity; g is the entity's GPU (zero
	// for the global entity).
	Values func(g backend.GPU, e backend.Entity, field uint16) Script
	// WatchErr makes any watch that includes the field fail.
	WatchErr func(field uint16) error
	// Engine answers the n-th EngineStats call.
	Engine func(n int) (backend.EngineStats, error)
	// Latency is added to the clock by each Latest call, cycling.
	Latency []time.Duration
	// WatchCost and InitCost are added by each Watch and by Init.
	WatchCost, InitCost time.Duration
	// NoTimestamps: samples carry no timestamp (NVML).
	NoTimestamps bool
}

// Profiling is one model's answer to ProfilingGroups.
type Profiling struct {
	Groups []backend.MetricGroup
	Err    error
}

// DCGM messages the scenarios use (libdcgm errorString texts).
const (
	msgModuleNotLoaded = "This request is serviced by a module of DCGM that is not currently loaded"
	msgProfilingNotSup = "Profiling is not supported for this group of GPUs or GPU"
	msgInUse           = "The requested operation could not be completed because the affected resource is in use"
)

var scenarios = map[string]func() Scenario{
	"datacenter":    datacenter,
	"mig":           mig,
	"consumer":      consumer,
	"mixed":         mixed,
	"profiler-busy": profilerBusy,
	"no-dcgm":       noDCGM,
	"no-gpus":       noGPUs,
	"nvml":          nvmlOnly,
}

// Names lists the scenarios, sorted.
func Names() []string {
	names := make([]string, 0, len(scenarios))
	for n := range scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Load returns a named scenario.
func Load(name string) (Scenario, error) {
	f, ok := scenarios[name]
	if !ok {
		return Scenario{}, fmt.Errorf("fake: unknown scenario %q", name)
	}
	return f(), nil
}

// Script helpers.

func num(v float64) Script { return Script{Value: func(int) float64 { return v }} }

// ramp grows by step per sample: counters.
func ramp(base, step float64) Script {
	return Script{Value: func(k int) float64 { return base + step*float64(k) }}
}

// wave cycles through vs: gauges that move.
func wave(vs ...float64) Script {
	return Script{Value: func(k int) float64 { return vs[k%len(vs)] }}
}

func text(s string) Script { return Script{Text: s} }

func sentinel(s Sentinel) Script { return Script{Sentinel: s} }

func sentinel32(s Sentinel) Script { return Script{Sentinel: s, Int32: true} }

func status(code int) Script { return Script{Status: code} }

// profilingDelay is when a profiling field's first sample appears.
const profilingDelay = time.Second

func gpu(id uint, model, uuid string) backend.GPU {
	return backend.GPU{ID: id, Model: model, UUID: uuid}
}

func ids(from, to uint16) []uint16 {
	var out []uint16
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}

// hopperGroups are the profiling metric groups of an H100 (GPM: one group
// per family, no multiplexing).
func hopperGroups() []backend.MetricGroup {
	return []backend.MetricGroup{
		{Major: 1, Minor: 0, Fields: append(ids(1001, 1008), 1013, 1014)},
		{Major: 2, Minor: 0, Fields: []uint16{1009, 1010}},
		{Major: 3, Minor: 0, Fields: []uint16{1011, 1012}},
	}
}

// ampereGroups are an A100's groups; IMMA/HMMA (1013/1014) left out to
// exercise "not in the profiling metric groups".
func ampereGroups() []backend.MetricGroup {
	return []backend.MetricGroup{
		{Major: 1, Minor: 0, Fields: []uint16{1001, 1004, 1005}},
		{Major: 1, Minor: 1, Fields: []uint16{1002, 1003}},
		{Major: 1, Minor: 2, Fields: ids(1006, 1008)},
		{Major: 2, Minor: 0, Fields: []uint16{1009, 1010}},
		{Major: 3, Minor: 0, Fields: []uint16{1011, 1012}},
	}
}

// busy is a loaded datacenter GPU: every field reads, most non-zero.
func busy(model string, g backend.GPU, f uint16) Script {
	switch f {
	case 1:
		return text("570.124.06")
	case 50:
		return text(model)
	case 54:
		return text(g.UUID)
	case 63:
		return num(9 << 16)
	case 67, 190, 202, 206:
		return num(0)
	case 100:
		return wave(1980, 1965, 1950)
	case 101:
		return num(2619)
	case 112:
		return num(0x4) // SW power cap
	case 140:
		return wave(48, 49)
	case 150:
		return wave(61, 62, 62)
	case 155:
		return wave(612.5, 640.25, 655.75)
	case 156:
		return ramp(9_876_543_210, 650_000)
	case 160, 164:
		return num(700)
	case 191:
		return sentinel32(NotSupported) // passively cooled
	case 203:
		return wave(97, 98, 99)
	case 204:
		return wave(61, 64)
	case 207:
		return num(0)
	case 230:
		return sentinel(Blank) // no XID since DCGM 4.5 means blank
	case 240:
		return ramp(1_500_000_000, 25_000_000)
	case 241, 242, 243, 244, 245:
		return num(0)
	case 250:
		return num(81559)
	case 251:
		return wave(1210, 1180)
	case 252:
		return wave(79790, 79820)
	case 253:
		return num(559)
	case 300:
		return num(1)
	case 310, 311, 312, 313, 390, 391, 392, 393, 394, 395:
		return num(0)
	case 409, 419, 429, 439:
		return num(0)
	case 449:
		return ramp(4_200_000, 180_000)
	case 1001:
		return delayed(wave(0.91, 0.93))
	case 1002:
		return delayed(wave(0.84, 0.86))
	case 1003:
		return delayed(num(0.41))
	case 1004:
		return delayed(wave(0.38, 0.42))
	case 1005:
		return delayed(wave(0.57, 0.55))
	case 1006:
		return delayed(num(0))
	case 1007:
		return delayed(num(0.12))
	case 1008:
		return delayed(num(0.05))
	case 1009:
		return delayed(wave(1.2e9, 1.25e9))
	case 1010:
		return delayed(wave(9.1e8, 9.3e8))
	case 1011:
		return delayed(wave(3.1e10, 3.2e10))
	case 1012:
		return delayed(wave(3.0e10, 3.05e10))
	case 1013:
		return delayed(num(0))
	case 1014:
		return delayed(num(0.36))
	case 1420:
		return ramp(48_000_000_000, 120_000_000)
	case 1421, 1422, 1423, 1424:
		return num(0)
	}
	return Script{}
}

func delayed(s Script) Script {
	s.Delay = profilingDelay
	return s
}

func engineFigures(start, end backend.EngineStats) func(int) (backend.EngineStats, error) {
	return func(n int) (backend.EngineStats, error) {
		if n == 0 {
			return start, nil
		}
		return end, nil
	}
}

// latencies are per-Latest costs of an embedded engine (in-process).
var embeddedLatency = []time.Duration{120 * time.Microsecond, 150 * time.Microsecond, 135 * time.Microsecond, 410 * time.Microsecond}

// standaloneLatency adds the IPC to a host engine.
var standaloneLatency = []time.Duration{310 * time.Microsecond, 345 * time.Microsecond, 330 * time.Microsecond, 1250 * time.Microsecond}

// datacenter: two H100 SXM, everything reports. XID is blank (no event),
// NVENC is absent (206 reads 0), the fan sensor is missing.
func datacenter() Scenario {
	const h100 = "NVIDIA H100 80GB HBM3"
	return Scenario{
		Name:    "datacenter",
		Backend: backend.NameDCGMEmbedded,
		GPUs: []backend.GPU{
			gpu(0, h100, "GPU-6f1c9d2e-0000-4a3b-9c1d-000000000000"),
			gpu(1, h100, "GPU-6f1c9d2e-0001-4a3b-9c1d-000000000001"),
		},
		Profiling: map[string]Profiling{h100: {Groups: hopperGroups()}},
		Values: func(g backend.GPU, e backend.Entity, f uint16) Script {
			return busy(h100, g, f)
		},
		Engine: engineFigures(
			backend.EngineStats{CPUPercent: 1.5, MemoryKB: 20480},
			backend.EngineStats{CPUPercent: 2.25, MemoryKB: 21504},
		),
		Latency:   embeddedLatency,
		WatchCost: 20 * time.Millisecond,
		InitCost:  350 * time.Millisecond,
	}
}

// mig: one A100 in MIG mode with three GPU instances. The coarse
// utilization fields are NOT_SUPPORTED on the GPU; profiling and memory
// fields report per instance; profiling fields read blank on the parent
// GPU entity. The host engine cannot be introspected.
func mig() Scenario {
	const a100 = "NVIDIA A100-SXM4-80GB"
	g := gpu(0, a100, "GPU-1a2b3c4d-0000-4e5f-8a9b-000000000000")
	g.MIG = true
	for i, n := range []uint{3, 2, 2} {
		g.Instances = append(g.Instances, backend.Instance{
			Entity:        backend.Entity{Kind: backend.KindGPUInstance, ID: uint(i)},
			GPUInstanceID: uint(i + 1),
			Slices:        n,
		})
	}
	return Scenario{
		Name:      "mig",
		Backend:   backend.NameDCGMEmbedded,
		GPUs:      []backend.GPU{g},
		Profiling: map[string]Profiling{a100: {Groups: ampereGroups()}},
		Values: func(g backend.GPU, e backend.Entity, f uint16) Script {
			if e.Kind == backend.KindGPUInstance {
				share := float64(e.ID+1) / 4
				switch f {
				case 230:
					return sentinel(Blank)
				case 250:
					return num(19968 * float64(e.ID+1))
				case 251:
					return num(1024)
				case 252:
					return num(18000 * float64(e.ID+1))
				case 253:
					return num(0)
				case 1001, 1002, 1004, 1005:
					return delayed(wave(share, share+0.05))
				case 1003, 1006, 1007, 1008:
					return delayed(num(0))
				}
				return Script{}
			}
			switch f {
			case 67:
				return num(1)
			case 203, 204, 206, 207:
				return sentinel32(NotSupported)
			case 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008:
				return delayed(sentinel(Blank))
			}
			return busy(a100, g, f)
		},
		Engine: func(int) (backend.EngineStats, error) {
			return backend.EngineStats{}, &backend.Error{Op: "introspect", Code: backend.CodeModuleNotLoaded, Msg: msgModuleNotLoaded}
		},
		Latency:   embeddedLatency,
		WatchCost: 20 * time.Millisecond,
		InitCost:  350 * time.Millisecond,
	}
}

// consumerValues is a GeForce card: no ECC, no row remapping, no NVLink,
// memory temperature missing (int32 sentinel), clock-event counters blank.
func consumerValues(model string, g backend.GPU, f uint16) Script {
	switch f {
	case 140:
		return sentinel32(NotSupported)
	case 191:
		return wave(30, 31)
	case 206:
		return num(3)
	case 250:
		return num(24564)
	case 251:
		return wave(20100, 20040)
	case 252:
		return wave(4100, 4160)
	case 253:
		return num(304)
	case 300, 310, 311, 312, 313, 390, 391, 392:
		return sentinel(NotSupported)
	case 393, 394, 395:
		return sentinel32(NotSupported)
	case 409, 419, 429, 439:
		return sentinel(NotSupported)
	case 449:
		return status(backend.CodeNotSupported)
	case 1420, 1421, 1422, 1423, 1424:
		return sentinel(Blank)
	}
	return busy(model, g, f)
}

// consumer: one GeForce RTX 4090; no profiling module.
func consumer() Scenario {
	const rtx = "NVIDIA GeForce RTX 4090"
	return Scenario{
		Name:    "consumer",
		Backend: backend.NameDCGMEmbedded,
		GPUs:    []backend.GPU{gpu(0, rtx, "GPU-9e8d7c6b-0000-4a5b-8c7d-000000000000")},
		Profiling: map[string]Profiling{rtx: {
			Err: &backend.Error{Op: "profiling", Code: backend.CodeModuleNotLoaded, Msg: msgModuleNotLoaded},
		}},
		Values: func(g backend.GPU, e backend.Entity, f uint16) Script {
			return consumerValues(rtx, g, f)
		},
		Engine: engineFigures(
			backend.EngineStats{CPUPercent: 0.75, MemoryKB: 18432},
			backend.EngineStats{CPUPercent: 0.8, MemoryKB: 18432},
		),
		Latency:   embeddedLatency,
		WatchCost: 20 * time.Millisecond,
		InitCost:  350 * time.Millisecond,
	}
}

// mixed: GPU 0 is a workstation card without profiling, GPU 1 an A30 with
// it (dcgm-exporter PR #736). Profiling must be checked per model, not
// decided from GPU 0.
func mixed() Scenario {
	const ada = "NVIDIA RTX 2000 Ada Generation"
	const a30 = "NVIDIA A30"
	return Scenario{
		Name:    "mixed",
		Backend: backend.NameDCGMEmbedded,
		GPUs: []backend.GPU{
			gpu(0, ada, "GPU-2b3c4d5e-0000-4f60-9a1b-000000000000"),
			gpu(1, a30, "GPU-3c4d5e6f-0001-4071-8b2c-000000000001"),
		},
		Profiling: map[string]Profiling{
			ada: {Err: &backend.Error{Op: "profiling", Code: backend.CodeProfilingNotSupported, Msg: msgProfilingNotSup}},
			a30: {Groups: ampereGroups()},
		},
		Values: func(g backend.GPU, e backend.Entity, f uint16) Script {
			if g.Model == ada {
				return consumerValues(ada, g, f)
			}
			switch f {
			case 409, 419, 429, 439:
				return sentinel(NotSupported)
			case 449:
				return sentinel(NotSupported)
			case 1011, 1012:
				return delayed(sentinel(NotSupported))
			}
			return busy(a30, g, f)
		},
		Engine: engineFigures(
			backend.EngineStats{CPUPercent: 1.25, MemoryKB: 19456},
			backend.EngineStats{CPUPercent: 1.5, MemoryKB: 19968},
		),
		Latency:   embeddedLatency,
		WatchCost: 20 * time.Millisecond,
		InitCost:  350 * time.Millisecond,
	}
}

// profilerBusy: an A100 behind a running host engine while another
// profiler holds the counters: every watch with a profiling field fails
// with DCGM_ST_IN_USE.
func profilerBusy() Scenario {
	const a100 = "NVIDIA A100-SXM4-40GB"
	return Scenario{
		Name:      "profiler-busy",
		Backend:   backend.NameDCGMStandalone,
		Address:   "127.0.0.1:5555",
		GPUs:      []backend.GPU{gpu(0, a100, "GPU-4d5e6f70-0000-4182-9c3d-000000000000")},
		Profiling: map[string]Profiling{a100: {Groups: ampereGroups()}},
		Values: func(g backend.GPU, e backend.Entity, f uint16) Script {
			return busy(a100, g, f)
		},
		WatchErr: func(f uint16) error {
			if f >= 1001 && f <= 1014 {
				return &backend.Error{Op: "watch", Code: backend.CodeInUse, Msg: msgInUse}
			}
			return nil
		},
		Engine: engineFigures(
			backend.EngineStats{CPUPercent: 3.5, MemoryKB: 65536},
			backend.EngineStats{CPUPercent: 4.25, MemoryKB: 66560},
		),
		Latency:   standaloneLatency,
		WatchCost: 25 * time.Millisecond,
		InitCost:  40 * time.Millisecond,
	}
}

// noDCGM: libdcgm.so.4 is not installed.
func noDCGM() Scenario {
	return Scenario{
		Name:    "no-dcgm",
		Backend: backend.NameDCGMEmbedded,
		InitErr: &backend.MissingLibraryError{Library: backend.LibraryDCGM},
	}
}

// noGPUs: DCGM starts but sees no GPU (driver loaded, devices hidden).
func noGPUs() Scenario {
	return Scenario{
		Name:     "no-gpus",
		Backend:  backend.NameDCGMEmbedded,
		InitCost: 350 * time.Millisecond,
	}
}

// nvmlOnly: the NVML fallback on an L4: no profiling, no engine, no
// timestamps, XID seen as "no event".
func nvmlOnly() Scenario {
	const l4 = "NVIDIA L4"
	return Scenario{
		Name:    "nvml",
		Backend: backend.NameNVML,
		GPUs:    []backend.GPU{gpu(0, l4, "GPU-5e6f7081-0000-4293-8d4e-000000000000")},
		Profiling: map[string]Profiling{l4: {
			Err: &backend.Error{Op: "profiling", Code: backend.CodeNotSupported, Msg: "nvml has no profiling (dcp) module"},
		}},
		Values: func(g backend.GPU, e backend.Entity, f uint16) Script {
			switch f {
			case 230:
				return status(backend.CodeNoData)
			case 409, 419, 429, 439, 449:
				return status(backend.CodeNotSupported)
			case 393, 394, 395:
				return num(0)
			}
			return busy(l4, g, f)
		},
		Latency:      []time.Duration{40 * time.Microsecond, 55 * time.Microsecond},
		NoTimestamps: true,
	}
}
