package validate

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/promrules"
	"github.com/aiobs/aiobs/render/write"
)

// compilePromRulesExample compiles the example once per test binary.
var compilePromRulesExample = sync.OnceValues(func() (*plan.Plan, error) {
	return compile.Compile(context.Background(), filepath.Join("..", "examples"), compile.Options{})
})

func examplePromRules(t *testing.T) (*plan.Plan, []write.File) {
	t.Helper()
	p, err := compilePromRulesExample()
	if err != nil {
		t.Fatalf("compile examples: %v", err)
	}
	files, err := promrules.Render(p)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return p, files
}

func TestExampleRulesPassRulefmtAndTheParser(t *testing.T) {
	p, files := examplePromRules(t)
	if got := checkPromRules(newArtifacts(p, files)); len(got) > 0 {
		t.Errorf("findings on the example:\n%v", got)
	}
}

// finding is the part of a diagnostic the table compares.
type finding struct {
	Rule, Artifact string
	Pos            diag.Pos
}

func TestBrokenRuleFilesYieldFindings(t *testing.T) {
	p, files := examplePromRules(t)
	var chat *plan.Target
	for _, tg := range p.Targets {
		if tg.Env.Name == "prod" && tg.Workload.Name == "chat" {
			chat = tg
		}
	}
	rulePath := promrules.RuleFilePath(chat)
	kubePath := promrules.KubeFilePath(chat)
	availability := chat.Workload.SLOs[0]
	ttft := chat.Workload.SLOs[1]

	tests := []struct {
		name  string
		path  string
		edit  func(string) string
		want  []finding
		check func(t *testing.T, got diag.List)
	}{
		{
			name: "an expression that does not parse is PROMQL_PARSE at the SLO",
			path: rulePath,
			edit: func(s string) string {
				return strings.Replace(s, "expr: vector(1)", "expr: vector(1", 1)
			},
			want: []finding{{Rule: "PROMQL_PARSE", Artifact: rulePath, Pos: availability.Pos}},
		},
		{
			name: "an unknown rule field is RULEFMT",
			path: rulePath,
			edit: func(s string) string {
				return strings.Replace(s, "    interval: 5m\n", "    interval: 5m\n    evaluation_delay: 1m\n", 1)
			},
			want: []finding{{Rule: "RULEFMT", Artifact: rulePath, Pos: chat.Workload.Pos}},
		},
		{
			name: "a record name outside the legacy charset is RULEFMT",
			path: rulePath,
			edit: func(s string) string {
				return strings.Replace(s, "record: aiobs:slo_info", "record: aiobs:slo.info", 1)
			},
			want: []finding{{Rule: "RULEFMT", Artifact: rulePath, Pos: availability.Pos}},
		},
		{
			name: "an annotation template that does not parse is RULEFMT",
			path: rulePath,
			edit: func(s string) string {
				return strings.Replace(s, "{{ $labels.gpu }}", "{{ $labels.gpu ", 1)
			},
			want: []finding{{Rule: "RULEFMT", Artifact: rulePath, Pos: chat.Workload.Pos}},
		},
		{
			name: "the same rule twice is RULE_DUPLICATE",
			path: rulePath,
			edit: func(s string) string {
				// The ttft group's objective becomes a copy of the
				// availability one: same name, same labels.
				i := strings.Index(s, "slo-ttft")
				return s[:i] + strings.Replace(s[i:], "slo: ttft", "slo: availability", 40)
			},
			check: func(t *testing.T, got diag.List) {
				var dups int
				for _, d := range got {
					if d.Rule == "RULE_DUPLICATE" {
						dups++
						if d.Pos != ttft.Pos || d.Artifact != rulePath {
							t.Errorf("duplicate at %v in %s; want the ttft SLO %v", d.Pos, d.Artifact, ttft.Pos)
						}
					}
				}
				if dups == 0 {
					t.Errorf("no RULE_DUPLICATE among %v", got)
				}
			},
		},
		{
			name: "a PrometheusRule expression that does not parse is PROMQL_PARSE",
			path: kubePath,
			edit: func(s string) string {
				return strings.Replace(s, "expr: vector(1)", "expr: vector(1))", 1)
			},
			want: []finding{{Rule: "PROMQL_PARSE", Artifact: kubePath, Pos: availability.Pos}},
		},
		{
			name: "a PrometheusRule of another kind is PROMETHEUSRULE_INVALID",
			path: kubePath,
			edit: func(s string) string {
				return strings.Replace(s, "kind: PrometheusRule", "kind: ConfigMap", 1)
			},
			want: []finding{{Rule: "PROMETHEUSRULE_INVALID", Artifact: kubePath, Pos: chat.Workload.Pos}},
		},
		{
			name: "YAML that does not parse is RULEFMT",
			path: rulePath,
			edit: func(s string) string { return "groups: [\n" + s },
			want: []finding{{Rule: "RULEFMT", Artifact: rulePath, Pos: chat.Workload.Pos}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var edited []write.File
			changed := false
			for _, f := range files {
				if f.Path == tt.path {
					b := tt.edit(string(f.Bytes))
					changed = b != string(f.Bytes)
					f = write.File{Path: f.Path, Bytes: []byte(b)}
				}
				edited = append(edited, f)
			}
			if !changed {
				t.Fatal("the edit changed nothing; the test no longer tests anything")
			}
			got := checkPromRules(newArtifacts(p, edited))
			if tt.check != nil {
				tt.check(t, got)
				return
			}
			var fs []finding
			for _, d := range got {
				fs = append(fs, finding{Rule: d.Rule, Artifact: d.Artifact, Pos: d.Pos})
			}
			if diff := cmp.Diff(tt.want, fs); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nall: %v", diff, got)
			}
			for _, d := range got {
				if d.Msg == "" || d.Severity != diag.Error {
					t.Errorf("finding %v: want an error with a message", d)
				}
			}
		})
	}
}
