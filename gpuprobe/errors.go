package gpuprobe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aiobs/aiobs/gpuprobe/backend"
)

// NoBackendError says that no backend could be opened (exit code 3).
type NoBackendError struct {
	Tried []Attempt
}

// Attempt is one backend Open or Probe tried.
type Attempt struct {
	Backend string // backend name
	Library string // library it loads, e.g. libdcgm.so.4
	Err     error
}

// Error lists every attempt with its library and, where it helps, what to install.
func (e *NoBackendError) Error() string {
	if len(e.Tried) == 0 {
		return "no gpu backend could be opened: none was tried"
	}
	parts := make([]string, len(e.Tried))
	for i, a := range e.Tried {
		parts[i] = a.String()
	}
	return "no gpu backend could be opened: " + strings.Join(parts, "; ")
}

// Unwrap returns the attempts' errors, so errors.Is finds e.g.
// backend.ErrLibraryNotFound.
func (e *NoBackendError) Unwrap() []error {
	errs := make([]error, 0, len(e.Tried))
	for _, a := range e.Tried {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}

// String says what was tried, what happened and, for a missing library or
// a build without cgo, what to do.
func (a Attempt) String() string {
	var b strings.Builder
	b.WriteString(a.Backend)
	if a.Library != "" {
		fmt.Fprintf(&b, " (looked for %s)", a.Library)
	}
	fmt.Fprintf(&b, ": %v", a.Err)
	if hint := installHint(a.Library, a.Err); hint != "" {
		b.WriteString("; " + hint)
	}
	return b.String()
}

func installHint(library string, err error) string {
	switch {
	case errors.Is(err, backend.ErrUnavailable):
		return "rebuild aiobs with CGO_ENABLED=1 on linux to load " + library
	case !errors.Is(err, backend.ErrLibraryNotFound):
		return ""
	case library == backend.LibraryDCGM:
		return "install DCGM 4 (apt-get install datacenter-gpu-manager-4-core from the NVIDIA CUDA repository) or give the address of a running nv-hostengine"
	case library == backend.LibraryNVML:
		return "install the NVIDIA driver, which ships " + backend.LibraryNVML
	}
	return ""
}

// NoGPUError says that a backend opened but found no GPUs (exit code 4).
type NoGPUError struct {
	Backend string
}

// Error names the backend that saw no GPU.
func (e *NoGPUError) Error() string {
	return fmt.Sprintf("no gpus found by %s", e.Backend)
}

// MissingCapabilityError says that capabilities named in Options.Require
// are missing (exit code 5). Probe returns it with a complete report.
type MissingCapabilityError struct {
	Missing []string // sorted capability names
}

// Error lists the missing capabilities.
func (e *MissingCapabilityError) Error() string {
	return "required gpu capability missing: " + strings.Join(e.Missing, ", ")
}
