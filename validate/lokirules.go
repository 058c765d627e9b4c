package validate

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/template"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
)

// checkLokiRules validates Loki ruler files harder than the ruler does: the
// ruler rejects every tenant's rules over one bad file, and accepts a bad
// line-filter regex or a log query as a rule only to fail at every
// evaluation.
//
//   - LOKI_RULES_PATH: <env>/loki/rules/<tenant>/<file>.yaml, a known
//     environment, no hidden file (the ruler parses those too);
//   - LOKI_RULES_TENANT: the directory is the environment's tenant, or the
//     ruler evaluates the rules for someone else;
//   - LOKI_RULES_FORMAT: only the keys rulefmt knows, one YAML document,
//     named and unique groups, rules with exactly one of alert and record
//     and an expr, recording rules without for or annotations;
//   - LOKI_RULE_NAME: alert names and label names in the legacy charset,
//     record names as level:metric:operation;
//   - LOGQL_SYNTAX, LOGQL_EMPTY_MATCHER, LOGQL_REGEX, LOGQL_NOT_METRIC: the
//     query scans, every selector has a matcher that cannot match the empty
//     string, every regex compiles as RE2, and every rule is a metric query;
//   - ALERT_LABELS, ALERT_ANNOTATIONS, ALERT_TEMPLATE: every alert carries
//     team, workload, env, severity (page or notify) and class, and summary,
//     description, runbook_url and dashboard_url, whose templates parse;
//   - PII_ALERT_EXTRACTS: a class="pii" alert neither groups by a label nor
//     extracts or reformats line content, so no alert carries leaked data.
//
// Label taxonomy findings come from checkTaxonomy.
func checkLokiRules(a *artifacts) diag.List {
	return a.each(func(f *artifact) diag.List {
		if f.loki == nil {
			return nil
		}
		c := &lokiCheck{a: a, path: f.Path}
		c.check(f.loki)
		return c.out
	})
}

type lokiCheck struct {
	a    *artifacts
	path string
	env  *plan.Environment
	// pos is the workload the file is rendered for, when one is.
	pos diag.Pos
	out diag.List
}

func (c *lokiCheck) finding(rule, format string, args ...any) {
	c.out = append(c.out, diag.Diagnostic{Pos: c.pos, Rule: rule, Severity: diag.Error, Artifact: c.path, Msg: fmt.Sprintf(format, args...)})
}

// lokiParse is a Loki ruler file as the ruler decodes it.
type lokiParse struct {
	rf  lokiRuleFile
	err error
	// more says the file holds a second document, which the ruler ignores.
	more bool
}

func parseLokiRules(b []byte) *lokiParse {
	p := &lokiParse{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if p.err = dec.Decode(&p.rf); p.err == nil {
		var extra yaml.Node
		p.more = !errors.Is(dec.Decode(&extra), io.EOF)
	}
	return p
}

// The ruler decodes rulefmt's groups strictly; these mirror its fields.
type lokiRuleFile struct {
	Groups []lokiGroup `yaml:"groups"`
}

type lokiGroup struct {
	Name        string            `yaml:"name"`
	Interval    string            `yaml:"interval"`
	QueryOffset string            `yaml:"query_offset"`
	Limit       int               `yaml:"limit"`
	Labels      map[string]string `yaml:"labels"`
	Rules       []lokiRule        `yaml:"rules"`
}

type lokiRule struct {
	Record        string            `yaml:"record"`
	Alert         string            `yaml:"alert"`
	Expr          string            `yaml:"expr"`
	For           string            `yaml:"for"`
	KeepFiringFor string            `yaml:"keep_firing_for"`
	Labels        map[string]string `yaml:"labels"`
	Annotations   map[string]string `yaml:"annotations"`
}

var (
	legacyName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	recordName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]*$`)
)

var (
	requiredAlertLabels      = []string{"class", "env", "severity", "team", "workload"}
	requiredAlertAnnotations = []string{"dashboard_url", "description", "runbook_url", "summary"}
)

func (c *lokiCheck) check(lp *lokiParse) {
	parts := strings.Split(c.path, "/")
	c.env = c.a.plan.Environment(parts[0])
	switch {
	case len(parts) != 5:
		c.finding("LOKI_RULES_PATH", "the ruler reads <rules directory>/<tenant>/<file>; a rule file belongs directly in <env>/loki/rules/<tenant>/")
		return
	case c.env == nil:
		c.finding("LOKI_RULES_PATH", "%s is not an environment of the decisions", parts[0])
		return
	case strings.HasPrefix(parts[4], "."):
		c.finding("LOKI_RULES_PATH", "the ruler also parses hidden files; name the file without a leading dot")
	case !strings.HasSuffix(parts[4], ".yaml") && !strings.HasSuffix(parts[4], ".yml"):
		c.finding("LOKI_RULES_PATH", "lokitool reads only .yaml and .yml files")
	}
	c.pos = c.a.lokiFiles[envKey{c.env.Name, parts[4]}]
	if parts[3] != c.env.Loki.Tenant {
		c.finding("LOKI_RULES_TENANT", "the rules sit under tenant %s, but environment %s's log rules run as tenant %s", parts[3], c.env.Name, c.env.Loki.Tenant)
	}

	if lp.err != nil {
		c.finding("LOKI_RULES_FORMAT", "the ruler would reject the file, and with it every tenant's rules: %s", oneLineErr(lp.err))
		return
	}
	if lp.more {
		c.finding("LOKI_RULES_FORMAT", "the ruler reads only the first YAML document; put every group in one")
	}
	if len(lp.rf.Groups) == 0 {
		c.finding("LOKI_RULES_FORMAT", "the file holds no rule groups")
	}
	seen := map[string]bool{}
	for gi, g := range lp.rf.Groups {
		where := fmt.Sprintf("group %d", gi+1)
		if g.Name == "" {
			c.finding("LOKI_RULES_FORMAT", "%s has no name", where)
		} else if seen[g.Name] {
			c.finding("LOKI_RULES_FORMAT", "group name %s is used twice; group names are unique per file", g.Name)
		}
		seen[g.Name] = true
		c.duration(where+" interval", g.Interval)
		for _, r := range g.Rules {
			c.rule(g.Name, r)
		}
	}
}

func (c *lokiCheck) rule(group string, r lokiRule) {
	name := cmp.Or(r.Alert, r.Record)
	where := fmt.Sprintf("group %s rule %s", group, name)
	switch {
	case r.Alert != "" && r.Record != "":
		c.finding("LOKI_RULES_FORMAT", "%s sets both alert and record", where)
	case r.Alert == "" && r.Record == "":
		c.finding("LOKI_RULES_FORMAT", "group %s has a rule with neither alert nor record", group)
	case r.Record != "" && (r.For != "" || r.KeepFiringFor != "" || len(r.Annotations) > 0):
		c.finding("LOKI_RULES_FORMAT", "%s: a recording rule takes no for, keep_firing_for or annotations", where)
	}
	switch {
	case r.Alert != "" && !legacyName.MatchString(r.Alert):
		c.finding("LOKI_RULE_NAME", "%s: alert names must be letters, digits and underscores so that every Prometheus version loads them", where)
	case r.Record != "" && !recordName.MatchString(r.Record):
		c.finding("LOKI_RULE_NAME", "%s: record names take the form level:metric:operation in letters, digits and underscores", where)
	}
	for _, l := range slices.Sorted(maps.Keys(r.Labels)) {
		if !legacyName.MatchString(l) || strings.HasPrefix(l, "__") {
			c.finding("LOKI_RULE_NAME", "%s: label name %q must be letters, digits and underscores, not starting with __", where, l)
		}
	}
	c.duration(where+" for", r.For)
	c.duration(where+" keep_firing_for", r.KeepFiringFor)
	if strings.TrimSpace(r.Expr) == "" {
		c.finding("LOKI_RULES_FORMAT", "%s has no expr", where)
		return
	}
	c.logQL(where, r)
	if r.Alert == "" {
		return
	}
	for _, l := range requiredAlertLabels {
		if r.Labels[l] == "" {
			c.finding("ALERT_LABELS", "%s has no %s label; every aiobs alert carries %s", where, l, strings.Join(requiredAlertLabels, ", "))
		}
	}
	if s := r.Labels["severity"]; s != "" && s != "page" && s != "notify" {
		c.finding("ALERT_LABELS", "%s has severity %q; want page or notify", where, s)
	}
	if c.env != nil && r.Labels["env"] != "" && r.Labels["env"] != c.env.Name {
		c.finding("ALERT_LABELS", "%s has env %q in environment %s's rules", where, r.Labels["env"], c.env.Name)
	}
	for _, a := range requiredAlertAnnotations {
		if strings.TrimSpace(r.Annotations[a]) == "" {
			c.finding("ALERT_ANNOTATIONS", "%s has no %s annotation; every aiobs alert carries %s", where, a, strings.Join(requiredAlertAnnotations, ", "))
		}
	}
	for _, a := range slices.Sorted(maps.Keys(r.Annotations)) {
		if err := parseAlertTemplate(a, r.Annotations[a]); err != nil {
			c.finding("ALERT_TEMPLATE", "%s: annotation %s is not a valid template, and the ruler rejects the file: %s", where, a, oneLineErr(err))
		}
	}
	for _, l := range slices.Sorted(maps.Keys(r.Labels)) {
		if err := parseAlertTemplate(l, r.Labels[l]); err != nil {
			c.finding("ALERT_TEMPLATE", "%s: label %s is not a valid template, and the ruler rejects the file: %s", where, l, oneLineErr(err))
		}
	}
}

func (c *lokiCheck) duration(where, d string) {
	if d == "" {
		return
	}
	if _, err := model.ParseDuration(d); err != nil {
		c.finding("LOKI_RULES_FORMAT", "%s %q is not a Prometheus duration", where, d)
	}
}

// extractingStages copy line content into labels or rewrite the line; a
// PII alert must use none of them.
var extractingStages = []string{"label_format", "line_format", "pattern", "regexp"}

func (c *lokiCheck) logQL(where string, r lokiRule) {
	q, err := scanQuery(r.Expr)
	if err != nil {
		c.finding("LOGQL_SYNTAX", "%s: %v", where, err)
		return
	}
	if !q.balanced {
		c.finding("LOGQL_SYNTAX", "%s: unbalanced brackets", where)
	}
	if len(q.selectors) == 0 {
		c.finding("LOGQL_SYNTAX", "%s has no stream selector", where)
	}
	for _, sel := range q.selectors {
		if !slices.ContainsFunc(sel.matchers, nonEmptyMatcher) {
			c.finding("LOGQL_EMPTY_MATCHER", "%s: stream selector %s has no matcher that rules out the empty value, and Loki refuses such a query", where, sel.text)
		}
	}
	for _, re := range q.regexes {
		if err := c.a.compileErr(re.pattern); err != nil {
			c.finding("LOGQL_REGEX", "%s: %s regex %q is not RE2, so every evaluation fails: %s", where, re.kind, re.pattern, oneLineErr(err))
		}
	}
	if !q.ranges {
		c.finding("LOGQL_NOT_METRIC", "%s is a log query; the ruler loads it but fails every evaluation, since a rule needs a metric query (count_over_time, rate, ...)", where)
	}
	if r.Alert != "" && r.Labels["class"] == "pii" {
		for _, g := range q.groupings {
			if len(g.labels) > 0 {
				c.finding("PII_ALERT_EXTRACTS", "%s groups by %s; a PII alert must carry no label that could hold the leaked value", where, strings.Join(g.labels, ", "))
			}
		}
		for _, s := range q.stages {
			if slices.Contains(extractingStages, s) {
				c.finding("PII_ALERT_EXTRACTS", "%s uses | %s; a PII alert must not copy line content into labels or lines", where, s)
			}
		}
	}
}

// nonEmptyMatcher mirrors Loki's rule that a selector needs a matcher which
// does not match the empty string.
func nonEmptyMatcher(m qmatcher) bool {
	switch m.op {
	case "=":
		return m.value != ""
	case "!=":
		return m.value == ""
	case "=~", "!~":
		re, err := regexp.Compile("^(?:" + m.value + ")$")
		if err != nil {
			return true // reported as LOGQL_REGEX
		}
		return re.MatchString("") == (m.op == "!~")
	}
	return false
}

// alertTemplateVars are the variables the ruler defines before expanding
// an alert's labels and annotations, as Prometheus does.
const alertTemplateVars = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// parseAlertTemplate parses a label or annotation as the ruler would.
func parseAlertTemplate(name, text string) error {
	// Text without an action parses whatever it holds, and most labels
	// and annotations have none: skip the costly template set-up.
	if !strings.Contains(text, "{{") {
		return nil
	}
	_, err := template.New(name).Funcs(alertTemplateFuncs()).Parse(alertTemplateVars + text)
	return err
}

// alertTemplateFuncs stands in for the functions Prometheus and Loki offer
// alert templates, so that parsing accepts what the ruler accepts.
var alertTemplateFuncs = sync.OnceValue(func() template.FuncMap {
	m := template.FuncMap{}
	for _, name := range []string{
		"args", "externalURL", "first", "graphLink", "humanize", "humanize1024", "humanizeDuration",
		"humanizePercentage", "humanizeTimestamp", "label", "match", "parseDuration", "pathPrefix",
		"query", "reReplaceAll", "safeHtml", "sortByLabel", "stripDomain", "stripPort", "strvalue",
		"tableLink", "title", "toDuration", "toLower", "toTime", "toUpper", "urlQueryEscape", "value",
	} {
		m[name] = func(...any) any { return nil }
	}
	return m
})

func oneLineErr(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
