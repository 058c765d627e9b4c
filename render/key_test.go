package render

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/plan"
)

func examplePlan(t *testing.T) *plan.Plan {
	t.Helper()
	p, err := compile.Compile(context.Background(), "../examples", compile.Options{})
	if err != nil {
		t.Fatalf("compile examples: %v", err)
	}
	return p
}

type keyed struct {
	S     string
	I     int
	F     float64
	B     bool
	P     *keyed
	L     []string
	M     map[string]int
	Skip  string `key:"-"`
	Inner struct{ A, B string }
}

// TestDigestSeesEveryField changes each field of a value in turn and
// requires a new digest, except for the field tagged key:"-".
func TestDigestSeesEveryField(t *testing.T) {
	base := func() keyed {
		return keyed{S: "s", I: 1, F: 1.5, B: true, P: &keyed{S: "inner"}, L: []string{"a", "b"},
			M: map[string]int{"x": 1, "y": 2}, Skip: "skip", Inner: struct{ A, B string }{"a", "b"}}
	}
	want := digest(base())
	for name, change := range map[string]func(*keyed){
		"string":             func(k *keyed) { k.S = "t" },
		"int":                func(k *keyed) { k.I = 2 },
		"float":              func(k *keyed) { k.F = 2.5 },
		"bool":               func(k *keyed) { k.B = false },
		"pointer to nil":     func(k *keyed) { k.P = nil },
		"through pointer":    func(k *keyed) { k.P.S = "other" },
		"slice element":      func(k *keyed) { k.L[1] = "c" },
		"slice length":       func(k *keyed) { k.L = k.L[:1] },
		"strings regrouped":  func(k *keyed) { k.L = []string{"ab", ""} },
		"map value":          func(k *keyed) { k.M["y"] = 3 },
		"map key":            func(k *keyed) { delete(k.M, "y"); k.M["z"] = 2 },
		"nested struct":      func(k *keyed) { k.Inner.B = "c" },
		"fields swap values": func(k *keyed) { k.Inner.A, k.Inner.B = k.Inner.B, k.Inner.A },
	} {
		k := base()
		change(&k)
		if digest(k) == want {
			t.Errorf("%s: digest did not change", name)
		}
	}
	k := base()
	k.Skip = "changed"
	if digest(k) != want {
		t.Error("a field tagged key:\"-\" changed the digest")
	}
	for range 20 { // map iteration order must not matter
		if digest(base()) != want {
			t.Fatal("digest of equal values differs")
		}
	}
}

// TestTargetArtifactsReadOnlyWhatTheKeyHashes renders every target of the
// example from a copy of its inputs with every key:"-" field cleared
// (positions, the team's workload list) and requires the same bytes: a
// unit's key may leave those fields out only because no artifact reads
// them.
func TestTargetArtifactsReadOnlyWhatTheKeyHashes(t *testing.T) {
	p := examplePlan(t)
	digest(p) // every plan type is hashable, or this panics
	for _, tg := range p.Targets {
		want, diags, err := targetFiles(tg, &p.Standard)
		if err != nil || len(diags) > 0 {
			t.Fatalf("%s/%s: %v %v", tg.Team.Name, tg.Workload.Name, err, diags)
		}
		bare := &plan.Target{Team: stripped(tg.Team), Workload: stripped(tg.Workload), Env: stripped(tg.Env), Backend: stripped(tg.Backend)}
		if digest(bare) != digest(tg) {
			t.Fatalf("%s/%s: stripping key:\"-\" fields changed the digest", tg.Team.Name, tg.Workload.Name)
		}
		std := stripped(&p.Standard)
		got, _, err := targetFiles(bare, std)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s/%s: %d files, want %d", tg.Team.Name, tg.Workload.Name, len(got), len(want))
		}
		for i := range want {
			if got[i].Path != want[i].Path || !bytes.Equal(got[i].Bytes, want[i].Bytes) {
				t.Errorf("%s depends on a field its key leaves out", want[i].Path)
			}
		}
	}
}

// stripped returns a deep copy of v with every field tagged key:"-" set to
// its zero value.
func stripped[T any](v *T) *T {
	out := reflect.New(reflect.TypeFor[T]())
	out.Elem().Set(strip(reflect.ValueOf(v).Elem()))
	return out.Interface().(*T)
}

func strip(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(strip(v.Elem()))
			out.Set(p)
		}
	case reflect.Slice:
		if !v.IsNil() {
			s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			for i := range v.Len() {
				s.Index(i).Set(strip(v.Index(i)))
			}
			out.Set(s)
		}
	case reflect.Map:
		if !v.IsNil() {
			m := reflect.MakeMap(v.Type())
			for _, k := range v.MapKeys() {
				m.SetMapIndex(k, strip(v.MapIndex(k)))
			}
			out.Set(m)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Tag.Get("key") != "-" {
				out.Field(i).Set(strip(v.Field(i)))
			}
		}
	default:
		out.Set(v)
	}
	return out
}

// TestKeysFollowInputs changes one workload and requires new keys for its
// targets and its team's cost dashboards, and the same keys for the rest.
func TestKeysFollowInputs(t *testing.T) {
	p := examplePlan(t)
	before := keysByName(unitsOf(p, "salt"))
	changed := p.Targets[0]
	changed.Workload.Model += "-v2"
	after := keysByName(unitsOf(p, "salt"))
	if len(before) != len(after) {
		t.Fatalf("%d units, then %d", len(before), len(after))
	}
	for name, key := range after {
		moved := key != before[name]
		affected := strings.HasPrefix(name, changed.Team.Name+"/"+changed.Workload.Name+" in ") ||
			strings.HasPrefix(name, "cost of "+changed.Team.Name+" in ")
		if moved != affected {
			t.Errorf("%s: key changed %v, want %v", name, moved, affected)
		}
	}
	for name, key := range keysByName(unitsOf(p, "other salt")) {
		if key == after[name] && key != "" {
			t.Errorf("%s: the salt does not change the key", name)
		}
	}
}

func keysByName(units []unit) map[string]string {
	out := map[string]string{}
	for _, u := range units {
		out[u.name] = u.key
	}
	return out
}
