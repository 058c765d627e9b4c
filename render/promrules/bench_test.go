package promrules

import (
	"testing"

	"github.com/aiobs/aiobs/internal/synth/benchcpu"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
	"github.com/aiobs/aiobs/render/encode"
)

// The benchmarks sit inside the package so that the PrometheusRule
// encoding can be timed apart.

// BenchmarkPromRules times the Prometheus rule files, their promtool unit
// tests, the PrometheusRule objects and the Alertmanager routing.
func BenchmarkPromRules(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run(c.Name, func(b *testing.B) {
			p := synthtest.Plan(b, c)
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				if _, err := Render(p); err != nil {
					b.Fatal(err)
				}
			}
			stop()
		})
	}
}

// BenchmarkPrometheusRule times the PrometheusRule objects alone, from
// rule files already encoded.
func BenchmarkPrometheusRule(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run(c.Name, func(b *testing.B) {
			p := synthtest.Plan(b, c)
			rules := make([][]byte, len(p.Targets))
			for i, t := range p.Targets {
				groups, _, _ := groupsOf(&p.Standard, t)
				var err error
				if rules[i], err = encode.YAML(ruleFile{Groups: groups}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				for i, t := range p.Targets {
					if _, err := prometheusRule(t, rules[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			stop()
		})
	}
}
