package promrules

import (
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/aiobs/aiobs/compile/plan"
)

// exampleAlerts reads every alert rule of the example's rule files.
func exampleAlerts(t *testing.T) map[string][]rule {
	t.Helper()
	out := map[string][]rule{}
	for _, f := range renderExample(t) {
		if !strings.Contains(f.Path, "/prometheus/rules/") {
			continue
		}
		var rf ruleFile
		if err := yaml.Unmarshal(f.Bytes, &rf); err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					out[f.Path] = append(out[f.Path], r)
				}
			}
		}
	}
	return out
}

func TestEveryAlertCarriesTheStandardLabelsAndAnnotations(t *testing.T) {
	for path, alerts := range exampleAlerts(t) {
		env := strings.SplitN(path, "/", 2)[0]
		for _, a := range alerts {
			for _, l := range []string{LabelTeam, LabelWorkload, LabelEnv, LabelSeverity, LabelClass} {
				if a.Labels[l] == "" {
					t.Errorf("%s: %s has no %s label", path, a.Alert, l)
				}
			}
			if a.Labels[LabelEnv] != env {
				t.Errorf("%s: %s has env %q", path, a.Alert, a.Labels[LabelEnv])
			}
			for _, k := range []string{"summary", "description", "runbook_url", "dashboard_url"} {
				if a.Annotations[k] == "" {
					t.Errorf("%s: %s has no %s annotation", path, a.Alert, k)
				}
			}
			if !strings.HasPrefix(a.Annotations["runbook_url"], "https://runbooks.example.com/aiobs/"+a.Alert) {
				t.Errorf("%s: %s runbook_url %s", path, a.Alert, a.Annotations["runbook_url"])
			}
		}
	}
}

func TestSeverityFollowsClassAndPaging(t *testing.T) {
	tests := []struct {
		name, env, class, tier, want string
	}{
		{"an SLO's fast tier pages in production", "prod", ClassSLO, "page-fast", "page"},
		{"an SLO's slow ticket tier notifies in production", "prod", ClassSLO, "notify-slow", "notify"},
		{"an SLO's fast tier only notifies where the environment does not page", "dev", ClassSLO, "page-fast", "notify"},
		{"infrastructure pages in production", "prod", ClassInfra, "", "page"},
		{"infrastructure notifies in staging", "staging", ClassInfra, "", "notify"},
		{"ML quality notifies even in production", "prod", ClassQuality, "", "notify"},
	}
	alerts := exampleAlerts(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n int
			for path, as := range alerts {
				if !strings.HasPrefix(path, tt.env+"/") {
					continue
				}
				for _, a := range as {
					if a.Labels[LabelClass] != tt.class || (tt.tier != "" && a.Labels[LabelBurnTier] != tt.tier) {
						continue
					}
					n++
					if got := a.Labels[LabelSeverity]; got != tt.want {
						t.Errorf("%s: %s severity %s; want %s", path, a.Alert, got, tt.want)
					}
				}
			}
			if n == 0 {
				t.Error("no such alert in the example")
			}
		})
	}
}

func TestObjectNameIsADNSLabel(t *testing.T) {
	long := strings.Repeat("a", 30)
	tests := []struct {
		name, team, workload string
		want                 *regexp.Regexp
	}{
		{"a short name is kept", "assistants", "chat", regexp.MustCompile(`^aiobs-assistants--chat$`)},
		{"a long name keeps a prefix and gains a hash", long, long + "b", regexp.MustCompile(`^aiobs-a{30}--a{16}-[0-9a-f]{8}$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ObjectName(&plan.Target{Team: &plan.Team{Name: tt.team}, Workload: &plan.Workload{Name: tt.workload}})
			if len(got) > 63 || !tt.want.MatchString(got) {
				t.Errorf("ObjectName = %s (%d characters); want %s", got, len(got), tt.want)
			}
		})
	}
	a := ObjectName(&plan.Target{Team: &plan.Team{Name: long}, Workload: &plan.Workload{Name: long + "b"}})
	b := ObjectName(&plan.Target{Team: &plan.Team{Name: long}, Workload: &plan.Workload{Name: long + "c"}})
	if a == b {
		t.Errorf("two workloads share the object name %s", a)
	}
}
