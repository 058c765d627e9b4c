package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// minimal is the smallest report Read accepts.
const minimal = `{"schema":"aiobs.gpuprobe/v1","backend":{"name":"dcgm-embedded"},"benchmarks":{"engine":{"status":"unknown"}}}`

func TestReadRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"a newer schema version", `{"schema":"aiobs.gpuprobe/v2","future":1}`,
			`read gpuprobe report: schema "aiobs.gpuprobe/v2" is not supported; want "aiobs.gpuprobe/v1"`},
		{"a report without a schema", `{"backend":{"name":"nvml"}}`,
			`read gpuprobe report: no schema key; want "aiobs.gpuprobe/v1"`},
		{"an unknown top-level key", strings.Replace(minimal, `{"schema"`, `{"extra":true,"schema"`, 1),
			`read gpuprobe report: json: unknown field "extra"`},
		{"an unknown nested key", strings.Replace(minimal, `"name":"dcgm-embedded"`, `"name":"dcgm-embedded","version":"4.6"`, 1),
			`read gpuprobe report: json: unknown field "version"`},
		{"trailing data", minimal + ` {}`,
			`read gpuprobe report: trailing data after the report`},
		{"an unknown backend", strings.Replace(minimal, "dcgm-embedded", "rocm", 1),
			`read gpuprobe report: backend.name: unknown backend "rocm"; want one of dcgm-embedded, dcgm-standalone, nvml`},
		{"an unknown field status", strings.Replace(minimal, `"benchmarks"`, `"global":[{"id":1,"status":"maybe"}],"benchmarks"`, 1),
			`read gpuprobe report: global[0].status: unknown status "maybe"`},
		{"an unknown engine status", strings.Replace(minimal, `"status":"unknown"`, `"status":"guessed"`, 1),
			`read gpuprobe report: benchmarks.engine.status: unknown status "guessed"; want measured or unknown`},
		{"something that is not json", `schema: aiobs.gpuprobe/v1`,
			`read gpuprobe report: invalid character 's' looking for beginning of value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in))
			if err == nil {
				t.Fatal("Read accepted it")
			}
			if err.Error() != tt.want {
				t.Errorf("err = %q\nwant  %q", err, tt.want)
			}
		})
	}
}

func TestReadAcceptsAMinimalReport(t *testing.T) {
	r, err := Read(strings.NewReader(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if r.Backend.Name != BackendDCGMEmbedded {
		t.Errorf("backend = %q", r.Backend.Name)
	}
}

func TestReadPassesReaderErrorsOn(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := Read(errReader{boom})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want it to wrap %v", err, boom)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestWriteIsCanonicalWhateverTheSliceOrder(t *testing.T) {
	f := func(id int) Field { return Field{ID: id, Status: StatusAvailable} }
	sorted := Report{
		Schema:  SchemaVersion,
		Backend: Backend{Name: BackendNVML},
		GPUs: []GPU{
			{Index: 0, Fields: []Field{f(100), f(150)}, Instances: []Instance{{EntityID: 0, Fields: []Field{f(252)}}, {EntityID: 1}}},
			{Index: 1, Fields: []Field{f(100)}},
		},
		Profiling:    []Profiling{{Model: "A", GPUs: []int{0, 2}, Groups: []MetricGroup{{Major: 1, FieldIDs: []int{1001, 1002}}, {Major: 2}}}, {Model: "B"}},
		Benchmarks:   Benchmarks{Engine: Engine{Status: EngineUnknown}},
		Capabilities: Capabilities{Metrics: []string{"a", "b"}, Substitutes: []Substitute{{Metric: "x", Use: "y"}, {Metric: "z", Use: "y"}}},
	}
	shuffled := Report{
		Schema:  SchemaVersion,
		Backend: Backend{Name: BackendNVML},
		GPUs: []GPU{
			{Index: 1, Fields: []Field{f(100)}},
			{Index: 0, Fields: []Field{f(150), f(100)}, Instances: []Instance{{EntityID: 1}, {EntityID: 0, Fields: []Field{f(252)}}}},
		},
		Profiling:    []Profiling{{Model: "B"}, {Model: "A", GPUs: []int{2, 0}, Groups: []MetricGroup{{Major: 2}, {Major: 1, FieldIDs: []int{1002, 1001}}}}},
		Benchmarks:   Benchmarks{Engine: Engine{Status: EngineUnknown}},
		Capabilities: Capabilities{Metrics: []string{"b", "a"}, Substitutes: []Substitute{{Metric: "z", Use: "y"}, {Metric: "x", Use: "y"}}},
	}
	before := shuffled.GPUs[1].Fields[0].ID

	var a, b bytes.Buffer
	if err := Write(&a, sorted); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, shuffled); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a.String(), b.String()); diff != "" {
		t.Errorf("write differs by slice order (-sorted +shuffled):\n%s", diff)
	}
	if shuffled.GPUs[1].Fields[0].ID != before {
		t.Error("Write reordered the caller's report")
	}
	if !strings.HasSuffix(a.String(), "}\n") || !strings.HasPrefix(a.String(), "{\n  \"schema\"") {
		t.Errorf("not 2-space indented with a trailing newline:\n%s", a.String())
	}
}

func TestWriteDoesNotEscapeHTML(t *testing.T) {
	var buf bytes.Buffer
	r := Report{Schema: SchemaVersion, Backend: Backend{Name: BackendNVML, Note: "a < b & c"}, Benchmarks: Benchmarks{Engine: Engine{Status: EngineUnknown}}}
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"a < b & c"`) {
		t.Errorf("note escaped:\n%s", buf.String())
	}
}

func TestTheGoldenReportsReadAndWriteBackUnchanged(t *testing.T) {
	paths, err := filepath.Glob("../../testdata/gpuprobe/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no golden reports in testdata/gpuprobe; run the gpuprobe tests with -update")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Read(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, r); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(data), buf.String()); diff != "" {
				t.Errorf("round trip differs (-file +written):\n%s", diff)
			}
		})
	}
}

func TestCapabilitiesHas(t *testing.T) {
	c := Capabilities{DCP: true, XID: true}
	for _, name := range CapabilityNames() {
		has, ok := c.Has(name)
		if !ok {
			t.Errorf("Has(%q) does not know the name", name)
		}
		if want := name == CapDCP || name == CapXID; has != want {
			t.Errorf("Has(%q) = %v, want %v", name, has, want)
		}
	}
	if _, ok := c.Has("warp"); ok {
		t.Error(`Has("warp") knows the name`)
	}
}
