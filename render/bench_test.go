package render_test

import (
	"testing"

	"github.com/aiobs/aiobs/internal/synth/benchcpu"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
	"github.com/aiobs/aiobs/render"
)

// BenchmarkRender times every renderer together on a compiled plan:
// dashboards, provisioning, Prometheus and Loki rules, unit tests and
// Kubernetes objects, with their encoding.
func BenchmarkRender(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run(c.Name, func(b *testing.B) {
			p := synthtest.Plan(b, c)
			b.ReportAllocs()
			var n, bytes int
			stop := benchcpu.Start(b)
			for b.Loop() {
				files, err := render.Render(p)
				if err != nil {
					b.Fatal(err)
				}
				n, bytes = len(files), 0
				for _, f := range files {
					bytes += len(f.Bytes)
				}
			}
			stop()
			b.ReportMetric(float64(n), "files/op")
			b.ReportMetric(float64(bytes), "outbytes/op")
		})
	}
}
