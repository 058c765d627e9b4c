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
