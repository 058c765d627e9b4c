package validate_test

import (
	"testing"

	"github.com/aiobs/aiobs/internal/synth/benchcpu"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
	"github.com/aiobs/aiobs/render"
	"github.com/aiobs/aiobs/validate"
)

// BenchmarkValidate times every check of validate.Check on a rendered plan:
// datasource bindings, rulefmt and PromQL, Loki rules, the taxonomy, the
// metric catalogues and the dashboards.
func BenchmarkValidate(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run(c.Name, func(b *testing.B) {
			p := synthtest.Plan(b, c)
			files, err := render.Render(p)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				if l := validate.Check(p, files); l.HasErrors() {
					b.Fatalf("findings: %v", l)
				}
			}
			stop()
		})
	}
}
