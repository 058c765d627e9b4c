//go:build cgo && linux

package dcgm

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// aiobs_has_symbol looks a function up in an already loaded library.
// RTLD_NOLOAD never loads anything; it only finds what go-dcgm loaded.
static int aiobs_has_symbol(const char *lib, const char *sym) {
	void *h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD);
	if (h == NULL) return 0;
	int ok = dlsym(h, sym) != NULL;
	dlclose(h);
	return ok;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
	"unsafe"

	godcgm "github.com/NVIDIA/go-dcgm/pkg/dcgm"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/internal/guard"
)

// Identity fields read once per GPU: name, UUID, MIG mode. Read through our
// own watch instead of dcgm.GetDeviceInfo, which creates groups and watches
// (CPU affinity, PCIe, topology) and never unwatches them.
const (
	fieldName    godcgm.Short = 50
	fieldUUID    godcgm.Short = 54
	fieldMIGMode godcgm.Short = 67
)

// lib is an initialised go-dcgm. Only initLib creates one, after
// dcgm.Init succeeded.
type lib struct {
	prefix  string
	seq     int
	next    backend.WatchID
	watches map[backend.WatchID]handles
	has     map[string]bool // optional libdcgm functions present
}

// Functions of libdcgm.so.4 that go-dcgm calls for us. Calling one the
// installed library lacks ends the process (undefined symbol), exactly like
// a call before Init, so each is looked up first. Without a required one
// the backend does not open; without an optional one that feature reports
// an error.
var (
	requiredSymbols = []string{
		"dcgmGetEntityGroupEntities", "dcgmEntityGetLatestValues", "dcgmUpdateAllFields",
		"dcgmFieldGroupCreate", "dcgmFieldGroupDestroy", "dcgmGroupCreate", "dcgmGroupDestroy",
		"dcgmGroupAddEntity", "dcgmWatchFields", "dcgmUnwatchFields",
	}
	optionalSymbols = []string{
		symHierarchy, symProfiling, symIntrospectMemory, symIntrospectCPU,
	}
)

const (
	symHierarchy        = "dcgmGetGpuInstanceHierarchy"
	symProfiling        = "dcgmProfGetSupportedMetricGroups"
	symIntrospectMemory = "dcgmIntrospectGetHostengineMemoryUsage"
	symIntrospectCPU    = "dcgmIntrospectGetHostengineCpuUtilization"
)

// hasSymbol reports whether the already loaded library exports sym.
func hasSymbol(library, sym string) bool {
	lib := C.CString(library)
	defer C.free(unsafe.Pointer(lib))
	cs := C.CString(sym)
	defer C.free(unsafe.Pointer(cs))
	return C.aiobs_has_symbol(lib, cs) != 0
}

// handles are the group and field group behind one watch.
type handles struct {
	group  godcgm.GroupHandle
	fields godcgm.FieldHandle
}

func initLib(cfg Config) (guard.Lib, error) {
	var err error
	if cfg.Address == "" {
		_, err = godcgm.Init(godcgm.Embedded)
	} else {
		_, err = godcgm.Init(godcgm.Standalone, standaloneArgs(cfg.Address)...)
	}
	if err != nil {
		return nil, initError(err)
	}
	var missing []string
	for _, sym := range requiredSymbols {
		if !hasSymbol(backend.LibraryDCGM, sym) {
			missing = append(missing, sym)
		}
	}
	if len(missing) > 0 {
		_ = godcgm.Shutdown()
		return nil, &backend.Error{Op: "init", Code: backend.CodeFunctionNotFound,
			Msg: fmt.Sprintf("%s lacks %v; install a newer DCGM 4", backend.LibraryDCGM, missing)}
	}
	l := &lib{
		// Group names must be unique per host engine, which other clients
		// (dcgm-exporter, another gpuprobe) share in standalone mode.
		prefix:  fmt.Sprintf("aiobs-gpuprobe-%d-%d", os.Getpid(), time.Now().UnixNano()),
		watches: map[backend.WatchID]handles{},
		has:     map[string]bool{},
	}
	for _, sym := range optionalSymbols {
		l.has[sym] = hasSymbol(backend.LibraryDCGM, sym)
	}
	return l, nil
}

func missingFunction(op, sym string) error {
	return &backend.Error{Op: op, Code: backend.CodeFunctionNotFound, Msg: backend.LibraryDCGM + " lacks " + sym}
}

// wrap turns a go-dcgm error into a *backend.Error with its DCGM code.
func wrap(op string, err error) error {
	var de *godcgm.Error
	if errors.As(err, &de) {
		return &backend.Error{Op: op, Code: int(de.Code), Msg: de.Error()}
	}
	code, text := codeFromMessage(err.Error())
	return &backend.Error{Op: op, Code: code, Msg: text}
}

func (l *lib) name(kind string) string {
	l.seq++
	return fmt.Sprintf("%s-%s%d", l.prefix, kind, l.seq)
}

func (l *lib) GPUs() ([]backend.GPU, error) {
	ids, err := godcgm.GetEntityGroupEntities(godcgm.FE_GPU)
	if err != nil {
		return nil, wrap("gpus", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	gpus := make([]backend.GPU, len(ids))
	entities := make([]backend.Entity, len(ids))
	for i, id := range ids {
		gpus[i].ID = id
		entities[i] = backend.Entity{Kind: backend.KindGPU, ID: id}
	}

	w, err := l.Watch(backend.WatchSpec{Entities: entities, Fields: []uint16{50, 54, 67}, Every: time.Second, KeepSamples: 1})
	if err != nil {
		return nil, err
	}
	for i := range gpus {
		values, err := godcgm.EntityGetLatestValues(godcgm.FE_GPU, gpus[i].ID, []godcgm.Short{fieldName, fieldUUID, fieldMIGMode})
		if err != nil {
			_ = l.Unwatch(w)
			return nil, wrap("gpus", err)
		}
		for _, v := range values {
			s := sample(v)
			if s.Status != backend.CodeOK {
				continue
			}
			switch v.FieldID {
			case fieldName:
				gpus[i].Model = cleanString(s.Str)
			case fieldUUID:
				gpus[i].UUID = cleanString(s.Str)
			case fieldMIGMode:
				gpus[i].MIG = s.Int == 1
			}
		}
	}
	if err := l.Unwatch(w); err != nil {
		return nil, err
	}

	// The MIG hierarchy is empty without MIG; an error here only means no
	// instances are known.
	if !l.has[symHierarchy] {
		return gpus, nil
	}
	h, err := godcgm.GetGPUInstanceHierarchy()
	if err == nil {
		for i := uint(0); i < h.Count && i < uint(len(h.EntityList)); i++ {
			e := h.EntityList[i]
			if e.Entity.EntityGroupId != godcgm.FE_GPU_I || e.Parent.EntityGroupId != godcgm.FE_GPU {
				continue
			}
			for j := range gpus {
				if gpus[j].ID == e.Parent.EntityId {
					gpus[j].MIG = true
					gpus[j].Instances = append(gpus[j].Instances, backend.Instance{
						Entity:        backend.Entity{Kind: backend.KindGPUInstance, ID: e.Entity.EntityId},
						GPUInstanceID: e.Info.NvmlInstanceId,
						Slices:        e.Info.NvmlProfileSlices,
					})
				}
			}
		}
	}
	return gpus, nil
}

// cleanString drops DCGM's string sentinels.
func cleanString(s string) string {
	switch s {
	case backend.StrBlank, backend.StrNotFound, backend.StrNotSupported, backend.StrNotPermissioned:
		return ""
	}
	return s
}

func (l *lib) ProfilingGroups(gpu uint) ([]backend.MetricGroup, error) {
	if !l.has[symProfiling] {
		return nil, missingFunction("profiling", symProfiling)
	}
	groups, err := godcgm.GetSupportedMetricGroups(gpu)
	if err != nil {
		return nil, wrap("profiling", err)
	}
	out := make([]backend.MetricGroup, len(groups))
	for i, g := range groups {
		out[i] = backend.MetricGroup{Major: g.Major, Minor: g.Minor}
		for _, id := range g.FieldIds {
			out[i].Fields = append(out[i].Fields, uint16(id))
		}
	}
	return out, nil
}

// Watch creates a field group and an entity group and watches one with the
// other. On any failure it removes what it created, so a failed watch
// leaves nothing on a shared host engine.
func (l *lib) Watch(spec backend.WatchSpec) (id backend.WatchID, err error) {
	fields := make([]godcgm.Short, len(spec.Fields))
	for i, f := range spec.Fields {
		fields[i] = godcgm.Short(f)
	}
	fg, err := godcgm.FieldGroupCreate(l.name("f"), fields)
	if err != nil {
		return 0, wrap("watch", err)
	}
	group, err := godcgm.CreateGroup(l.name("g"))
	if err != nil {
		_ = godcgm.FieldGroupDestroy(fg)
		return 0, wrap("watch", err)
	}
	release := func() {
		_ = godcgm.DestroyGroup(group)
		_ = godcgm.FieldGroupDestroy(fg)
	}
	for _, e := range spec.Entities {
		if err := godcgm.AddEntityToGroup(group, godcgm.Field_Entity_Group(e.Kind), e.ID); err != nil {
			release()
			return 0, wrap("watch", err)
		}
	}
	err = godcgm.WatchFieldsWithGroupEx(fg, group, spec.Every.Microseconds(), spec.KeepAge.Seconds(), int32(spec.KeepSamples))
	if err != nil {
		// The watch may be half set (the forced update after it failed).
		_ = godcgm.UnwatchFields(fg, group)
		release()
		return 0, wrap("watch", err)
	}
	l.next++
	l.watches[l.next] = handles{group: group, fields: fg}
	return l.next, nil
}

func (l *lib) Unwatch(id backend.WatchID) error {
	h, ok := l.watches[id]
	if !ok {
		return &backend.Error{Op: "unwatch", Code: backend.CodeBadParam, Msg: fmt.Sprintf("unknown watch %d", id)}
	}
	delete(l.watches, id)
	var errs []error
	if err := godcgm.UnwatchFields(h.fields, h.group); err != nil {
		errs = append(errs, wrap("unwatch", err))
	}
	if err := godcgm.DestroyGroup(h.group); err != nil {
		errs = append(errs, wrap("destroy group", err))
	}
	if err := godcgm.FieldGroupDestroy(h.fields); err != nil {
		errs = append(errs, wrap("destroy field group", err))
	}
	return errors.Join(errs...)
}

func (l *lib) Latest(e backend.Entity, fields []uint16) ([]backend.Sample, error) {
	ids := make([]godcgm.Short, len(fields))
	for i, f := range fields {
		ids[i] = godcgm.Short(f)
	}
	values, err := godcgm.EntityGetLatestValues(godcgm.Field_Entity_Group(e.Kind), e.ID, ids)
	if err != nil {
		return nil, wrap("latest", err)
	}
	out := make([]backend.Sample, len(values))
	for i, v := range values {
		out[i] = sample(v)
	}
	return out, nil
}

func sample(v godcgm.FieldValue_v1) backend.Sample {
	s := backend.Sample{Field: uint16(v.FieldID), Type: byte(v.FieldType), Status: v.Status, TS: v.TS}
	switch s.Type {
	case backend.TypeInt64, backend.TypeTimestamp:
		s.Int = v.Int64()
	case backend.TypeDouble:
		s.Float = v.Float64()
	case backend.TypeString:
		s.Str = v.String()
	}
	return s
}

func (l *lib) EngineStats() (backend.EngineStats, error) {
	for _, sym := range []string{symIntrospectMemory, symIntrospectCPU} {
		if !l.has[sym] {
			return backend.EngineStats{}, missingFunction("introspect", sym)
		}
	}
	st, err := godcgm.Introspect()
	if err != nil {
		return backend.EngineStats{}, wrap("introspect", err)
	}
	return backend.EngineStats{CPUPercent: st.CPU, MemoryKB: st.Memory}, nil
}

// Shutdown removes every watch still held, newest first, then shuts DCGM
// down (which unloads libdcgm).
func (l *lib) Shutdown() error {
	ids := make([]backend.WatchID, 0, len(l.watches))
	for id := range l.watches {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var errs []error
	for i := len(ids) - 1; i >= 0; i-- {
		if err := l.Unwatch(ids[i]); err != nil {
			errs = append(errs, err)
		}
	}
	if err := godcgm.Shutdown(); err != nil {
		errs = append(errs, &backend.Error{Op: "shutdown", Msg: err.Error()})
	}
	return errors.Join(errs...)
}
