package promrules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
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
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic map[string]any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("prometheusrule %s: %w", obj.Name, err)
	}
	if md, ok := generic["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	delete(generic, "status")
	return encode.YAML(generic)
}
