//go:build cgo && linux

package nvml

import (
	"encoding/binary"
	"fmt"
	"math"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/internal/guard"
)

// lib is an initialised go-nvml. Only initLib creates one, after
// nvml.Init succeeded.
type lib struct {
	nv      gonvml.Interface
	has     map[string]bool // NVML symbols present in the loaded library
	gpu     map[uint16]reader
	devices []gonvml.Device
	migs    map[uint]gonvml.Device // GPU instance entity id -> a MIG device of it
	next    backend.WatchID
	watches map[backend.WatchID]bool
}

// reader reads one DCGM field through NVML. sym is the C function go-nvml
// calls; it is checked before the call because calling a function the
// installed driver lacks ends the process.
type reader struct {
	sym  string
	read func(d gonvml.Device) backend.Sample
}

const (
	symFieldValues   = "nvmlDeviceGetFieldValues"
	symMemoryV2      = "nvmlDeviceGetMemoryInfo_v2"
	symMemory        = "nvmlDeviceGetMemoryInfo"
	symEventReasons  = "nvmlDeviceGetCurrentClocksEventReasons"
	symDriverVersion = "nvmlSystemGetDriverVersion"
	symName          = "nvmlDeviceGetName"
	symUUID          = "nvmlDeviceGetUUID"
	symMigMode       = "nvmlDeviceGetMigMode"
	symMaxMig        = "nvmlDeviceGetMaxMigDeviceCount"
	symMigHandle     = "nvmlDeviceGetMigDeviceHandleByIndex"
	symGPUInstanceID = "nvmlDeviceGetGpuInstanceId"
)

func initLib() (guard.Lib, error) {
	nv := gonvml.New()
	switch ret := nv.Init(); ret {
	case gonvml.SUCCESS:
	case gonvml.ERROR_LIBRARY_NOT_FOUND:
		return nil, &backend.MissingLibraryError{Library: backend.LibraryNVML}
	default:
		return nil, &backend.Error{Op: "init", Code: code(ret), Msg: retName(ret)}
	}
	l := &lib{nv: nv, has: map[string]bool{}, gpu: map[uint16]reader{}, migs: map[uint]gonvml.Device{}, watches: map[backend.WatchID]bool{}}
	ext := nv.Extensions()
	lookup := func(sym string) bool {
		if _, ok := l.has[sym]; !ok {
			l.has[sym] = ext.LookupSymbol(sym) == nil
		}
		return l.has[sym]
	}
	for _, s := range []string{symFieldValues, symMemoryV2, symMemory, symDriverVersion,
		symName, symUUID, symMigMode, symMaxMig, symMigHandle, symGPUInstanceID} {
		lookup(s)
	}
	// Each field takes the first NVML call the installed driver has; with
	// none, the first one stays and reads as "function not found".
	for id, alts := range gpuReaders() {
		l.gpu[id] = alts[0]
		for _, r := range alts {
			if lookup(r.sym) {
				l.gpu[id] = r
				break
			}
		}
	}
	return l, nil
}

func (l *lib) GPUs() ([]backend.GPU, error) {
	n, ret := l.nv.DeviceGetCount()
	if ret != gonvml.SUCCESS {
		return nil, &backend.Error{Op: "gpus", Code: code(ret), Msg: retName(ret)}
	}
	l.devices = l.devices[:0]
	clear(l.migs)
	var gpus []backend.GPU
	nextEntity := uint(0)
	for i := 0; i < n; i++ {
		d, ret := l.nv.DeviceGetHandleByIndex(i)
		if ret != gonvml.SUCCESS {
			return nil, &backend.Error{Op: "gpus", Code: code(ret), Msg: fmt.Sprintf("gpu %d: %s", i, retName(ret))}
		}
		l.devices = append(l.devices, d)
		g := backend.GPU{ID: uint(i)}
		if l.has[symName] {
			if v, r := d.GetName(); r == gonvml.SUCCESS {
				g.Model = v
			}
		}
		if l.has[symUUID] {
			if v, r := d.GetUUID(); r == gonvml.SUCCESS {
				g.UUID = v
			}
		}
		if l.has[symMigMode] {
			if cur, _, r := d.GetMigMode(); r == gonvml.SUCCESS && cur == gonvml.DEVICE_MIG_ENABLE {
				g.MIG = true
			}
		}
		if g.MIG && l.has[symMaxMig] && l.has[symMigHandle] && l.has[symGPUInstanceID] {
			max, r := d.GetMaxMigDeviceCount()
			seen := map[int]bool{}
			for j := 0; r == gonvml.SUCCESS && j < max; j++ {
				md, mr := d.GetMigDeviceHandleByIndex(j)
				if mr != gonvml.SUCCESS {
					continue
				}
				gi, gr := md.GetGpuInstanceId()
				if gr != gonvml.SUCCESS || seen[gi] {
					continue
				}
				// One MIG device per GPU instance: NVML's MIG devices are
				// compute instances, gpuprobe reports per GPU instance.
				seen[gi] = true
				l.migs[nextEntity] = md
				g.Instances = append(g.Instances, backend.Instance{
					Entity:        backend.Entity{Kind: backend.KindGPUInstance, ID: nextEntity},
					GPUInstanceID: uint(gi),
				})
				nextEntity++
			}
		}
		gpus = append(gpus, g)
	}
	return gpus, nil
}

func (l *lib) ProfilingGroups(uint) ([]backend.MetricGroup, error) {
	return nil, &backend.Error{Op: "profiling", Code: backend.CodeNotSupported, Msg: "nvml has no profiling (dcp) module"}
}

// Watch only records the request: NVML reads are live, there is nothing to
// watch.
func (l *lib) Watch(backend.WatchSpec) (backend.WatchID, error) {
	l.next++
	l.watches[l.next] = true
	return l.next, nil
}

func (l *lib) Unwatch(id backend.WatchID) error {
	if !l.watches[id] {
		return &backend.Error{Op: "unwatch", Code: backend.CodeBadParam, Msg: fmt.Sprintf("unknown watch %d", id)}
	}
	delete(l.watches, id)
	return nil
}

func (l *lib) Latest(e backend.Entity, fields []uint16) ([]backend.Sample, error) {
	out := make([]backend.Sample, len(fields))
	for i, f := range fields {
		var s backend.Sample
		switch e.Kind {
		case backend.KindGlobal:
			s = l.readGlobal(f)
		case backend.KindGPU:
			if e.ID >= uint(len(l.devices)) {
				return nil, &backend.Error{Op: "latest", Code: backend.CodeBadParam, Msg: fmt.Sprintf("unknown gpu %d", e.ID)}
			}
			s = l.readGPU(l.devices[e.ID], f)
		case backend.KindGPUInstance:
			md, ok := l.migs[e.ID]
			if !ok {
				return nil, &backend.Error{Op: "latest", Code: backend.CodeBadParam, Msg: fmt.Sprintf("unknown gpu instance %d", e.ID)}
			}
			s = l.readMIG(md, f)
		default:
			s = backend.Sample{Status: backend.CodeNotSupported}
		}
		s.Field = f
		out[i] = s
	}
	return out, nil
}

func (l *lib) readGlobal(f uint16) backend.Sample {
	if f != 1 {
		return backend.Sample{Status: backend.CodeNotSupported}
	}
	if !l.has[symDriverVersion] {
		return backend.Sample{Type: backend.TypeString, Status: backend.CodeFunctionNotFound}
	}
	v, r := l.nv.SystemGetDriverVersion()
	return str(v, r)
}

func (l *lib) readGPU(d gonvml.Device, f uint16) backend.Sample {
	switch f {
	case 230:
		// XID errors arrive as NVML events; without an event set nothing
		// was seen, which is also what DCGM ≥ 4.5 reports until an XID.
		return backend.Sample{Type: backend.TypeInt64, Status: backend.CodeNoData}
	case 250, 251, 252, 253:
		return l.readMemory(d, f)
	}
	r, ok := l.gpu[f]
	if !ok {
		return backend.Sample{Status: backend.CodeNotSupported}
	}
	if r.sym != "" && !l.has[r.sym] {
		return backend.Sample{Status: backend.CodeFunctionNotFound}
	}
	return r.read(d)
}

// readMIG reads a field on a MIG device: only memory is per instance in
// NVML.
func (l *lib) readMIG(d gonvml.Device, f uint16) backend.Sample {
	switch f {
	case 230:
		return backend.Sample{Type: backend.TypeInt64, Status: backend.CodeNoData}
	case 250, 251, 252, 253:
		return l.readMemory(d, f)
	}
	return backend.Sample{Status: backend.CodeNotSupported}
}

// readMemory reads framebuffer sizes in MiB, as DCGM reports them.
func (l *lib) readMemory(d gonvml.Device, f uint16) backend.Sample {
	const mib = 1 << 20
	if l.has[symMemoryV2] {
		m, r := d.GetMemoryInfo_v2()
		v := map[uint16]uint64{250: m.Total, 251: m.Free, 252: m.Used, 253: m.Reserved}[f]
		return i64(int64(v/mib), r)
	}
	if !l.has[symMemory] {
		return backend.Sample{Status: backend.CodeFunctionNotFound}
	}
	if f == 253 {
		return backend.Sample{Type: backend.TypeInt64, Status: backend.CodeNotSupported}
	}
	m, r := d.GetMemoryInfo()
	v := map[uint16]uint64{250: m.Total, 251: m.Free, 252: m.Used}[f]
	return i64(int64(v/mib), r)
}

func (l *lib) EngineStats() (backend.EngineStats, error) {
	return backend.EngineStats{}, fmt.Errorf("nvml has no host engine: %w", backend.ErrUnsupported)
}

func (l *lib) Shutdown() error {
	clear(l.watches)
	if ret := l.nv.Shutdown(); ret != gonvml.SUCCESS {
		return &backend.Error{Op: "shutdown", Code: code(ret), Msg: retName(ret)}
	}
	return nil
}

// gpuReaders maps DCGM field IDs to the NVML calls behind them, preferred
// first (DCGM reference §6). Units follow DCGM: MHz, °C, W, mJ, ns.
func gpuReaders() map[uint16][]reader {
	clock := func(t gonvml.ClockType) reader {
		return reader{"nvmlDeviceGetClockInfo", func(d gonvml.Device) backend.Sample {
			v, r := d.GetClockInfo(t)
			return i64(int64(v), r)
		}}
	}
	violation := func(p gonvml.PerfPolicyType) reader {
		return reader{"nvmlDeviceGetViolationStatus", func(d gonvml.Device) backend.Sample {
			v, r := d.GetViolationStatus(p)
			return i64(int64(v.ViolationTime), r)
		}}
	}
	ecc := func(t gonvml.MemoryErrorType, c gonvml.EccCounterType) reader {
		return reader{"nvmlDeviceGetTotalEccErrors", func(d gonvml.Device) backend.Sample {
			v, r := d.GetTotalEccErrors(t, c)
			return i64(int64(v), r)
		}}
	}
	retired := func(c gonvml.PageRetirementCause) reader {
		return reader{"nvmlDeviceGetRetiredPages", func(d gonvml.Device) backend.Sample {
			v, r := d.GetRetiredPages(c)
			return i64(int64(len(v)), r)
		}}
	}
	remapped := func(pick func(corr, unc int, pending, failed bool) int64) reader {
		return reader{"nvmlDeviceGetRemappedRows", func(d gonvml.Device) backend.Sample {
			corr, unc, pending, failed, r := d.GetRemappedRows()
			return i64(pick(corr, unc, pending, failed), r)
		}}
	}
	field := func(id uint32) reader {
		return reader{symFieldValues, func(d gonvml.Device) backend.Sample { return fieldValue(d, id) }}
	}
	watts := func(sym string, get func(d gonvml.Device) (uint32, gonvml.Return)) reader {
		return reader{sym, func(d gonvml.Device) backend.Sample {
			v, r := get(d)
			return f64(float64(v)/1000, r)
		}}
	}
	u32 := func(sym string, get func(d gonvml.Device) (uint32, gonvml.Return)) reader {
		return reader{sym, func(d gonvml.Device) backend.Sample {
			v, r := get(d)
			return i64(int64(v), r)
		}}
	}
	return map[uint16][]reader{
		50: {{symName, func(d gonvml.Device) backend.Sample { return str(d.GetName()) }}},
		54: {{symUUID, func(d gonvml.Device) backend.Sample { return str(d.GetUUID()) }}},
		63: {{"nvmlDeviceGetCudaComputeCapability", func(d gonvml.Device) backend.Sample {
			major, minor, r := d.GetCudaComputeCapability()
			return i64(int64(major)<<16|int64(minor), r) // DCGM's encoding
		}}},
		67: {{symMigMode, func(d gonvml.Device) backend.Sample {
			cur, _, r := d.GetMigMode()
			return i64(int64(cur), r)
		}}},
		100: {clock(gonvml.CLOCK_SM)},
		101: {clock(gonvml.CLOCK_MEM)},
		112: {
			{symEventReasons, func(d gonvml.Device) backend.Sample {
				v, r := d.GetCurrentClocksEventReasons()
				return i64(int64(v), r)
			}},
			// Drivers before r535 call them throttle reasons.
			{"nvmlDeviceGetCurrentClocksThrottleReasons", func(d gonvml.Device) backend.Sample {
				v, r := d.GetCurrentClocksThrottleReasons()
				return i64(int64(v), r)
			}},
		},
		140: {field(gonvml.FI_DEV_MEMORY_TEMP)},
		150: {
			{"nvmlDeviceGetTemperature", func(d gonvml.Device) backend.Sample {
				v, r := d.GetTemperature(gonvml.TEMPERATURE_GPU)
				return i64(int64(v), r)
			}},
			// For drivers that drop the deprecated call; sensor 0 is the GPU.
			{"nvmlDeviceGetTemperatureV", func(d gonvml.Device) backend.Sample {
				v, r := d.GetTemperatureV().V1()
				return i64(int64(v.Temperature), r)
			}},
		},
		155: {watts("nvmlDeviceGetPowerUsage", gonvml.Device.GetPowerUsage)},
		156: {{"nvmlDeviceGetTotalEnergyConsumption", func(d gonvml.Device) backend.Sample {
			v, r := d.GetTotalEnergyConsumption()
			return i64(int64(v), r)
		}}},
		160: {watts("nvmlDeviceGetPowerManagementLimit", gonvml.Device.GetPowerManagementLimit)},
		164: {watts("nvmlDeviceGetEnforcedPowerLimit", gonvml.Device.GetEnforcedPowerLimit)},
		190: {{"nvmlDeviceGetPerformanceState", func(d gonvml.Device) backend.Sample {
			v, r := d.GetPerformanceState()
			return i64(int64(v), r)
		}}},
		191: {u32("nvmlDeviceGetFanSpeed", gonvml.Device.GetFanSpeed)},
		202: {{"nvmlDeviceGetPcieReplayCounter", func(d gonvml.Device) backend.Sample {
			v, r := d.GetPcieReplayCounter()
			return i64(int64(v), r)
		}}},
		203: {{"nvmlDeviceGetUtilizationRates", func(d gonvml.Device) backend.Sample {
			u, r := d.GetUtilizationRates()
			return i64(int64(u.Gpu), r)
		}}},
		204: {{"nvmlDeviceGetUtilizationRates", func(d gonvml.Device) backend.Sample {
			u, r := d.GetUtilizationRates()
			return i64(int64(u.Memory), r)
		}}},
		206: {{"nvmlDeviceGetEncoderUtilization", func(d gonvml.Device) backend.Sample {
			v, _, r := d.GetEncoderUtilization()
			return i64(int64(v), r)
		}}},
		207: {{"nvmlDeviceGetDecoderUtilization", func(d gonvml.Device) backend.Sample {
			v, _, r := d.GetDecoderUtilization()
			return i64(int64(v), r)
		}}},
		240: {violation(gonvml.PERF_POLICY_POWER)},
		241: {violation(gonvml.PERF_POLICY_THERMAL)},
		242: {violation(gonvml.PERF_POLICY_SYNC_BOOST)},
		243: {violation(gonvml.PERF_POLICY_BOARD_LIMIT)},
		244: {violation(gonvml.PERF_POLICY_LOW_UTILIZATION)},
		245: {violation(gonvml.PERF_POLICY_RELIABILITY)},
		300: {{"nvmlDeviceGetEccMode", func(d gonvml.Device) backend.Sample {
			cur, _, r := d.GetEccMode()
			return i64(int64(cur), r)
		}}},
		310: {ecc(gonvml.MEMORY_ERROR_TYPE_CORRECTED, gonvml.VOLATILE_ECC)},
		311: {ecc(gonvml.MEMORY_ERROR_TYPE_UNCORRECTED, gonvml.VOLATILE_ECC)},
		312: {ecc(gonvml.MEMORY_ERROR_TYPE_CORRECTED, gonvml.AGGREGATE_ECC)},
		313: {ecc(gonvml.MEMORY_ERROR_TYPE_UNCORRECTED, gonvml.AGGREGATE_ECC)},
		390: {retired(gonvml.PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS)},
		391: {retired(gonvml.PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR)},
		392: {{"nvmlDeviceGetRetiredPagesPendingStatus", func(d gonvml.Device) backend.Sample {
			v, r := d.GetRetiredPagesPendingStatus()
			return i64(int64(v), r)
		}}},
		393:  {remapped(func(_, unc int, _, _ bool) int64 { return int64(unc) })},
		394:  {remapped(func(corr, _ int, _, _ bool) int64 { return int64(corr) })},
		395:  {remapped(func(_, _ int, _, failed bool) int64 { return boolInt(failed) })},
		409:  {field(gonvml.FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL)},
		419:  {field(gonvml.FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL)},
		429:  {field(gonvml.FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL)},
		439:  {field(gonvml.FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL)},
		449:  {field(gonvml.FI_DEV_NVLINK_BANDWIDTH_C0_TOTAL)},
		1420: {field(gonvml.FI_DEV_CLOCKS_EVENT_REASON_SW_POWER_CAP)},
		1421: {field(gonvml.FI_DEV_CLOCKS_EVENT_REASON_SYNC_BOOST)},
		1422: {field(gonvml.FI_DEV_CLOCKS_EVENT_REASON_SW_THERM_SLOWDOWN)},
		1423: {field(gonvml.FI_DEV_CLOCKS_EVENT_REASON_HW_THERM_SLOWDOWN)},
		1424: {field(gonvml.FI_DEV_CLOCKS_EVENT_REASON_HW_POWER_BRAKE_SLOWDOWN)},
	}
}

// fieldValue reads one NVML field (nvmlDeviceGetFieldValues).
func fieldValue(d gonvml.Device, id uint32) backend.Sample {
	values := []gonvml.FieldValue{{FieldId: id}}
	if r := d.GetFieldValues(values); r != gonvml.SUCCESS {
		return backend.Sample{Type: backend.TypeInt64, Status: code(r)}
	}
	v := values[0]
	if r := gonvml.Return(v.NvmlReturn); r != gonvml.SUCCESS {
		return backend.Sample{Type: backend.TypeInt64, Status: code(r)}
	}
	b := v.Value[:]
	switch gonvml.ValueType(v.ValueType) {
	case gonvml.VALUE_TYPE_DOUBLE:
		return f64(math.Float64frombits(binary.NativeEndian.Uint64(b)), gonvml.SUCCESS)
	case gonvml.VALUE_TYPE_UNSIGNED_INT:
		return i64(int64(binary.NativeEndian.Uint32(b)), gonvml.SUCCESS)
	case gonvml.VALUE_TYPE_SIGNED_INT:
		return i64(int64(int32(binary.NativeEndian.Uint32(b))), gonvml.SUCCESS)
	case gonvml.VALUE_TYPE_UNSIGNED_LONG, gonvml.VALUE_TYPE_UNSIGNED_LONG_LONG, gonvml.VALUE_TYPE_SIGNED_LONG_LONG:
		return i64(int64(binary.NativeEndian.Uint64(b)), gonvml.SUCCESS)
	}
	return backend.Sample{Type: backend.TypeInt64, Status: backend.CodeNotSupported}
}

func i64(v int64, r gonvml.Return) backend.Sample {
	return backend.Sample{Type: backend.TypeInt64, Int: v, Status: code(r)}
}

func f64(v float64, r gonvml.Return) backend.Sample {
	return backend.Sample{Type: backend.TypeDouble, Float: v, Status: code(r)}
}

func str(v string, r gonvml.Return) backend.Sample {
	return backend.Sample{Type: backend.TypeString, Str: v, Status: code(r)}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// code maps an NVML return onto the DCGM code gpuprobe classifies.
func code(r gonvml.Return) int {
	switch r {
	case gonvml.SUCCESS:
		return backend.CodeOK
	case gonvml.ERROR_NOT_SUPPORTED, gonvml.ERROR_NOT_FOUND:
		return backend.CodeNotSupported
	case gonvml.ERROR_NO_PERMISSION:
		return backend.CodeNoPermission
	case gonvml.ERROR_NO_DATA:
		return backend.CodeNoData
	case gonvml.ERROR_FUNCTION_NOT_FOUND:
		return backend.CodeFunctionNotFound
	case gonvml.ERROR_INVALID_ARGUMENT:
		return backend.CodeBadParam
	case gonvml.ERROR_LIBRARY_NOT_FOUND:
		return backend.CodeLibraryNotFound
	}
	return backend.CodeGenericError
}

// retName names an NVML return without calling into the library
// (nvml.Return.Error may call nvmlErrorString).
func retName(r gonvml.Return) string {
	switch r {
	case gonvml.ERROR_UNINITIALIZED:
		return "nvml not initialised"
	case gonvml.ERROR_DRIVER_NOT_LOADED:
		return "nvidia driver not loaded"
	case gonvml.ERROR_NO_PERMISSION:
		return "no permission"
	case gonvml.ERROR_LIB_RM_VERSION_MISMATCH:
		return "nvml library and kernel driver versions differ"
	case gonvml.ERROR_GPU_IS_LOST:
		return "gpu is lost"
	case gonvml.ERROR_NOT_SUPPORTED:
		return "not supported"
	}
	return fmt.Sprintf("nvml error %d", int32(r))
}
