package validate

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render"
	"github.com/aiobs/aiobs/render/promrules"
	"github.com/aiobs/aiobs/render/write"
)

// nestIn rewrites a composed document's nested value as the renderer
// composes it: after the line opening, every non-empty line of inner
// indented by pad.
func nestIn(doc, inner []byte, opening, pad string) []byte {
	i := bytes.Index(doc, []byte(opening)) + len(opening)
	out := slices.Clone(doc[:i])
	for line := range bytes.Lines(inner) {
		if len(line) > 1 {
			out = append(out, pad...)
		}
		out = append(out, line...)
	}
	return out
}

// TestRepeatedArtifactsReportWhatAFullParseReports edits PrometheusRules
// and dashboard ConfigMaps, and the rule files and dashboards they repeat,
// and requires Check to report on each object exactly what it reports
// when the object is parsed in full: with the repeated artifact left out
// of the set, there is nothing to share.
func TestRepeatedArtifactsReportWhatAFullParseReports(t *testing.T) {
	p, err := compilePromRulesExample()
	if err != nil {
		t.Fatal(err)
	}
	all, err := render.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	// One target's artifacts keep the test quick.
	files := slices.DeleteFunc(all, func(f write.File) bool {
		return !strings.HasPrefix(f.Path, "prod/") || !strings.Contains(f.Path, "chat")
	})
	var chat *plan.Target
	for _, tg := range p.Targets {
		if tg.Env.Name == "prod" && tg.Workload.Name == "chat" {
			chat = tg
		}
	}
	rulePath, kubePath := promrules.RuleFilePath(chat), promrules.KubeFilePath(chat)
	uid := chat.Workload.DashboardUID()
	cmPath := "prod/kubernetes/grafana-dashboards/" + uid + ".yaml"
	dashPath := "prod/grafana/dashboards/" + chat.Team.Name + "/" + uid + ".json"

	rebuildKube := func(fs map[string][]byte) { fs[kubePath] = nestIn(fs[kubePath], fs[rulePath], "\nspec:\n", "  ") }
	rebuildCM := func(fs map[string][]byte) { fs[cmPath] = nestIn(fs[cmPath], fs[dashPath], ": |\n", "    ") }
	replace := func(path, old, new string, rebuild func(map[string][]byte)) func(map[string][]byte) {
		return func(fs map[string][]byte) {
			fs[path] = bytes.Replace(fs[path], []byte(old), []byte(new), 1)
			if rebuild != nil {
				rebuild(fs)
			}
		}
	}
	tests := []struct {
		name   string
		path   string // the object reported on
		edit   func(fs map[string][]byte)
		shared bool     // whether it shares the repeated artifact's parse
		want   []string // the rules it breaks
	}{
		{name: "a PrometheusRule as rendered", path: kubePath, shared: true},
		{name: "a PrometheusRule of another apiVersion", path: kubePath, shared: true,
			edit: replace(kubePath, "apiVersion: monitoring.coreos.com/v1", "apiVersion: monitoring.coreos.com/v2", nil),
			want: []string{ruleKubeObject}},
		{name: "a PrometheusRule of another kind", path: kubePath, shared: true,
			edit: replace(kubePath, "kind: PrometheusRule", "kind: ConfigMap", nil),
			want: []string{ruleKubeObject}},
		{name: "a PrometheusRule named outside DNS", path: kubePath, shared: true,
			edit: replace(kubePath, "  name: aiobs-", "  name: Aiobs_", nil),
			want: []string{ruleKubeObject}},
		{name: "a spec edited by hand", path: kubePath,
			edit: replace(kubePath, "expr: vector(1)", "expr: vector(1))", nil),
			want: []string{rulePromQL}},
		{name: "a spec with an unknown field", path: kubePath,
			edit: replace(kubePath, "      interval: 5m\n", "      interval: 5m\n      evaluation_delay: 1m\n", nil),
			want: []string{ruleRulefmt}},
		{name: "a rule file and its spec broken alike", path: kubePath,
			edit: replace(rulePath, "expr: vector(1)", "expr: vector(1", rebuildKube),
			want: []string{rulePromQL}},
		{name: "a rule twice in a rule file and its spec", path: kubePath, shared: true,
			edit: func(fs map[string][]byte) {
				s := string(fs[rulePath])
				i := strings.Index(s, "slo-ttft")
				fs[rulePath] = []byte(s[:i] + strings.Replace(s[i:], "slo: ttft", "slo: availability", 40))
				rebuildKube(fs)
			},
			want: []string{ruleDuplicate}},
		{name: "a request-scoped label in a rule file and its spec", path: kubePath, shared: true,
			edit: replace(rulePath, "          slo: availability\n", "          slo: availability\n          request_id: x\n", rebuildKube),
			want: []string{"LABEL_REQUEST_SCOPED"}},
		{name: "a PrometheusRule whose header holds groups", path: kubePath,
			edit: replace(kubePath, "\nspec:\n", "\ngroups: []\nspec:\n", nil)},
		{name: "a ConfigMap as rendered", path: cmPath, shared: true},
		{name: "a dashboard and its ConfigMap edited alike", path: cmPath, shared: true,
			edit: replace(dashPath, `"title": "`, `"title": "Edited `, rebuildCM)},
		{name: "a ConfigMap edited by hand", path: cmPath,
			edit: replace(cmPath, `"title": "`, `"title": "Edited `, nil)},
		{name: "a ConfigMap too large", path: cmPath, shared: true,
			edit: replace(cmPath, "  annotations:\n", "  annotations:\n    padding: "+strings.Repeat("x", maxAppliedBytes)+"\n", nil),
			want: []string{"CONFIGMAP_TOO_LARGE"}},
		{name: "a ConfigMap whose header holds rule groups", path: cmPath,
			edit: replace(cmPath, "kind: ConfigMap\n", "kind: ConfigMap\ngroups:\n  - name: g\n    rules:\n      - record: a:b:sum\n        expr: sum by (request_id) (x)\n", nil),
			want: []string{"LABEL_REQUEST_SCOPED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := map[string][]byte{}
			for _, f := range files {
				fs[f.Path] = f.Bytes
			}
			if tt.edit != nil {
				tt.edit(fs)
			}
			var edited []write.File
			for _, f := range files {
				edited = append(edited, write.File{Path: f.Path, Bytes: fs[f.Path]})
			}
			f := newArtifacts(p, edited).file(tt.path)
			if shared := f.kube != nil && f.kube.repeats != nil || f.doc != nil && f.doc.repeats != nil; shared != tt.shared {
				t.Errorf("shares the repeated artifact's parse: %v, want %v", shared, tt.shared)
			}
			got := findingsOn(Check(p, edited), tt.path)
			var rules []string
			for _, d := range got {
				rules = append(rules, d.Rule)
			}
			slices.Sort(rules)
			rules = slices.Compact(rules)
			if diff := cmp.Diff(tt.want, rules); diff != "" {
				t.Errorf("rules (-want +got):\n%s\nall: %v", diff, got)
			}
			// Without the artifact it repeats, the object is parsed in full.
			partner := map[string]string{kubePath: rulePath, cmPath: dashPath}[tt.path]
			alone := slices.DeleteFunc(slices.Clone(edited), func(f write.File) bool { return f.Path == partner })
			if diff := cmp.Diff(findingsOn(Check(p, alone), tt.path), got); diff != "" {
				t.Errorf("findings differ from a full parse's (-full +got):\n%s", diff)
			}
		})
	}
}

func findingsOn(l diag.List, path string) diag.List {
	var out diag.List
	for _, d := range l {
		if d.Artifact == path {
			out = append(out, d)
		}
	}
	return out
}
