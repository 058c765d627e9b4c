package encode

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestJSONSortsKeysAndKeepsQueryCharacters(t *testing.T) {
	type panel struct {
		Title string  `json:"title"`
		Expr  string  `json:"expr"`
		Min   float64 `json:"min"`
	}
	got, err := JSON(map[string]any{"z": 1, "a": panel{Title: "p95 < 1s & ok", Expr: `rate(x{a="b"}[5m]) > 0.5`, Min: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "a": {
    "expr": "rate(x{a=\"b\"}[5m]) > 0.5",
    "min": 0.1,
    "title": "p95 < 1s & ok"
  },
  "z": 1
}
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("JSON mismatch (-want +got):\n%s", diff)
	}
}

func TestCanonicalJSONUndoesHTMLEscaping(t *testing.T) {
	got, err := CanonicalJSON([]byte(`{"b":"a \u003e b \u0026\u0026 c \u003c d","a":1.50}`))
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"a\": 1.50,\n  \"b\": \"a > b && c < d\"\n}\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestYAMLKeepsStructOrder(t *testing.T) {
	type rule struct {
		Record string            `yaml:"record,omitempty"`
		Alert  string            `yaml:"alert,omitempty"`
		Expr   string            `yaml:"expr"`
		Labels map[string]string `yaml:"labels,omitempty"`
	}
	got, err := YAML(struct {
		Rules []rule `yaml:"rules"`
	}{[]rule{{Alert: "X", Expr: "up == 0", Labels: map[string]string{"z": "1", "a": "2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "rules:\n  - alert: X\n    expr: up == 0\n    labels:\n      a: \"2\"\n      z: \"1\"\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// literalDoc is the document AppendLiteral's output is compared in: a
// nested key, as in a ConfigMap's data.
func literalDoc(s string) (want, got []byte, ok bool, err error) {
	want, err = YAML(map[string]map[string]string{"data": {"k": s}})
	if err != nil {
		return nil, nil, false, err
	}
	got, ok = AppendLiteral([]byte("data:\n  k:"), 4, []byte(s))
	return want, got, ok, nil
}

func TestAppendLiteralWritesWhatYAMLWrites(t *testing.T) {
	for _, tc := range []struct {
		s    string
		fast bool
	}{
		{"{\n  \"a\": 1\n}\n", true},
		{"line one\n\n  indented after an empty line\n", true},
		{"émoji-free unicode: ü ß ✓\n", true},
		{"# looks like a comment\n- and a list\n", true},
		{"no trailing newline", false},
		{"two trailing newlines\n\n", false},
		{" leading space\n", false},
		{"\nleading break\n", false},
		{"trailing space \nx\n", false},
		{"tab\there\n", false},
		{"beyond the BMP 🙂\n", false},
		{"line\u2028separator\n", false},
		{"bom \ufeff\n", false},
		{"bell \a\n", false},
		{"bad utf-8 \xff\n", false},
	} {
		want, got, ok, err := literalDoc(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		if ok != tc.fast {
			t.Errorf("%q: fast path %v, want %v", tc.s, ok, tc.fast)
			continue
		}
		if ok && string(got) != string(want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.s, got, want)
		}
	}
}

// FuzzAppendLiteral proves, for any string, that the literal block fast
// path writes the bytes the YAML encoder writes, whenever it accepts.
func FuzzAppendLiteral(f *testing.F) {
	for _, s := range []string{"{\n  \"a\": 1\n}\n", "a\n\nb\n", " x\n", "x \ny\n", "ü\n", "---\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, got, ok, err := literalDoc(s)
		if err != nil {
			t.Skip(err)
		}
		if ok && string(got) != string(want) {
			t.Fatalf("%q:\n got %q\nwant %q", s, got, want)
		}
	})
}

func TestNestIndentsADocumentUnderAKey(t *testing.T) {
	type rule struct {
		Alert       string            `yaml:"alert"`
		Annotations map[string]string `yaml:"annotations"`
	}
	type file struct {
		Groups []rule `yaml:"groups"`
	}
	type object struct {
		Kind string `yaml:"kind"`
		Spec file   `yaml:"spec"`
	}
	spec := file{Groups: []rule{{Alert: "A", Annotations: map[string]string{"description": "two\nlines\n\nand a gap", "summary": "s"}}}}
	want, err := YAML(object{Kind: "X", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	head, err := YAML(struct {
		Kind string `yaml:"kind"`
	}{"X"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := YAML(spec)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(Nest(head, "spec", doc))); diff != "" {
		t.Errorf("mismatch (-YAML +Nest):\n%s", diff)
	}
}
