package promrules

import (
	"bytes"
	"testing"

	"github.com/aiobs/aiobs/internal/synth/benchcpu"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
	"github.com/aiobs/aiobs/render/encode"
)

// The benchmarks sit inside the package so that the PrometheusRule
// encoding can be timed apart, and compared with the prototype a proposal
// of the performance report rests on.

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

// BenchmarkPrometheusRule times the PrometheusRule objects alone: typed
// object, JSON, YAML node tree, YAML.
func BenchmarkPrometheusRule(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run("impl=current/"+c.Name, func(b *testing.B) {
			p := synthtest.Plan(b, c)
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				for _, t := range p.Targets {
					groups, _, _ := groupsOf(p, t)
					if _, err := prometheusRule(t, groups); err != nil {
						b.Fatal(err)
					}
				}
			}
			stop()
		})
		// The prototype writes the object's metadata with the YAML
		// encoder and its spec as the rule file's bytes indented by two
		// spaces, which is what the encoder writes for the same groups.
		// It first proves that for every target.
		b.Run("impl=prototype/"+c.Name, func(b *testing.B) {
			p := synthtest.Plan(b, c)
			for _, t := range p.Targets {
				groups, _, _ := groupsOf(p, t)
				rules, err := encode.YAML(ruleFile{Groups: groups})
				if err != nil {
					b.Fatal(err)
				}
				want, err := prometheusRule(t, groups)
				if err != nil {
					b.Fatal(err)
				}
				got, err := prometheusRulePrototype(t.Team.Name, t.Workload.Name, ObjectName(t), rules)
				if err != nil {
					b.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					b.Fatalf("%s: prototype differs from prometheusRule", KubeFilePath(t))
				}
			}
			// No cpu-ns/op here: process CPU time would count the rule
			// files the timer is stopped for.
			b.ReportAllocs()
			for b.Loop() {
				for _, t := range p.Targets {
					groups, _, _ := groupsOf(p, t)
					// The rule file is encoded anyway; only the
					// object's own work is timed.
					b.StopTimer()
					rules, _ := encode.YAML(ruleFile{Groups: groups})
					b.StartTimer()
					if _, err := prometheusRulePrototype(t.Team.Name, t.Workload.Name, ObjectName(t), rules); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func prometheusRulePrototype(team, workload, name string, rules []byte) ([]byte, error) {
	type meta struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	}
	head, err := encode.YAML(struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   meta   `yaml:"metadata"`
	}{"monitoring.coreos.com/v1", "PrometheusRule", meta{name, map[string]string{
		"app.kubernetes.io/managed-by": "aiobs", LabelTeam: team, LabelWorkload: workload}}})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(rules)+len(rules)/8+8)
	out = append(append(out, head...), "spec:\n"...)
	for line := range bytes.Lines(rules) {
		if len(line) > 1 {
			out = append(out, ' ', ' ')
		}
		out = append(out, line...)
	}
	return out, nil
}
