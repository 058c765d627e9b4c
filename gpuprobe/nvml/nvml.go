// Package nvml adapts go-nvml to gpuprobe's Backend seam: the fallback
// when DCGM is absent.
//
// In: nothing but the NVIDIA driver's libnvidia-ml.so.1 at run time. Out: a
// Backend that reads DCGM field IDs through the matching NVML calls. No
// go-nvml type leaves this package.
//
// What NVML can and cannot say: a value here means the hardware can report
// the field, not that dcgm-exporter (which needs DCGM) will export it. NVML
// has no profiling (DCP) module, no host engine to measure and no sample
// timestamps, so profiling fields come out not supported, engine cost
// unknown and the update interval unmeasured. Watches are bookkeeping only:
// every read is a live NVML call.
//
// go-nvml is used only in a file built with cgo on linux; without cgo the
// stub makes Init fail with backend.ErrUnavailable. Calls reach go-nvml only
// through internal/guard (nothing before a successful Init, nothing after
// Shutdown), and each NVML function is looked up in the loaded library
// before its first use: calling one the installed driver lacks ends the
// process, like calling before Init.
package nvml

import (
	"sync/atomic"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/internal/guard"
)

// Backend is an NVML backend; its methods are those of gpuprobe.Backend.
type Backend struct {
	*guard.Guard
}

// open is set while an NVML backend of this process is open.
var open atomic.Bool

// New returns an uninitialised NVML backend. Nothing is loaded until Init.
func New() *Backend {
	info := backend.Info{Name: backend.NameNVML}
	return &Backend{Guard: guard.New(backend.NameNVML, info, &open, initLib)}
}
