package promrules

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
	"github.com/aiobs/aiobs/render/encode"
)

// TestPrometheusRuleIsTheOperatorsTypedObject proves that nesting the rule
// file under spec writes the bytes that encoding prometheus-operator's own
// PrometheusRule type writes, for every target of the example and of a
// synthetic organisation that mixes every backend and SLO kind.
func TestPrometheusRuleIsTheOperatorsTypedObject(t *testing.T) {
	for _, c := range []synthtest.Case{{Name: "example"}, {Name: "workloads=40", Workloads: 40}} {
		p := synthtest.Plan(t, c)
		for _, tg := range p.Targets {
			groups, _, diags := groupsOf(&p.Standard, tg)
			if len(diags) > 0 {
				t.Fatalf("%s: %v", c.Name, diags)
			}
			rules, err := encode.YAML(ruleFile{Groups: groups})
			if err != nil {
				t.Fatal(err)
			}
			got, err := prometheusRule(tg, rules)
			if err != nil {
				t.Fatal(err)
			}
			want, err := typedPrometheusRule(tg, groups)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Fatalf("%s %s: (-typed +nested):\n%s", c.Name, KubeFilePath(tg), diff)
			}
		}
	}
}

// typedPrometheusRule renders the groups as a prometheus-operator PrometheusRule.
// The typed object goes through JSON (its tags are JSON tags) and then the
// canonical YAML encoder, with the zero creationTimestamp dropped.
func typedPrometheusRule(t *plan.Target, groups []ruleGroup) ([]byte, error) {
	obj := monitoringv1.PrometheusRule{
		TypeMeta: metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: "PrometheusRule"},
		ObjectMeta: metav1.ObjectMeta{
			Name: ObjectName(t),
			Labels: map[string]string{
				"app.kubernetes.io/managed-by": "aiobs",
				LabelTeam:                      t.Team.Name,
				LabelWorkload:                  t.Workload.Name,
			},
		},
	}
	for _, g := range groups {
		mg := monitoringv1.RuleGroup{Name: g.Name}
		if g.Interval != "" {
			d := monitoringv1.Duration(g.Interval)
			mg.Interval = &d
		}
		for _, r := range g.Rules {
			mr := monitoringv1.Rule{Record: r.Record, Alert: r.Alert, Expr: intstr.FromString(r.Expr), Labels: r.Labels, Annotations: r.Annotations}
			if r.For != "" {
				d := monitoringv1.Duration(r.For)
				mr.For = &d
			}
			mg.Rules = append(mg.Rules, mr)
		}
		obj.Spec.Groups = append(obj.Spec.Groups, mg)
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("prometheusrule %s: %w", obj.Name, err)
	}
	// JSON is YAML: reading it into a node tree keeps the types' field
	// order (name before rules, record before expr), which a map would
	// sort away.
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("prometheusrule %s: %w", obj.Name, err)
	}
	root := doc.Content[0]
	dropKey(root, "status")
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "metadata" {
			dropKey(root.Content[i+1], "creationTimestamp")
		}
	}
	// Kubernetes manifests conventionally open with apiVersion.
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "apiVersion" && i > 0 {
			pair := slices.Clone(root.Content[i : i+2])
			root.Content = append(pair, slices.Delete(root.Content, i, i+2)...)
			break
		}
	}
	plainStyle(root)
	return encode.YAML(root)
}

// dropKey removes a key from a mapping node.
func dropKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// plainStyle forgets the JSON quoting so the encoder chooses each
// scalar's style as it does for every other artifact.
func plainStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plainStyle(c)
	}
}
