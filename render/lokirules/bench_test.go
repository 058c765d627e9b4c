package lokirules_test

import (
	"testing"

	"github.com/aiobs/aiobs/internal/synth/benchcpu"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
	"github.com/aiobs/aiobs/render/lokirules"
)

// BenchmarkLokiRules times the Loki ruler files.
func BenchmarkLokiRules(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run(c.Name, func(b *testing.B) {
			p := synthtest.Plan(b, c)
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				if _, err := lokirules.Render(p); err != nil {
					b.Fatal(err)
				}
			}
			stop()
		})
	}
}
