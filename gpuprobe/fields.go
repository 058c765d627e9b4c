package gpuprobe

import (
	"slices"

	"github.com/aiobs/aiobs/gpuprobe/report"
)

// Kind says how a field's values behave over time.
type Kind uint8

// Field kinds.
const (
	Gauge   Kind = iota + 1 // a level: temperature, utilization
	Counter                 // only grows: energy, error totals
	Event                   // last event: XID; blank until one happens
	Label                   // a string dcgm-exporter puts on a label
)

// Level is the lowest entity a field is meaningful on (DCGM's entity level).
type Level uint8

// Field levels.
const (
	LevelGlobal          Level = iota + 1 // node-wide
	LevelGPU                              // the physical GPU only
	LevelGPUInstance                      // also per MIG GPU instance
	LevelComputeInstance                  // also per MIG compute instance (probed on GPU instances)
	LevelVGPU                             // vGPU hosts only
)

// Field is one DCGM field gpuprobe checks.
type Field struct {
	ID uint16
	// Name is the DCGM 4.6 name; older names are aliases with the same ID.
	Name string
	// Metric is the metric name dcgm-exporter (≤ 4.8) gives the field, the
	// first column of its counters CSV.
	Metric string
	Type   byte // backend.TypeInt64, TypeDouble or TypeString
	Kind   Kind
	Level  Level
	// Profiling fields need DCGM's profiling (DCP) module.
	Profiling bool
	// Caps are the capability flags (report.Cap*) the field is evidence for.
	Caps []string
	// Default: active in dcgm-exporter's default-counters.csv.
	Default bool
	// Substitutes can stand in for this field when it has no data, best first.
	Substitutes []uint16
}

// instanceLevel reports whether the field is also probed on MIG instances.
func (f Field) instanceLevel() bool {
	return f.Level == LevelGPUInstance || f.Level == LevelComputeInstance
}

// catalog is the GPU field set from the DCGM reference (§2): dcgm-exporter's
// default counters plus profiling, NVLink, ECC, clock-event (throttle) and
// XID fields. IDs never change across DCGM releases; names do.
//
// The standard's CUE catalogue will own this table later; until then it is
// data here, kept in ID order.
var catalog = []Field{
	{ID: 1, Name: "DCGM_FI_SYSTEM_DRIVER_VERSION", Metric: "DCGM_FI_DRIVER_VERSION", Type: 's', Kind: Label, Level: LevelGlobal, Default: true},
	{ID: 50, Name: "DCGM_FI_DEV_GPU_NAME", Metric: "DCGM_FI_DEV_NAME", Type: 's', Kind: Label, Level: LevelGPU},
	{ID: 54, Name: "DCGM_FI_DEV_GPU_UUID", Metric: "DCGM_FI_DEV_UUID", Type: 's', Kind: Label, Level: LevelGPU},
	{ID: 63, Name: "DCGM_FI_CUDA_GPU_COMPUTE_CAPABILITY", Metric: "DCGM_FI_DEV_CUDA_COMPUTE_CAPABILITY", Type: 'i', Kind: Gauge, Level: LevelGPU},
	{ID: 67, Name: "DCGM_FI_DEV_MIG_MODE", Metric: "DCGM_FI_DEV_MIG_MODE", Type: 'i', Kind: Gauge, Level: LevelGPU},
	{ID: 100, Name: "DCGM_FI_DEV_SM_CLOCK", Metric: "DCGM_FI_DEV_SM_CLOCK", Type: 'i', Kind: Gauge, Level: LevelGPU, Default: true},
	{ID: 101, Name: "DCGM_FI_DEV_MEM_CLOCK", Metric: "DCGM_FI_DEV_MEM_CLOCK", Type: 'i', Kind: Gauge, Level: LevelGPU, Default: true},
	{ID: 112, Name: "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", Metric: "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", Type: 'i', Kind: Gauge, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 140, Name: "DCGM_FI_DEV_MEMORY_TEMP_CELSIUS", Metric: "DCGM_FI_DEV_MEMORY_TEMP", Type: 'i', Kind: Gauge, Level: LevelGPU, Default: true},
	{ID: 150, Name: "DCGM_FI_DEV_GPU_TEMP_CELSIUS", Metric: "DCGM_FI_DEV_GPU_TEMP", Type: 'i', Kind: Gauge, Level: LevelGPU, Default: true},
	{ID: 155, Name: "DCGM_FI_DEV_BOARD_POWER_WATTS", Metric: "DCGM_FI_DEV_POWER_USAGE", Type: 'd', Kind: Gauge, Level: LevelGPU, Default: true},
	{ID: 156, Name: "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", Metric: "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", Type: 'i', Kind: Counter, Level: LevelGPU, Default: true},
	{ID: 160, Name: "DCGM_FI_DEV_BOARD_POWER_LIMIT_REQUESTED_WATTS", Metric: "DCGM_FI_DEV_POWER_MGMT_LIMIT", Type: 'd', Kind: Gauge, Level: LevelGPU},
	{ID: 164, Name: "DCGM_FI_DEV_BOARD_POWER_LIMIT_ENFORCED_WATTS", Metric: "DCGM_FI_DEV_ENFORCED_POWER_LIMIT", Type: 'd', Kind: Gauge, Level: LevelGPU},
	{ID: 190, Name: "DCGM_FI_DEV_GPU_PSTATE", Metric: "DCGM_FI_DEV_PSTATE", Type: 'i', Kind: Gauge, Level: LevelGPU},
	{ID: 191, Name: "DCGM_FI_DEV_FAN_SPEED", Metric: "DCGM_FI_DEV_FAN_SPEED", Type: 'i', Kind: Gauge, Level: LevelGPU},
	{ID: 202, Name: "DCGM_FI_DEV_PCIE_REPLAY_TOTAL", Metric: "DCGM_FI_DEV_PCIE_REPLAY_COUNTER", Type: 'i', Kind: Counter, Level: LevelGPU, Default: true},
	{ID: 203, Name: "DCGM_FI_DEV_GPU_UTIL_RATIO", Metric: "DCGM_FI_DEV_GPU_UTIL", Type: 'i', Kind: Gauge, Level: LevelGPU, Default: true, Substitutes: []uint16{1001, 1002}},
	{ID: 204, Name: "DCGM_FI_DEV_MEM_COPY_UTIL", Metric: "DCGM_FI_DEV_MEM_COPY_UTIL", Type: 'i', Kind: Gauge, Level: LevelGPU, Default: true, Substitutes: []uint16{1005}},
	{ID: 206, Name: "DCGM_FI_DEV_ENC_UTIL", Metric: "DCGM_FI_DEV_ENC_UTIL", Type: 'i', Kind: Gauge, Level: LevelGPU, Default: true},
	{ID: 207, Name: "DCGM_FI_DEV_DEC_UTIL", Metric: "DCGM_FI_DEV_DEC_UTIL", Type: 'i', Kind: Gauge, Level: LevelGPU, Default: true},
	{ID: 230, Name: "DCGM_FI_DEV_XID_ERROR", Metric: "DCGM_FI_DEV_XID_ERRORS", Type: 'i', Kind: Event, Level: LevelComputeInstance, Caps: []string{report.CapXID}, Default: true},
	{ID: 240, Name: "DCGM_FI_DEV_POWER_VIOLATION", Metric: "DCGM_FI_DEV_POWER_VIOLATION", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 241, Name: "DCGM_FI_DEV_THERMAL_VIOLATION", Metric: "DCGM_FI_DEV_THERMAL_VIOLATION", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 242, Name: "DCGM_FI_DEV_SYNC_BOOST_VIOLATION", Metric: "DCGM_FI_DEV_SYNC_BOOST_VIOLATION", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 243, Name: "DCGM_FI_DEV_BOARD_LIMIT_VIOLATION", Metric: "DCGM_FI_DEV_BOARD_LIMIT_VIOLATION", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 244, Name: "DCGM_FI_DEV_LOW_UTIL_VIOLATION", Metric: "DCGM_FI_DEV_LOW_UTIL_VIOLATION", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 245, Name: "DCGM_FI_DEV_RELIABILITY_VIOLATION", Metric: "DCGM_FI_DEV_RELIABILITY_VIOLATION", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 250, Name: "DCGM_FI_DEV_FB_TOTAL", Metric: "DCGM_FI_DEV_FB_TOTAL", Type: 'i', Kind: Gauge, Level: LevelComputeInstance},
	{ID: 251, Name: "DCGM_FI_DEV_FB_FREE", Metric: "DCGM_FI_DEV_FB_FREE", Type: 'i', Kind: Gauge, Level: LevelComputeInstance, Default: true},
	{ID: 252, Name: "DCGM_FI_DEV_FB_USED", Metric: "DCGM_FI_DEV_FB_USED", Type: 'i', Kind: Gauge, Level: LevelComputeInstance, Default: true},
	{ID: 253, Name: "DCGM_FI_DEV_FB_RESERVED", Metric: "DCGM_FI_DEV_FB_RESERVED", Type: 'i', Kind: Gauge, Level: LevelComputeInstance, Default: true},
	{ID: 300, Name: "DCGM_FI_DEV_ECC_MODE", Metric: "DCGM_FI_DEV_ECC_CURRENT", Type: 'i', Kind: Gauge, Level: LevelGPU},
	{ID: 310, Name: "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", Metric: "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapECC}},
	{ID: 311, Name: "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", Metric: "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapECC}},
	{ID: 312, Name: "DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", Metric: "DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapECC}},
	{ID: 313, Name: "DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", Metric: "DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapECC}},
	{ID: 390, Name: "DCGM_FI_DEV_PAGE_RETIRED_SBE_TOTAL", Metric: "DCGM_FI_DEV_RETIRED_SBE", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapECC}},
	{ID: 391, Name: "DCGM_FI_DEV_PAGE_RETIRED_DBE_TOTAL", Metric: "DCGM_FI_DEV_RETIRED_DBE", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapECC}},
	{ID: 392, Name: "DCGM_FI_DEV_PAGE_RETIRED_PENDING", Metric: "DCGM_FI_DEV_RETIRED_PENDING", Type: 'i', Kind: Gauge, Level: LevelGPU, Caps: []string{report.CapECC}},
	{ID: 393, Name: "DCGM_FI_DEV_ROW_REMAP_UNCORRECTABLE_TOTAL", Metric: "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapECC}, Default: true, Substitutes: []uint16{391}},
	{ID: 394, Name: "DCGM_FI_DEV_ROW_REMAP_CORRECTABLE_TOTAL", Metric: "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapECC}, Default: true, Substitutes: []uint16{390}},
	{ID: 395, Name: "DCGM_FI_DEV_ROW_REMAP_FAILED", Metric: "DCGM_FI_DEV_ROW_REMAP_FAILURE", Type: 'i', Kind: Gauge, Level: LevelGPU, Caps: []string{report.CapECC}, Default: true},
	{ID: 409, Name: "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_TOTAL", Metric: "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapNVLink}},
	{ID: 419, Name: "DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_TOTAL", Metric: "DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapNVLink}},
	{ID: 429, Name: "DCGM_FI_DEV_NVLINK_REPLAY_ERROR_TOTAL", Metric: "DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapNVLink}},
	{ID: 439, Name: "DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_TOTAL", Metric: "DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapNVLink}},
	{ID: 449, Name: "DCGM_FI_DEV_NVLINK_THROUGHPUT_TOTAL", Metric: "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapNVLink}, Default: true, Substitutes: []uint16{1011}},
	{ID: 526, Name: "DCGM_FI_DEV_VGPU_LICENSE_STATUS", Metric: "DCGM_FI_DEV_VGPU_LICENSE_STATUS", Type: 'i', Kind: Gauge, Level: LevelVGPU, Default: true},
	{ID: 1001, Name: "DCGM_FI_PROF_GR_ENGINE_UTIL_RATIO", Metric: "DCGM_FI_PROF_GR_ENGINE_ACTIVE", Type: 'd', Kind: Gauge, Level: LevelComputeInstance, Profiling: true, Caps: []string{report.CapDCP}, Default: true, Substitutes: []uint16{203}},
	{ID: 1002, Name: "DCGM_FI_PROF_SM_UTIL_RATIO", Metric: "DCGM_FI_PROF_SM_ACTIVE", Type: 'd', Kind: Gauge, Level: LevelComputeInstance, Profiling: true, Caps: []string{report.CapDCP}, Substitutes: []uint16{1001, 203}},
	{ID: 1003, Name: "DCGM_FI_PROF_SM_OCCUPANCY_RATIO", Metric: "DCGM_FI_PROF_SM_OCCUPANCY", Type: 'd', Kind: Gauge, Level: LevelComputeInstance, Profiling: true, Caps: []string{report.CapDCP}},
	{ID: 1004, Name: "DCGM_FI_PROF_TENSOR_UTIL_RATIO", Metric: "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", Type: 'd', Kind: Gauge, Level: LevelComputeInstance, Profiling: true, Caps: []string{report.CapDCP}, Default: true},
	{ID: 1005, Name: "DCGM_FI_PROF_DRAM_UTIL_RATIO", Metric: "DCGM_FI_PROF_DRAM_ACTIVE", Type: 'd', Kind: Gauge, Level: LevelGPUInstance, Profiling: true, Caps: []string{report.CapDCP}, Default: true, Substitutes: []uint16{204}},
	{ID: 1006, Name: "DCGM_FI_PROF_FP64_UTIL_RATIO", Metric: "DCGM_FI_PROF_PIPE_FP64_ACTIVE", Type: 'd', Kind: Gauge, Level: LevelComputeInstance, Profiling: true, Caps: []string{report.CapDCP}},
	{ID: 1007, Name: "DCGM_FI_PROF_FP32_UTIL_RATIO", Metric: "DCGM_FI_PROF_PIPE_FP32_ACTIVE", Type: 'd', Kind: Gauge, Level: LevelComputeInstance, Profiling: true, Caps: []string{report.CapDCP}},
	{ID: 1008, Name: "DCGM_FI_PROF_FP16_UTIL_RATIO", Metric: "DCGM_FI_PROF_PIPE_FP16_ACTIVE", Type: 'd', Kind: Gauge, Level: LevelComputeInstance, Profiling: true, Caps: []string{report.CapDCP}},
	{ID: 1009, Name: "DCGM_FI_PROF_PCIE_TX_BYTES", Metric: "DCGM_FI_PROF_PCIE_TX_BYTES", Type: 'i', Kind: Gauge, Level: LevelGPU, Profiling: true, Caps: []string{report.CapDCP}, Default: true},
	{ID: 1010, Name: "DCGM_FI_PROF_PCIE_RX_BYTES", Metric: "DCGM_FI_PROF_PCIE_RX_BYTES", Type: 'i', Kind: Gauge, Level: LevelGPU, Profiling: true, Caps: []string{report.CapDCP}, Default: true},
	{ID: 1011, Name: "DCGM_FI_PROF_NVLINK_TX_BYTES", Metric: "DCGM_FI_PROF_NVLINK_TX_BYTES", Type: 'i', Kind: Gauge, Level: LevelGPU, Profiling: true, Caps: []string{report.CapDCP, report.CapNVLink}, Substitutes: []uint16{449}},
	{ID: 1012, Name: "DCGM_FI_PROF_NVLINK_RX_BYTES", Metric: "DCGM_FI_PROF_NVLINK_RX_BYTES", Type: 'i', Kind: Gauge, Level: LevelGPU, Profiling: true, Caps: []string{report.CapDCP, report.CapNVLink}, Substitutes: []uint16{449}},
	{ID: 1013, Name: "DCGM_FI_PROF_IMMA_UTIL_RATIO", Metric: "DCGM_FI_PROF_PIPE_TENSOR_IMMA_ACTIVE", Type: 'd', Kind: Gauge, Level: LevelComputeInstance, Profiling: true, Caps: []string{report.CapDCP}},
	{ID: 1014, Name: "DCGM_FI_PROF_HMMA_UTIL_RATIO", Metric: "DCGM_FI_PROF_PIPE_TENSOR_HMMA_ACTIVE", Type: 'd', Kind: Gauge, Level: LevelComputeInstance, Profiling: true, Caps: []string{report.CapDCP}},
	{ID: 1420, Name: "DCGM_FI_DEV_CLOCKS_EVENT_REASON_SW_POWER_CAP_NS", Metric: "DCGM_FI_DEV_CLOCKS_EVENT_REASON_SW_POWER_CAP_NS", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 1421, Name: "DCGM_FI_DEV_CLOCKS_EVENT_REASON_SYNC_BOOST_NS", Metric: "DCGM_FI_DEV_CLOCKS_EVENT_REASON_SYNC_BOOST_NS", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 1422, Name: "DCGM_FI_DEV_CLOCKS_EVENT_REASON_SW_THERM_SLOWDOWN_NS", Metric: "DCGM_FI_DEV_CLOCKS_EVENT_REASON_SW_THERM_SLOWDOWN_NS", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 1423, Name: "DCGM_FI_DEV_CLOCKS_EVENT_REASON_HW_THERM_SLOWDOWN_NS", Metric: "DCGM_FI_DEV_CLOCKS_EVENT_REASON_HW_THERM_SLOWDOWN_NS", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
	{ID: 1424, Name: "DCGM_FI_DEV_CLOCKS_EVENT_REASON_HW_POWER_BRAKE_SLOWDOWN_NS", Metric: "DCGM_FI_DEV_CLOCKS_EVENT_REASON_HW_POWER_BRAKE_SLOWDOWN_NS", Type: 'i', Kind: Counter, Level: LevelGPU, Caps: []string{report.CapThrottle}},
}

// Fields returns the field set gpuprobe checks by default, in ID order.
// The result is a copy.
func Fields() []Field {
	out := slices.Clone(catalog)
	for i := range out {
		out[i].Caps = slices.Clone(out[i].Caps)
		out[i].Substitutes = slices.Clone(out[i].Substitutes)
	}
	return out
}

// FieldByName finds a field by its DCGM name, old or new, or by its
// exporter metric name.
func FieldByName(name string) (Field, bool) {
	for _, f := range Fields() {
		if f.Name == name || f.Metric == name {
			return f, true
		}
	}
	return Field{}, false
}

// FieldByID finds a field of the set by ID.
func FieldByID(id uint16) (Field, bool) {
	for _, f := range Fields() {
		if f.ID == id {
			return f, true
		}
	}
	return Field{}, false
}
