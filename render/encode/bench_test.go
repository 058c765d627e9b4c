package encode_test

import (
	"strings"
	"testing"

	"github.com/aiobs/aiobs/internal/synth/benchcpu"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
	"github.com/aiobs/aiobs/render/encode"
	"github.com/aiobs/aiobs/render/grafana"
	"github.com/aiobs/aiobs/render/write"
)

// The encoding benchmarks take the dashboards the grafana renderer makes
// for a case and time, per case (all dashboards of every environment):
// canonical JSON (what every dashboard goes through once) and the YAML of
// the sidecar ConfigMaps that carry them as one string each.

func dashboards(b *testing.B, c synthtest.Case) []write.File {
	files, err := grafana.Render(synthtest.Plan(b, c))
	if err != nil {
		b.Fatal(err)
	}
	var out []write.File
	var n int64
	for _, f := range files {
		if strings.Contains(f.Path, "/grafana/dashboards/") && strings.HasSuffix(f.Path, ".json") {
			out = append(out, f)
			n += int64(len(f.Bytes))
		}
	}
	b.SetBytes(n)
	return out
}

// BenchmarkCanonicalJSON re-encodes every dashboard canonically.
func BenchmarkCanonicalJSON(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run(c.Name, func(b *testing.B) {
			boards := dashboards(b, c)
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				for _, f := range boards {
					if _, err := encode.CanonicalJSON(f.Bytes); err != nil {
						b.Fatal(err)
					}
				}
			}
			stop()
		})
	}
}

// configMap has the shape of the grafana renderer's sidecar ConfigMap.
type configMap struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   map[string]any    `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
}

// BenchmarkYAMLConfigMap encodes every dashboard into its ConfigMap, with
// the YAML encoder alone and with the literal block the grafana renderer
// composes.
func BenchmarkYAMLConfigMap(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		boards := dashboards(b, c)
		b.Run("impl=encoder/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				for _, f := range boards {
					cm := configMap{APIVersion: "v1", Kind: "ConfigMap",
						Metadata: map[string]any{"name": "aiobs-dashboard-x", "labels": map[string]string{"grafana_dashboard": "1"}},
						Data:     map[string]string{"x.json": string(f.Bytes)}}
					if _, err := encode.YAML(cm); err != nil {
						b.Fatal(err)
					}
				}
			}
			stop()
		})
		b.Run("impl=literal/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				for _, f := range boards {
					if _, ok := encode.AppendLiteral([]byte("data:\n  x.json:"), 4, f.Bytes); !ok {
						b.Fatalf("%s: not a literal block", f.Path)
					}
				}
			}
			stop()
		})
	}
}
