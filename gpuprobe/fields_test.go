package gpuprobe_test

import (
	"slices"
	"testing"

	"github.com/aiobs/aiobs/gpuprobe"
	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/fake"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

func TestTheFieldSetIsConsistent(t *testing.T) {
	fields := gpuprobe.Fields()
	names := map[string]uint16{}
	for i, f := range fields {
		if i > 0 && fields[i-1].ID >= f.ID {
			t.Errorf("field %d is not in ascending ID order after %d", f.ID, fields[i-1].ID)
		}
		for _, n := range []string{f.Name, f.Metric} {
			if other, ok := names[n]; ok && other != f.ID {
				t.Errorf("name %s is used by fields %d and %d", n, other, f.ID)
			}
			names[n] = f.ID
		}
		if f.Profiling != slices.Contains(f.Caps, report.CapDCP) {
			t.Errorf("field %d: profiling %v but caps %v", f.ID, f.Profiling, f.Caps)
		}
		for _, c := range f.Caps {
			if !slices.Contains(report.CapabilityNames(), c) || c == report.CapMIG {
				t.Errorf("field %d: capability %q is not a field family", f.ID, c)
			}
		}
		for _, s := range f.Substitutes {
			if _, ok := gpuprobe.FieldByID(s); !ok || s == f.ID {
				t.Errorf("field %d: substitute %d is not another field of the set", f.ID, s)
			}
		}
		switch f.Type {
		case backend.TypeInt64, backend.TypeDouble, backend.TypeString:
		default:
			t.Errorf("field %d: type %q", f.ID, f.Type)
		}
		if got := fake.FieldType(f.ID); got != f.Type {
			t.Errorf("field %d: the fake encodes it as %q, the set says %q", f.ID, got, f.Type)
		}
		if byName, ok := gpuprobe.FieldByName(f.Metric); !ok || byName.ID != f.ID {
			t.Errorf("FieldByName(%s) = %d, %v", f.Metric, byName.ID, ok)
		}
	}
	for _, c := range []string{report.CapDCP, report.CapNVLink, report.CapECC, report.CapXID, report.CapThrottle} {
		if !slices.ContainsFunc(fields, func(f gpuprobe.Field) bool { return slices.Contains(f.Caps, c) }) {
			t.Errorf("no field is evidence for %s", c)
		}
	}
}

func TestFieldsReturnsACopy(t *testing.T) {
	a := gpuprobe.Fields()
	a[0].Name = "changed"
	a[len(a)-1].Caps[0] = "changed"
	b := gpuprobe.Fields()
	if b[0].Name == "changed" || b[len(b)-1].Caps[0] == "changed" {
		t.Error("Fields shares memory with the catalog")
	}
}
