package smoke

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func TestFastRulesChangesOnlyTheCadence(t *testing.T) {
	src := `groups:
  - name: slo
    interval: 5m
    rules:
      - record: aiobs:x:ratio
        expr: sum(rate(y[5m]))
        labels:
          slo: availability
  - name: infra
    rules:
      - alert: Down
        expr: up == 0
        for: 5m
`
	got, err := fastRules([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := yaml.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	want := `groups:
  - name: slo
    interval: 1s
    rules:
      - record: aiobs:x:ratio
        expr: sum(rate(y[5m]))
        labels:
          slo: availability
  - name: infra
    interval: 1s
    rules:
      - alert: Down
        expr: up == 0
        for: 5m
`
	if err := yaml.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("fastRules (-want +got):\n%s", d)
	}
}

func TestFastRulesRefusesAFileWithoutGroups(t *testing.T) {
	for _, src := range []string{"rules: []\n", "- a\n", ":\n"} {
		if _, err := fastRules([]byte(src)); err == nil {
			t.Errorf("fastRules(%q) accepted it", src)
		}
	}
}
