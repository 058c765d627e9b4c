package validate

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/internal/parallel"
)

// RestrictedTag marks a dashboard that may read the raw log stream. Only a
// separate dashboard with restricted access may carry it; the standard
// dashboards never do.
const RestrictedTag = "aiobs-restricted"

// checkTaxonomy enforces the label taxonomy on every query aiobs renders:
// a Loki stream selector uses only the standard's stream labels
// (STREAM_LABEL_NOT_ALLOWED); no request-scoped label appears in a stream
// selector, a PromQL selector, a by/without/on/ignoring/group_left/
// group_right list of a PromQL or LogQL query, or a rule's static labels
// (LABEL_REQUEST_SCOPED); and no Loki query of a standard dashboard can
// read anything but the redacted stream (RAW_STREAM_IN_STANDARD_DASHBOARD).
//
// It reads Loki ruler files (<env>/loki/rules/...), Prometheus rule files and
// PrometheusRule objects (any other YAML with rule groups), and dashboards
// (<env>/grafana/dashboards/**.json).
func checkTaxonomy(a *artifacts) diag.List {
	out := parallel.Map(len(a.files), func(i int) diag.List {
		f := &a.files[i]
		t := &taxonomyCheck{std: &a.plan.Standard, path: f.Path}
		switch ext := path.Ext(f.Path); {
		case f.kube != nil && f.kube.repeats != nil:
			// Below, from its rule file's findings.
		case isDashboardJSON(f.Path):
			t.dashboard(f)
		case ext == ".yaml" || ext == ".yml":
			t.rules(taxonomyRules(f), isLokiRules(f.Path))
		}
		return t.out
	})
	// A PrometheusRule's spec, when it repeats its rule file, holds the
	// same rules; the header has none.
	for i := range a.files {
		if k := a.files[i].kube; k != nil && k.repeats != nil && k.kind == "PrometheusRule" {
			for _, d := range out[a.byPath[k.repeats.Path]] {
				d.Artifact = a.files[i].Path
				out[i] = append(out[i], d)
			}
		}
	}
	return slices.Concat(out...)
}

type taxonomyCheck struct {
	std  *plan.Standard
	path string
	out  diag.List
}

func (t *taxonomyCheck) finding(rule, format string, args ...any) {
	t.out = append(t.out, diag.Diagnostic{Rule: rule, Severity: diag.Error, Artifact: t.path, Msg: fmt.Sprintf(format, args...)})
}

// isLokiRules says whether an artifact is a Loki ruler file.
func isLokiRules(p string) bool {
	parts := strings.Split(p, "/")
	return len(parts) > 3 && parts[1] == "loki" && parts[2] == "rules"
}

// ruleGroupsYAML is the rule-file shape shared by Prometheus, Mimir and
// Loki rule files and the spec of a PrometheusRule object.
type ruleGroupsYAML struct {
	Groups []struct {
		Name  string     `yaml:"name"`
		Rules []yamlRule `yaml:"rules"`
	} `yaml:"groups"`
	Kind string          `yaml:"kind"`
	Spec *ruleGroupsYAML `yaml:"spec"`
}

// yamlRule is the part of a rule the taxonomy reads.
type yamlRule struct {
	Alert  string            `yaml:"alert"`
	Record string            `yaml:"record"`
	Expr   string            `yaml:"expr"`
	Labels map[string]string `yaml:"labels"`
}

// taxonomyRules lists the rules of a YAML artifact. Where a stricter
// parse read the artifact (rulefmt's, the Loki ruler's), its rules are
// those ruleGroupsYAML would decode; otherwise the artifact is decoded
// here. Files that are not rule files (provisioning, Alertmanager,
// ConfigMaps) hold no groups, and unreadable files none either:
// checkPromRules and checkLokiRules report them.
func taxonomyRules(f *artifact) []yamlRule {
	var out []yamlRule
	switch {
	case f.rules != nil && f.rules.groups != nil:
		for _, g := range f.rules.groups.Groups {
			for _, r := range g.Rules {
				out = append(out, yamlRule{Alert: r.Alert, Record: r.Record, Expr: r.Expr, Labels: r.Labels})
			}
		}
		return out
	case f.loki != nil && f.loki.err == nil:
		for _, g := range f.loki.rf.Groups {
			for _, r := range g.Rules {
				out = append(out, yamlRule{Alert: r.Alert, Record: r.Record, Expr: r.Expr, Labels: r.Labels})
			}
		}
		return out
	}
	var y ruleGroupsYAML
	var err error
	switch {
	case f.doc != nil:
		err = f.doc.decode(&y)
	case !mayHoldGroups(f.Bytes):
		return nil
	default:
		err = yaml.Unmarshal(f.Bytes, &y)
	}
	if err != nil {
		return nil
	}
	if y.Kind == "PrometheusRule" && y.Spec != nil {
		y = *y.Spec
	}
	for _, g := range y.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// mayHoldGroups says whether YAML could hold a groups key, so that files
// without one (promtool tests, Alertmanager) need no parse. YAML can spell
// a key only literally, by an escape in a double-quoted string, by a tag
// (!!binary) or in UTF-16, which a byte order mark announces.
func mayHoldGroups(b []byte) bool {
	return bytes.Contains(b, []byte("groups")) || bytes.ContainsAny(b, `\!`) ||
		bytes.HasPrefix(b, []byte{0xfe, 0xff}) || bytes.HasPrefix(b, []byte{0xff, 0xfe})
}

// rules checks the queries and static labels of every rule.
func (t *taxonomyCheck) rules(rules []yamlRule, loki bool) {
	for _, r := range rules {
		name := cmp.Or(r.Alert, r.Record)
		where := "rule " + name
		for _, l := range slices.Sorted(maps.Keys(r.Labels)) {
			if slices.Contains(t.std.ForbiddenLabels, l) {
				t.finding("LABEL_REQUEST_SCOPED", "%s: label %s is request-scoped and must never label a series or an alert", where, l)
			}
		}
		if loki {
			t.logQL(where, r.Expr, false)
		} else {
			t.promQL(where, r.Expr)
		}
	}
}

// dashboardTaxonomyJSON is the part of a dashboard the taxonomy reads.
type dashboardTaxonomyJSON struct {
	Title      string              `json:"title"`
	Tags       []string            `json:"tags"`
	Panels     []taxonomyPanelJSON `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type taxonomyPanelJSON struct {
	Title      string          `json:"title"`
	Datasource json.RawMessage `json:"datasource"`
	Targets    []struct {
		RefID      string          `json:"refId"`
		Expr       string          `json:"expr"`
		Datasource json.RawMessage `json:"datasource"`
	} `json:"targets"`
	Panels []taxonomyPanelJSON `json:"panels"`
}

// taxonomyDashboard is a dashboard as the taxonomy reads it: from the
// shared decode, or where that failed from a decode of only what the
// taxonomy reads, in the shared types. ok is false for a dashboard that
// decode fails on; checkDashboards reports unreadable dashboards.
func taxonomyDashboard(f *artifact) (d *dashboardParse, ok bool) {
	if f.dash.err == nil {
		return f.dash, true
	}
	var own dashboardTaxonomyJSON
	if json.Unmarshal(f.Bytes, &own) != nil {
		return nil, false
	}
	d = &dashboardParse{Title: own.Title, Tags: own.Tags}
	for _, v := range own.Templating.List {
		d.Templating.List = append(d.Templating.List, variableJSON{Name: v.Name, Type: v.Type, Query: v.Query})
	}
	var panels func(ps []taxonomyPanelJSON) []panelJSON
	panels = func(ps []taxonomyPanelJSON) []panelJSON {
		var out []panelJSON
		for _, p := range ps {
			pn := panelJSON{Title: p.Title, Datasource: p.Datasource, Panels: panels(p.Panels)}
			for _, t := range p.Targets {
				pn.Targets = append(pn.Targets, targetJSON{RefID: t.RefID, Expr: t.Expr, Datasource: t.Datasource})
			}
			out = append(out, pn)
		}
		return out
	}
	d.Panels = panels(own.Panels)
	return d, true
}

func (t *taxonomyCheck) dashboard(f *artifact) {
	d, ok := taxonomyDashboard(f)
	if !ok {
		return
	}
	standard := !slices.Contains(d.Tags, RestrictedTag)
	// Datasource variables name their plugin in query.
	plugins := map[string]string{}
	for _, v := range d.Templating.List {
		var q string
		if v.Type == "datasource" && json.Unmarshal(v.Query, &q) == nil {
			plugins[v.Name] = q
		}
	}
	// A dashboard names a handful of datasources hundreds of times.
	resolved := map[string]string{}
	plugin := func(raw json.RawMessage) string {
		if pl, ok := resolved[string(raw)]; ok {
			return pl
		}
		var ref struct{ Type, UID string }
		pl := ""
		if json.Unmarshal(raw, &ref) == nil {
			pl = ref.Type
			if name, ok := strings.CutPrefix(ref.UID, "$"); ok {
				name = strings.TrimSuffix(strings.TrimPrefix(name, "{"), "}")
				if p, ok := plugins[name]; ok {
					pl = p
				}
			}
		}
		resolved[string(raw)] = pl
		return pl
	}
	var walk func(ps []panelJSON)
	walk = func(ps []panelJSON) {
		for _, pn := range ps {
			for _, tg := range pn.Targets {
				if tg.Expr == "" {
					continue
				}
				pl := plugin(pn.Datasource)
				if len(tg.Datasource) > 0 && string(tg.Datasource) != "null" {
					pl = plugin(tg.Datasource)
				}
				where := fmt.Sprintf("panel %q target %s", pn.Title, tg.RefID)
				switch pl {
				case "loki":
					t.logQL(where, tg.Expr, standard)
				case "prometheus":
					t.promQL(where, tg.Expr)
				}
			}
			walk(pn.Panels)
		}
	}
	walk(d.Panels)
}

// logQL checks a LogQL query's stream selectors and groupings; in a
// standard dashboard every selector must pin the redacted stream.
func (t *taxonomyCheck) logQL(where, expr string, standardDashboard bool) {
	q, err := scanQuery(expr)
	if err != nil {
		return // checkLokiRules and logqlcheck report syntax
	}
	for _, sel := range q.selectors {
		for _, m := range sel.matchers {
			switch {
			case slices.Contains(t.std.ForbiddenLabels, m.name):
				t.finding("LABEL_REQUEST_SCOPED", "%s: stream selector %s uses %s, a request-scoped identifier that belongs in structured metadata, never in a stream label", where, sel.text, m.name)
			case !slices.Contains(t.std.StreamLabels, m.name):
				t.finding("STREAM_LABEL_NOT_ALLOWED", "%s: stream selector %s uses %s, which is not a stream label; the taxonomy allows %s", where, sel.text, m.name, strings.Join(t.std.StreamLabels, ", "))
			}
		}
		if standardDashboard {
			if msg := redactedOnly(sel); msg != "" {
				t.finding("RAW_STREAM_IN_STANDARD_DASHBOARD", "%s: stream selector %s %s; a standard dashboard may read only the redacted stream (raw-stream panels belong on a dashboard tagged %s)", where, sel.text, msg, RestrictedTag)
			}
		}
	}
	t.groupings(where, q)
}

// redactedOnly explains why a selector could read more than the redacted
// stream, or returns "".
func redactedOnly(sel qselector) string {
	pinned := false
	for _, m := range sel.matchers {
		if m.name != plan.StreamLabel {
			continue
		}
		if m.op != "=" || m.value != plan.RedactedStream {
			return fmt.Sprintf("matches %s%s%s, which can select the %s stream", m.name, m.op, strconv.Quote(m.value), plan.RawStream)
		}
		pinned = true
	}
	if !pinned {
		return fmt.Sprintf("does not pin %s=%q", plan.StreamLabel, plan.RedactedStream)
	}
	return ""
}

func (t *taxonomyCheck) promQL(where, expr string) {
	q, err := scanQuery(expr)
	if err != nil {
		return // checkDashboards and checkPromRules report PromQL syntax
	}
	for _, sel := range q.selectors {
		for _, m := range sel.matchers {
			if slices.Contains(t.std.ForbiddenLabels, m.name) {
				t.finding("LABEL_REQUEST_SCOPED", "%s: selector %s uses %s, a request-scoped identifier that must never be a metric label", where, sel.text, m.name)
			}
		}
	}
	t.groupings(where, q)
}

func (t *taxonomyCheck) groupings(where string, q querySyntax) {
	for _, g := range q.groupings {
		for _, l := range g.labels {
			if slices.Contains(t.std.ForbiddenLabels, l) {
				t.finding("LABEL_REQUEST_SCOPED", "%s: %s (%s) groups by %s, a request-scoped identifier: every request would become a series", where, g.keyword, strings.Join(g.labels, ", "), l)
			}
		}
	}
}

// The query scanner below reads PromQL and LogQL far enough for label
// checks: their tokens are the same (Go-style quoted strings, back-quoted
// raw strings, identifiers, durations, operators), and stream or series
// selectors, groupings and regexes sit at recognisable token patterns. It is
// no parser: Loki's is AGPL and cannot be linked, and tools/logqlcheck
// proves the grammar in CI.

type qkind int

const (
	qIdent qkind = iota
	qString
	qNumber
	qVar // a Grafana variable: $name, ${name}, $__interval
	qPunct
)

type qtoken struct {
	kind  qkind
	text  string // as written
	value string // a string's value
	pos   int
}

// The operators: those of two characters win over their first (|= over
// |).
var (
	qpuncts2 = []string{"|=", "|~", "|>", "!=", "!~", "!>", "=~", "==", ">=", "<="}
	qpuncts1 = "{}()[],=><+-*/%^|@:"
)

func lexQuery(s string) ([]qtoken, error) {
	out := make([]qtoken, 0, len(s)/4) // about one token in four bytes
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\n' {
					return nil, fmt.Errorf("string at offset %d runs past the end of the line", i)
				}
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			raw := s[i : j+1]
			v, err := unquoteQuery(raw)
			if err != nil {
				return nil, fmt.Errorf("string at offset %d: %v", i, err)
			}
			out = append(out, qtoken{kind: qString, text: raw, value: v, pos: i})
			i = j + 1
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			out = append(out, qtoken{kind: qString, text: s[i : i+j+2], value: s[i+1 : i+1+j], pos: i})
			i += j + 2
		case c == '$':
			j := i + 1
			if j < len(s) && s[j] == '{' {
				k := strings.IndexByte(s[j:], '}')
				if k < 0 {
					return nil, fmt.Errorf("unterminated variable at offset %d", i)
				}
				j += k + 1
			} else {
				for j < len(s) && isIdentByte(s[j]) {
					j++
				}
			}
			out = append(out, qtoken{kind: qVar, text: s[i:j], pos: i})
			i = j
		case isIdentByte(c) && !isDigit(c):
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] == ':') {
				j++
			}
			out = append(out, qtoken{kind: qIdent, text: s[i:j], pos: i})
			i = j
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] == '.') {
				j++
			}
			out = append(out, qtoken{kind: qNumber, text: s[i:j], pos: i})
			i = j
		default:
			op := ""
			if i+1 < len(s) && slices.Contains(qpuncts2, s[i:i+2]) {
				op = s[i : i+2]
			} else if strings.IndexByte(qpuncts1, c) >= 0 {
				op = s[i : i+1]
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected character %q at offset %d", c, i)
			}
			out = append(out, qtoken{kind: qPunct, text: op, pos: i})
			i += len(op)
		}
	}
	return out, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// unquoteQuery reads a double- or single-quoted string with Go's escapes,
// as PromQL and LogQL do.
func unquoteQuery(raw string) (string, error) {
	if raw[0] == '\'' {
		body := raw[1 : len(raw)-1]
		body = strings.ReplaceAll(body, `\'`, `'`)
		body = strings.ReplaceAll(body, `"`, `\"`)
		raw = `"` + body + `"`
	}
	return strconv.Unquote(raw)
}

// querySyntax is what scanQuery finds in a query.
type querySyntax struct {
	selectors []qselector
	groupings []qgrouping
	// regexes are the patterns of =~ and !~ matchers, |~ and !~ line
	// filters and =~ and !~ label filters.
	regexes []qregex
	// ranges says the query has a range ([5m]), so it is a metric query.
	ranges bool
	// stages are the pipeline stages named after a |: json, logfmt,
	// line_format, ...
	stages []string
	// parens says brackets are balanced.
	balanced bool
}

type qselector struct {
	text     string
	matchers []qmatcher
}

type qmatcher struct{ name, op, value string }

type qgrouping struct {
	keyword string
	labels  []string
}

type qregex struct {
	kind    string // "matcher", "line filter" or "label filter"
	pattern string
}

// pipelineStages are the LogQL stages that follow a | by name.
var pipelineStages = []string{"decolorize", "drop", "json", "keep", "label_format", "line_format", "logfmt", "pattern", "regexp", "unpack", "unwrap", "xml"}

var groupingKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}

// scanQuery finds the label-bearing parts of a PromQL or LogQL query.
func scanQuery(expr string) (querySyntax, error) {
	toks, err := lexQuery(expr)
	if err != nil {
		return querySyntax{}, err
	}
	var q querySyntax
	depth := 0
	q.balanced = true
	for i := 0; i < len(toks); i++ {
		tk := toks[i]
		next := func(k int) *qtoken {
			if i+k < len(toks) {
				return &toks[i+k]
			}
			return nil
		}
		switch {
		case tk.kind == qPunct && tk.text == "{":
			sel, end, ok := scanSelector(expr, toks, i)
			if !ok {
				return querySyntax{}, fmt.Errorf("unreadable selector at offset %d", tk.pos)
			}
			q.selectors = append(q.selectors, sel)
			for _, m := range sel.matchers {
				if m.op == "=~" || m.op == "!~" {
					q.regexes = append(q.regexes, qregex{"matcher", m.value})
				}
			}
			i = end
		case tk.kind == qIdent && slices.Contains(groupingKeywords, tk.text) && next(1) != nil && next(1).text == "(":
			g := qgrouping{keyword: tk.text}
			j := i + 2
			for ; j < len(toks) && toks[j].text != ")"; j++ {
				if toks[j].kind == qIdent || toks[j].kind == qString {
					g.labels = append(g.labels, cmp.Or(toks[j].value, toks[j].text))
				}
			}
			q.groupings = append(q.groupings, g)
			i = j
		case tk.kind == qPunct && (tk.text == "|~" || tk.text == "!~"):
			// A line filter, possibly chained with or.
			for j := i + 1; j < len(toks) && toks[j].kind == qString; j += 2 {
				q.regexes = append(q.regexes, qregex{"line filter", toks[j].value})
				i = j
				if j+1 >= len(toks) || toks[j+1].text != "or" {
					break
				}
			}
		case tk.kind == qIdent && next(1) != nil && (next(1).text == "=~" || next(1).text == "!~") && next(2) != nil && next(2).kind == qString:
			q.regexes = append(q.regexes, qregex{"label filter", next(2).value})
			i += 2
		case tk.kind == qPunct && tk.text == "|" && next(1) != nil && slices.Contains(pipelineStages, next(1).text):
			q.stages = append(q.stages, next(1).text)
		case tk.kind == qPunct && tk.text == "[" && next(1) != nil && (next(1).kind == qNumber || next(1).kind == qVar):
			q.ranges = true
			depth++
		case tk.kind == qPunct && (tk.text == "(" || tk.text == "["):
			depth++
		case tk.kind == qPunct && (tk.text == ")" || tk.text == "]"):
			depth--
			if depth < 0 {
				q.balanced = false
			}
		}
	}
	if depth != 0 {
		q.balanced = false
	}
	return q, nil
}

// scanSelector reads {name op "value", ...} starting at toks[i] == "{" and
// returns the index of its "}".
func scanSelector(expr string, toks []qtoken, i int) (qselector, int, bool) {
	var sel qselector
	j := i + 1
	for j < len(toks) && toks[j].text != "}" {
		if toks[j].text == "," {
			j++
			continue
		}
		if j+2 >= len(toks) {
			return sel, 0, false
		}
		name, op, val := toks[j], toks[j+1], toks[j+2]
		if name.kind != qIdent && name.kind != qString || !slices.Contains([]string{"=", "!=", "=~", "!~"}, op.text) {
			return sel, 0, false
		}
		m := qmatcher{name: cmp.Or(name.value, name.text), op: op.text}
		switch val.kind {
		case qString:
			m.value = val.value
		case qVar:
			m.value = val.text
		default:
			return sel, 0, false
		}
		sel.matchers = append(sel.matchers, m)
		j += 3
	}
	if j >= len(toks) {
		return sel, 0, false
	}
	sel.text = expr[toks[i].pos : toks[j].pos+1]
	return sel, j, true
}
