// Package dcgm adapts go-dcgm to gpuprobe's Backend seam.
//
// In: a Config (empty Address: embedded host engine; otherwise the address
// of a running nv-hostengine). Out: a Backend whose methods speak only
// gpuprobe/backend types; no go-dcgm type leaves this package.
//
// go-dcgm is used only in a file built with cgo on linux; without cgo the
// stub makes Init fail with backend.ErrUnavailable. Every call reaches
// go-dcgm through internal/guard, which refuses all calls before a
// successful Init and after Shutdown: libdcgm.so.4 is loaded at run time and
// any call before a successful dcgm.Init ends the process. The adapter
// never uses go-dcgm's StartHostengine mode, whose shutdown can stop the
// node's own nv-hostengine.
package dcgm

import (
	"strings"
	"sync/atomic"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/internal/guard"
)

// Config selects the DCGM mode.
type Config struct {
	// Address of a running nv-hostengine: "host:port", a unix socket path,
	// or a tcp://, unix://, vsock:// connection string (DCGM ≥ 4.5). Empty
	// starts an embedded host engine inside this process.
	Address string
}

// Backend is a DCGM backend; its methods are those of gpuprobe.Backend.
type Backend struct {
	*guard.Guard
}

// open is set while a DCGM backend of this process is open: go-dcgm keeps
// one global handle per process.
var open atomic.Bool

// New returns an uninitialised DCGM backend. Nothing is loaded until Init.
func New(cfg Config) *Backend {
	name := backend.NameDCGMEmbedded
	if cfg.Address != "" {
		name = backend.NameDCGMStandalone
	}
	info := backend.Info{Name: name, Address: cfg.Address}
	return &Backend{Guard: guard.New(name, info, &open, func() (guard.Lib, error) { return initLib(cfg) })}
}

// standaloneArgs turns an address into go-dcgm's Standalone arguments.
func standaloneArgs(address string) []string {
	lower := strings.ToLower(address)
	switch {
	case strings.HasPrefix(lower, "tcp://"), strings.HasPrefix(lower, "unix://"), strings.HasPrefix(lower, "vsock://"):
		return []string{address}
	case strings.HasPrefix(address, "/"):
		return []string{address, "1"}
	}
	return []string{address, "0"}
}

// initError classifies a dcgm.Init error. go-dcgm returns plain fmt errors
// from Init, so the message is all there is.
func initError(err error) error {
	msg := err.Error()
	if msg == backend.LibraryDCGM+" not found" {
		return &backend.MissingLibraryError{Library: backend.LibraryDCGM}
	}
	code, text := codeFromMessage(msg)
	return &backend.Error{Op: "init", Code: code, Msg: text}
}

// messages maps libdcgm's errorString texts (DCGM dcgm_errors.c) to
// dcgmReturn_t codes. go-dcgm returns most errors as plain fmt errors
// ("error watching fields: Feature not supported"), so the code has to be
// recovered from the text; a message not listed keeps code 0.
var messages = []struct {
	text string
	code int
}{
	{"Bad parameter passed to function", -1},
	{"Generic unspecified error", -3},
	{"Out of memory error", -4},
	{"Setting not configured", -5},
	{"Feature not supported", -6},
	{"DCGM initialization error", -7},
	{"NVML error", -8},
	{"Object is in a pending state", -9},
	{"Object is in an undefined state", -10},
	{"Timeout", -11},
	{"API version mismatch", -12},
	{"Unknown field identifier", -13},
	{"No data is available", -14},
	{"Only stale data is available", -15},
	{"Field is not being watched", -16},
	{"No permission", -17},
	{"GPU is lost", -18},
	{"GPU requires reset", -19},
	{"The requested function was not found", -20},
	{"Host engine connection invalid/disconnected", -21},
	{"This GPU is not supported by DCGM", -22},
	{"The GPUs of this group are incompatible with each other for the requested operation", -23},
	{"Max limit reached for the object", -24},
	{"DCGM library could not be found", -25},
	{"Duplicate Key passed to function", -26},
	{"Host engine is running as non-root", -29},
	{"An input argument is not large enough", -31},
	{"The given field ID is not supported by the API being called", -32},
	{"This request is serviced by a module of DCGM that is not currently loaded", -33},
	{"The requested operation could not be completed because the affected resource is in use", -34},
	{"The specified group is empty, and this operation is incompatible with an empty group", -35},
	{"Profiling is not supported for this group of GPUs or GPU", -36},
	{"The third-party Profiling module returned an unrecoverable error", -37},
	{"The requested profiling metrics cannot be collected in a single pass", -38},
	{"The installed driver version is insufficient for this API", -44},
	{"Detected an error in a 3rd-party library", -48},
	{"Not enough resources available", -49},
}

// codeFromMessage finds the DCGM code of an error message and returns the
// libdcgm part of the text (without go-dcgm's "error watching fields: "
// prefix). go-dcgm appends the library text last, so a suffix match is
// exact; the longest match wins ("Timeout" is a suffix of nothing else,
// but keep it safe).
func codeFromMessage(msg string) (int, string) {
	trimmed := strings.TrimSuffix(strings.TrimSpace(msg), ".")
	best := -1
	for i, m := range messages {
		if strings.HasSuffix(trimmed, m.text) && (best < 0 || len(m.text) > len(messages[best].text)) {
			best = i
		}
	}
	if best < 0 {
		return 0, msg
	}
	return messages[best].code, messages[best].text
}
