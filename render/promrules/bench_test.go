package promrules_test

import (
	"testing"

	"github.com/aiobs/aiobs/internal/benchcpu"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
	"github.com/aiobs/aiobs/render/promrules"
)

// BenchmarkPromRules times the Prometheus rule files, their promtool unit
// tests, the PrometheusRule objects and the Alertmanager routing.
func BenchmarkPromRules(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run(c.Name, func(b *testing.B) {
			p := synthtest.Plan(b, c)
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				if _, err := promrules.Render(p); err != nil {
					b.Fatal(err)
				}
			}
			stop()
		})
	}
}
