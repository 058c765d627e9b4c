package promrules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

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

// prometheusRule renders the target's rule file as a prometheus-operator
// PrometheusRule. The object's spec has exactly the rule file's fields
// (groups of name, interval and rules of record, alert, expr, for, labels,
// annotations), so it is written as its metadata followed by the rule
// file's bytes nested under spec: the same bytes encoding the operator's
// typed object gives (a test proves it), without analysing every rule
// twice.
func prometheusRule(t *plan.Target, rules []byte) ([]byte, error) {
	type metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	}
	head, err := encode.YAML(struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Metadata   metadata `yaml:"metadata"`
	}{"monitoring.coreos.com/v1", "PrometheusRule", metadata{ObjectName(t), map[string]string{
		"app.kubernetes.io/managed-by": "aiobs",
		LabelTeam:                      t.Team.Name,
		LabelWorkload:                  t.Workload.Name,
	}}})
	if err != nil {
		return nil, fmt.Errorf("prometheusrule %s: %w", ObjectName(t), err)
	}
	return encode.Nest(head, "spec", rules), nil
}
