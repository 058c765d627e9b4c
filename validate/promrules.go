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
func checkPromRules(a *artifacts) diag.List {
	pc := newRuleChecker(a.plan)
	out := a.each(func(f *artifact) diag.List {
		var out diag.List
		var errs []error
		switch {
		case f.rules != nil:
			errs = f.rules.errs
		case f.kube != nil && f.kube.err != nil:
			return diag.List{pc.diag(f.Path, "", ruleKubeObject, f.kube.err.Error())}
		case f.kube != nil && f.kube.own != nil:
			errs = f.kube.own.errs
		}
		for _, err := range errs {
			out = append(out, pc.fromError(f.Path, err))
		}
		return out
	})
	seen := map[string]map[string]string{} // scope → rule key → first artifact
	for i := range a.files {
		f := &a.files[i]
		rp := f.checkedRules()
		if rp == nil || rp.groups == nil {
			continue
		}
		// Rule files and PrometheusRules carry the same groups; each
		// family is checked for duplicates within its environment.
		scope := strings.SplitN(f.Path, "/", 2)[0] + "/" + map[bool]string{true: "rules", false: "kubernetes"}[f.rules != nil]
		if seen[scope] == nil {
			seen[scope] = map[string]string{}
		}
		for gi, g := range rp.groups.Groups {
			for _, key := range rp.keys[gi] {
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

// promqlParser is stateless, so one serves every check.
var promqlParser = parser.NewParser(parser.Options{})

// ruleParse is a Prometheus rule file as checkPromRules loads it.
type ruleParse struct {
	groups *rulefmt.RuleGroups // nil when the YAML does not decode
	errs   []error
	// keys are the groups' rules' ruleKeys, which duplicates share.
	keys [][]string
}

func parseRuleFile(b []byte) *ruleParse {
	groups, errs := rulefmt.Parse(b, false, model.LegacyValidation, promqlParser, slog.New(slog.DiscardHandler))
	p := &ruleParse{groups: groups, errs: errs}
	if groups != nil {
		for _, g := range groups.Groups {
			keys := make([]string, len(g.Rules))
			for i, r := range g.Rules {
				keys[i] = ruleKey(g, r)
			}
			p.keys = append(p.keys, keys)
		}
	}
	return p
}

// kubeParse is a PrometheusRule. The renderer writes the spec as the
// target's rule file indented, so a spec that repeats a rule file which
// loads cleanly shares the file's parse, and only the header is the
// object's own. Any other object is read as prometheus-operator would.
type kubeParse struct {
	// err is wrong with the object itself; its groups go unchecked.
	err error
	// repeats is the rule file the spec repeats, and kind the object's
	// kind then.
	repeats *artifact
	kind    string
	// own is the parse of any other object's spec.groups.
	own *ruleParse
}

// parseKubeRule reads a PrometheusRule, sharing the parse of ruleFile (its
// target's rule file, if any) where it can.
func parseKubeRule(b []byte, ruleFile *artifact) *kubeParse {
	// Only a rule file without findings: the full path would report its
	// findings again, against the object.
	if ruleFile != nil && ruleFile.rules != nil && len(ruleFile.rules.errs) == 0 {
		if obj, ok := repeatedRuleFile(b, ruleFile.Bytes); ok {
			return &kubeParse{err: obj.check(), repeats: ruleFile, kind: obj.Kind}
		}
	}
	content, err := kubeRuleGroups(b)
	if err != nil {
		return &kubeParse{err: err}
	}
	return &kubeParse{own: parseRuleFile(content)}
}

// checkedRules is the parse of the groups a rule file or PrometheusRule
// defines, nil when there are none to check.
func (f *artifact) checkedRules() *ruleParse {
	switch {
	case f.rules != nil:
		return f.rules
	case f.kube == nil || f.kube.err != nil:
		return nil
	case f.kube.repeats != nil:
		return f.kube.repeats.rules
	}
	return f.kube.own
}

// repeatedRuleFile reads a PrometheusRule written as the renderer writes
// one: a header, then "spec:" and rules with every non-empty line indented
// by two spaces. It decodes only the header; ok is false for any other
// shape.
func repeatedRuleFile(b, rules []byte) (obj kubeObject, ok bool) {
	head, spec, ok := splitNested(b, "spec")
	if !ok || !indented(spec, rules, "  ") {
		return obj, false
	}
	return obj, head.Decode(&obj) == nil
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
		kubeObject `yaml:",inline"`
		Spec       struct {
			Groups []map[string]any `yaml:"groups"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("prometheusrule: %w", err)
	}
	if err := obj.check(); err != nil {
		return nil, err
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

// kubeObject is what a PrometheusRule must say of itself.
type kubeObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
}

func (o kubeObject) check() error {
	if o.APIVersion != "monitoring.coreos.com/v1" || o.Kind != "PrometheusRule" {
		return fmt.Errorf("prometheusrule: apiVersion %q kind %q; want monitoring.coreos.com/v1 PrometheusRule", o.APIVersion, o.Kind)
	}
	if n := o.Metadata.Name; !dnsLabel(n) {
		return fmt.Errorf("prometheusrule: metadata.name %q is not a DNS label of at most 63 characters", n)
	}
	return nil
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
	// pos maps artifact path → group name → position; the "" group is the
	// workload.
	pos map[string]map[string]diag.Pos
}

func newRuleChecker(p *plan.Plan) *ruleChecker {
	rc := &ruleChecker{pos: map[string]map[string]diag.Pos{}}
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
