// Package backend holds the neutral types that cross the seam between
// gpuprobe and its backends: the DCGM and NVML adapters and the scripted
// fake.
//
// Nothing from go-dcgm or go-nvml appears here, so gpuprobe, the fake and
// the tests build with CGO_ENABLED=0. Status codes use DCGM's dcgmReturn_t
// numbering because DCGM is the primary backend; the NVML adapter maps its
// own return codes onto them. This package must not know about fields,
// classification or the report.
package backend

import (
	"errors"
	"fmt"
	"time"
)

// Names a backend reports from Name and in Info.
const (
	NameDCGMEmbedded   = "dcgm-embedded"
	NameDCGMStandalone = "dcgm-standalone"
	NameNVML           = "nvml"
)

// Libraries the real backends load with dlopen at run time.
const (
	LibraryDCGM = "libdcgm.so.4"
	LibraryNVML = "libnvidia-ml.so.1"
)

// Kind is the kind of an entity, numbered like DCGM's
// dcgm_field_entity_group_t so adapters can convert with a cast.
type Kind uint8

// Entity kinds gpuprobe uses.
const (
	KindGlobal          Kind = 0 // DCGM_FE_NONE: node-wide fields such as the driver version
	KindGPU             Kind = 1 // DCGM_FE_GPU
	KindVGPU            Kind = 2 // DCGM_FE_VGPU
	KindGPUInstance     Kind = 4 // DCGM_FE_GPU_I: a MIG GPU instance
	KindComputeInstance Kind = 5 // DCGM_FE_GPU_CI: a MIG compute instance
)

// String returns the kind as the report spells it.
func (k Kind) String() string {
	switch k {
	case KindGlobal:
		return "global"
	case KindGPU:
		return "gpu"
	case KindVGPU:
		return "vgpu"
	case KindGPUInstance:
		return "gpu_instance"
	case KindComputeInstance:
		return "compute_instance"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Entity names one thing fields are read from.
type Entity struct {
	Kind Kind
	ID   uint
}

// Info describes an initialised backend.
type Info struct {
	Name    string // one of the Name constants
	Address string // host engine address for dcgm-standalone
	// Fallback says why an earlier backend was not used; set by gpuprobe.Open.
	Fallback string
}

// GPU is one physical GPU and, under MIG, its GPU instances.
type GPU struct {
	ID        uint // DCGM GPU id or NVML index
	UUID      string
	Model     string
	MIG       bool
	Instances []Instance
}

// Instance is a MIG GPU instance.
type Instance struct {
	Entity        Entity // Kind is KindGPUInstance
	GPUInstanceID uint   // NVML GPU instance id, as dcgm-exporter's GPU_I_ID label
	Slices        uint   // profile size in slices, 0 when unknown
}

// MetricGroup is one profiling metric group of a GPU: fields in the same
// group can be watched together.
type MetricGroup struct {
	Major  uint
	Minor  uint
	Fields []uint16
}

// WatchID identifies a watch a backend made; Unwatch releases it.
type WatchID uint64

// WatchSpec asks a backend to sample Fields on Entities every Every.
// A backend makes the watch all-or-nothing, as DCGM does: if one field
// cannot be watched the call fails and leaves nothing behind.
type WatchSpec struct {
	Entities    []Entity
	Fields      []uint16
	Every       time.Duration
	KeepAge     time.Duration
	KeepSamples int // 0 keeps every sample younger than KeepAge
}

// Value types, as DCGM's DCGM_FT_* bytes.
const (
	TypeInt64     byte = 'i'
	TypeDouble    byte = 'd'
	TypeString    byte = 's'
	TypeBinary    byte = 'b'
	TypeTimestamp byte = 't'
)

// Sample is the latest value of one field of one entity.
// Status is the per-value dcgmReturn_t; DCGM often reports "no value" with
// Status 0 and a sentinel inside the value (see the sentinel constants).
type Sample struct {
	Field  uint16
	Type   byte
	Status int
	TS     int64 // microseconds since the epoch when the value was taken; 0 when the backend has none
	Int    int64
	Float  float64
	Str    string
}

// EngineStats is the host engine's own cost.
type EngineStats struct {
	CPUPercent float64
	MemoryKB   int64
}

// DCGM return codes gpuprobe cares about (dcgmReturn_t in dcgm_structs.h).
const (
	CodeOK                    = 0
	CodeBadParam              = -1
	CodeGenericError          = -3
	CodeNotSupported          = -6
	CodeUnknownField          = -13
	CodeNoData                = -14
	CodeNotWatched            = -16
	CodeNoPermission          = -17
	CodeFunctionNotFound      = -20
	CodeConnectionNotValid    = -21
	CodeMaxLimit              = -24
	CodeLibraryNotFound       = -25
	CodeRequiresRoot          = -29
	CodeFieldUnsupportedByAPI = -32
	CodeModuleNotLoaded       = -33
	CodeInUse                 = -34
	CodeProfilingNotSupported = -36
	CodeProfilingLibraryError = -37
)

// Sentinels DCGM stores inside a value to say it has none (dcgm_fields.h).
// Integer fields backed by a 32-bit value arrive widened to int64, so both
// integer families must be checked, as dcgm-exporter does.
const (
	Int32Blank           int64 = 0x7ffffff0
	Int32NotFound        int64 = Int32Blank + 1
	Int32NotSupported    int64 = Int32Blank + 2
	Int32NotPermissioned int64 = Int32Blank + 3

	Int64Blank           int64 = 0x7ffffffffffffff0
	Int64NotFound        int64 = Int64Blank + 1
	Int64NotSupported    int64 = Int64Blank + 2
	Int64NotPermissioned int64 = Int64Blank + 3

	FP64Blank           float64 = 140737488355328.0 // 2^47
	FP64NotFound        float64 = FP64Blank + 1
	FP64NotSupported    float64 = FP64Blank + 2
	FP64NotPermissioned float64 = FP64Blank + 3

	StrBlank           = "<<<NULL>>>"
	StrNotFound        = "<<<NOT_FOUND>>>"
	StrNotSupported    = "<<<NOT_SUPPORTED>>>"
	StrNotPermissioned = "<<<NOT_PERMISSIONED>>>"
)

// Errors shared by all backends.
var (
	// ErrNotOpen is returned by every call but Init before Init succeeded,
	// and by every call after Shutdown. Adapters return it instead of
	// reaching C, where such a call ends the process.
	ErrNotOpen = errors.New("backend not open")
	// ErrUnavailable is returned by the adapters of a build without cgo.
	ErrUnavailable = errors.New("unavailable: built without cgo")
	// ErrLibraryNotFound is wrapped by *MissingLibraryError.
	ErrLibraryNotFound = errors.New("library not found")
	// ErrUnsupported is returned for an operation a backend's library lacks
	// (NVML has no host engine to measure).
	ErrUnsupported = errors.New("not supported by this backend")
)

// MissingLibraryError says that dlopen could not find a backend's library.
type MissingLibraryError struct {
	Library string // LibraryDCGM or LibraryNVML
}

// Error names the missing library.
func (e *MissingLibraryError) Error() string { return e.Library + " not found" }

// Unwrap lets errors.Is match ErrLibraryNotFound.
func (e *MissingLibraryError) Unwrap() error { return ErrLibraryNotFound }

// Error is a failed backend call with the DCGM return code it produced.
// Code is 0 when the backend gave only a message that maps to no code.
type Error struct {
	Op   string // "init", "watch", "latest", "profiling", ...
	Code int
	Msg  string
}

// Error gives the operation, the message and the DCGM code when known.
func (e *Error) Error() string {
	if e.Code == 0 {
		return e.Op + ": " + e.Msg
	}
	return fmt.Sprintf("%s: %s (dcgm code %d)", e.Op, e.Msg, e.Code)
}
