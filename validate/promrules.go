package validate

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/promrules"
	"github.com/aiobs/aiobs/render/write"
)

// Rule IDs of the Prometheus rule checks.
const (
	ruleRulefmt    = "RULEFMT"
	rulePromQL     = "PROMQL_PARSE"
	ruleDuplicate  = "RULE_DUPLICATE"
	ruleKubeObject = "PROMETHEUSRULE_INVALID"
)

// checkPromRules proves every Prometheus rule file and every
// PrometheusRule's spec.groups load: rulefmt.Parse with strict fields and
// the legacy name charset (so the files also load into Prometheus 2, Thanos
// and older Mimir), every expression through the PromQL parser, and no
// two rules in one environment's rule files recording or alerting the same
// name with the same labels.
func checkPromRules(p *plan.Plan, files []write.File) diag.List {
	var out diag.List
	pc := newRuleChecker(p)
	seen := map[string]map[string]string{} // scope → rule key → first artifact
	for _, f := range files {
		var content []byte
		switch {
		case isRuleFile(f.Path):
			content = f.Bytes
		case isKubeRule(f.Path):
			c, err := kubeRuleGroups(f.Bytes)
			if err != nil {
				out = append(out, pc.diag(f.Path, "", ruleKubeObject, err.Error()))
				continue
			}
			content = c
		default:
			continue
		}
		groups, errs := rulefmt.Parse(content, false, model.LegacyValidation, pc.parser, pc.logger)
		for _, err := range errs {
			out = append(out, pc.fromError(f.Path, err))
		}
		if groups == nil {
			continue
		}
		// Rule files and PrometheusRules carry the same groups; each
		// family is checked for duplicates within its environment.
		scope := strings.SplitN(f.Path, "/", 2)[0] + "/" + map[bool]string{true: "rules", false: "kubernetes"}[isRuleFile(f.Path)]
		if seen[scope] == nil {
			seen[scope] = map[string]string{}
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				key := ruleKey(g, r)
				if first, ok := seen[scope][key]; ok {
					out = append(out, pc.diag(f.Path, g.Name, ruleDuplicate,
						fmt.Sprintf("group %q: %s is defined twice with the same labels (first in %s)", g.Name, key, first)))
					continue
				}
				seen[scope][key] = f.Path
			}
		}
	}
	// rulefmt reports a YAML error once per decoding pass; keep one.
	return out.Sorted()
}

func isRuleFile(path string) bool {
	parts := strings.Split(path, "/")
	return len(parts) == 5 && parts[1] == "prometheus" && parts[2] == "rules" && strings.HasSuffix(path, ".yaml")
}

func isKubeRule(path string) bool {
	parts := strings.Split(path, "/")
	return len(parts) == 4 && parts[1] == "kubernetes" && parts[2] == "prometheusrules" && strings.HasSuffix(path, ".yaml")
}

// ruleKey is what promtool's duplicate-rules lint compares: the rule's name
// and its labels merged over the group's.
func ruleKey(g rulefmt.RuleGroup, r rulefmt.Rule) string {
	name := r.Record
	kind := "record"
	if r.Alert != "" {
		name, kind = r.Alert, "alert"
	}
	ls := map[string]string{}
	for k, v := range g.Labels {
		ls[k] = v
	}
	for k, v := range r.Labels {
		ls[k] = v
	}
	var ms []plan.Matcher
	for k, v := range ls {
		ms = append(ms, plan.Matcher{Name: k, Op: "=", Value: v})
	}
	slices.SortFunc(ms, func(a, b plan.Matcher) int { return strings.Compare(a.Name, b.Name) })
	return kind + " " + name + plan.FormatMatchers(ms)
}

// kubeRuleGroups turns a PrometheusRule into the rule file the operator
// would write for it, as prometheus-operator's ValidateRule does: its
// spec.groups, without the Thanos-only partial_response_strategy and
// without an empty interval.
func kubeRuleGroups(b []byte) ([]byte, error) {
	var obj struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			Groups []map[string]any `yaml:"groups"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("prometheusrule: %w", err)
	}
	if obj.APIVersion != "monitoring.coreos.com/v1" || obj.Kind != "PrometheusRule" {
		return nil, fmt.Errorf("prometheusrule: apiVersion %q kind %q; want monitoring.coreos.com/v1 PrometheusRule", obj.APIVersion, obj.Kind)
	}
	if n := obj.Metadata.Name; !dnsLabel(n) {
		return nil, fmt.Errorf("prometheusrule: metadata.name %q is not a DNS label of at most 63 characters", n)
	}
	for _, g := range obj.Spec.Groups {
		delete(g, "partial_response_strategy")
		if iv, ok := g["interval"]; ok && (iv == nil || iv == "") {
			delete(g, "interval")
		}
	}
	out, err := yaml.Marshal(map[string]any{"groups": obj.Spec.Groups})
	if err != nil {
		return nil, fmt.Errorf("prometheusrule: %w", err)
	}
	return out, nil
}

func dnsLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ruleChecker maps artifacts and rule groups back to the decisions that
// produced them, so a finding names the SLO or workload's file:line:col.
type ruleChecker struct {
	parser parser.Parser
	logger *slog.Logger
	// pos maps artifact path → group name → position; the "" group is the
	// workload.
	pos map[string]map[string]diag.Pos
}

func newRuleChecker(p *plan.Plan) *ruleChecker {
	rc := &ruleChecker{
		parser: parser.NewParser(parser.Options{}),
		logger: slog.New(slog.DiscardHandler),
		pos:    map[string]map[string]diag.Pos{},
	}
	for _, t := range p.Targets {
		m := map[string]diag.Pos{"": t.Workload.Pos}
		for _, slo := range t.Workload.SLOs {
			m[promrules.SLOGroupName(t, slo)] = slo.Pos
		}
		rc.pos[promrules.RuleFilePath(t)] = m
		rc.pos[promrules.KubeFilePath(t)] = m
	}
	return rc
}

func (rc *ruleChecker) diag(artifact, group, rule, msg string) diag.Diagnostic {
	m := rc.pos[artifact]
	pos, ok := m[group]
	if !ok {
		pos = m[""]
	}
	return diag.Diagnostic{Pos: pos, Rule: rule, Severity: diag.Error, Artifact: artifact, Msg: msg}
}

// fromError classifies a rulefmt error: an expression the PromQL parser
// rejects is PROMQL_PARSE, anything else (YAML, fields, names, templates)
// RULEFMT.
func (rc *ruleChecker) fromError(artifact string, err error) diag.Diagnostic {
	rule := ruleRulefmt
	var pe parser.ParseErrors
	var pe1 *parser.ParseErr
	if errors.As(err, &pe) || errors.As(err, &pe1) {
		rule = rulePromQL
	}
	group := ""
	var re *rulefmt.Error
	if errors.As(err, &re) {
		group = re.Group
	}
	return rc.diag(artifact, group, rule, err.Error())
}
