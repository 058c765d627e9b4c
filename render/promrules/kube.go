package promrules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/encode"
)

// maxObjectName is the longest name aiobs gives a Kubernetes object: a
// DNS label, so it also fits where labels are derived from names.
const maxObjectName = 63

// ObjectName is the PrometheusRule's metadata.name: aiobs-<team>--<workload>,
// shortened with a hash of the full name when longer than 63 characters so
// distinct workloads never collide.
func ObjectName(t *plan.Target) string {
	full := "aiobs-" + t.Team.Name + "--" + t.Workload.Name
	if len(full) <= maxObjectName {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	prefix := strings.TrimRight(full[:maxObjectName-9], "-")
	return prefix + "-" + hex.EncodeToString(sum[:4])
}

// prometheusRule renders the groups as a prometheus-operator PrometheusRule.
// The typed object goes through JSON (its tags are JSON tags) and then the
// canonical YAML encoder, with the zero creationTimestamp dropped.
func prometheusRule(t *plan.Target, groups []ruleGroup) ([]byte, error) {
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
