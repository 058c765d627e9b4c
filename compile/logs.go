package compile

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"github.com/prometheus/common/model"

	"github.com/aiobs/aiobs/compile/plan"
)

// The decoded shape of #Logs (standards/logs.cue). It is decoded apart from
// decisions because the log rules are their own subtree; every field of
// #LogQuery, #LogAlert and #LogMetric must be here.
type logsDecision struct {
	Alerts  map[string]logAlertDecision  `json:"alerts"`
	Metrics map[string]logMetricDecision `json:"metrics"`
}

type logQueryDecision struct {
	Streams     map[string]string     `json:"streams"`
	Contains    []string              `json:"contains"`
	ContainsAny []string              `json:"containsAny"`
	Matches     []string              `json:"matches"`
	Excludes    []string              `json:"excludes"`
	NotMatches  []string              `json:"notMatches"`
	Parser      string                `json:"parser"`
	Where       []fieldFilterDecision `json:"where"`
	Aggregate   string                `json:"aggregate"`
	Unwrap      string                `json:"unwrap"`
	Quantiles   []number              `json:"quantiles"`
	By          []string              `json:"by"`
	Window      string                `json:"window"`
}

type fieldFilterDecision struct {
	Field string     `json:"field"`
	Op    string     `json:"op"`
	Value fieldValue `json:"value"`
}

// fieldValue is a string or a number, kept as the decision wrote it.
type fieldValue struct {
	text   string
	number bool
}

// UnmarshalJSON receives the JSON CUE encodes: a quoted string or an exact
// decimal.
func (f *fieldValue) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &f.text)
	}
	f.text, f.number = string(b), true
	return nil
}

type logAlertDecision struct {
	logQueryDecision
	Class       string  `json:"class"`
	Severity    string  `json:"severity"`
	AlwaysPage  bool    `json:"alwaysPage"`
	GPU         bool    `json:"gpu"`
	Op          string  `json:"op"`
	Threshold   *number `json:"threshold"`
	For         string  `json:"for"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	RunbookURL  string  `json:"runbookURL"`
	Enabled     *bool   `json:"enabled"`
}

type logMetricDecision struct {
	logQueryDecision
	Record  string `json:"record"`
	Enabled *bool  `json:"enabled"`
}

type lokiRawDecision struct {
	Tenant         string `json:"tenant"`
	RetentionHours int    `json:"retentionHours"`
}

// Defaults of the optional #LogAlert and #LogQuery fields; standards/logs.cue
// documents them.
const (
	defaultLogWindow = "5m"
	defaultLogOp     = ">"
	defaultThreshold = "0"
	defaultLogFor    = "0m"
)

// logqlKeywords lex as keywords in LogQL, so a field of that name could not
// be written in a filter, grouping or unwrap.
var logqlKeywords = []string{
	"and", "bool", "by", "bytes", "duration", "duration_seconds", "group_left", "group_right", "ignoring",
	"ip", "json", "keep", "drop", "label_format", "line_format", "logfmt", "offset", "on", "or",
	"pattern", "regexp", "unless", "unpack", "unwrap", "without",
}

// logs decodes the log rules and the environments' raw-stream opt-ins into
// the plan. It runs after environments are built and checks what CUE cannot:
// every pattern compiles as RE2, labels obey the taxonomy, and the parts of
// a query fit together.
func (b *builder) logs() {
	root := cue.MakePath(cue.Str("logs"))
	if v := b.root.LookupPath(root); v.Exists() {
		var d logsDecision
		if err := v.Decode(&d); err != nil {
			b.diags = append(b.diags, cueDiagsIn(v, err, "DECISION_INVALID")...)
			return
		}
		b.logAlerts(root, d.Alerts)
		b.logMetrics(root, d.Metrics)
	}
	for _, env := range b.plan.Environments {
		p := cue.MakePath(cue.Str("environments"), cue.Str(env.Name), cue.Str("loki"), cue.Str("raw"))
		v := b.root.LookupPath(p)
		if !v.Exists() {
			continue
		}
		var d lokiRawDecision
		if err := v.Decode(&d); err != nil {
			b.diags = append(b.diags, cueDiagsIn(v, err, "DECISION_INVALID")...)
			continue
		}
		// Access to Loki is granted per tenant, so unredacted lines must
		// never share a tenant that standard dashboards and rules read.
		if i := slices.IndexFunc(b.plan.Environments, func(e *plan.Environment) bool { return e.Loki.Tenant == d.Tenant }); i >= 0 {
			owner := "the environment's own tenant"
			if e := b.plan.Environments[i]; e != env {
				owner = "environment " + e.Name + "'s tenant"
			}
			b.errorAt(sub(p, "tenant"), "LOKI_RAW_TENANT", "environments."+env.Name+".loki.raw.tenant",
				fmt.Sprintf("the raw stream's tenant %q is %s; give the raw stream a tenant of its own so that access to unredacted lines is granted apart", d.Tenant, owner))
			continue
		}
		env.Loki.Raw = &plan.LokiRaw{Tenant: d.Tenant, RetentionHours: d.RetentionHours, Pos: b.pos(p)}
	}
}

func (b *builder) logAlerts(root cue.Path, alerts map[string]logAlertDecision) {
	for _, name := range sortedKeys(alerts) {
		d := alerts[name]
		path := sub(root, "alerts", name)
		display := "logs.alerts." + name
		n := len(b.diags)
		q := b.logQuery(path, display, d.logQueryDecision)
		a := &plan.LogAlert{
			Name: name, Class: d.Class, Severity: d.Severity, AlwaysPage: d.AlwaysPage, GPU: d.GPU,
			Query: q, Op: cmp.Or(d.Op, defaultLogOp), Threshold: defaultThreshold, For: cmp.Or(d.For, defaultLogFor),
			Title: d.Title, Description: d.Description, RunbookURL: d.RunbookURL, Pos: b.pos(path),
		}
		if d.Threshold != nil {
			a.Threshold = string(*d.Threshold)
		}
		if q.Aggregate == "quantile" && len(q.Quantiles) > 1 {
			b.errorAt(sub(path, "quantiles"), "LOG_QUANTILES", display+".quantiles",
				fmt.Sprintf("an alert compares one quantile, not %d; give quantiles: [0.95]", len(q.Quantiles)))
		}
		if d.Class == "pii" && len(q.By) > 0 {
			// A grouping label is copied into the alert, its notifications
			// and Alertmanager's storage: it must never carry a leaked value.
			b.errorAt(sub(path, "by"), "LOG_PII_GROUPING", display+".by", "a pii alert may not group by fields: the grouping label could carry the leaked value into the alert")
		}
		if d.Enabled != nil && !*d.Enabled || len(b.diags) > n {
			continue
		}
		b.plan.Standard.Logs.Alerts = append(b.plan.Standard.Logs.Alerts, a)
	}
}

func (b *builder) logMetrics(root cue.Path, metrics map[string]logMetricDecision) {
	records := map[string]string{}
	for _, name := range sortedKeys(metrics) {
		d := metrics[name]
		path := sub(root, "metrics", name)
		display := "logs.metrics." + name
		n := len(b.diags)
		q := b.logQuery(path, display, d.logQueryDecision)
		if prev, ok := records[d.Record]; ok {
			b.errorAt(sub(path, "record"), "LOG_RECORD_DUPLICATE", display+".record",
				fmt.Sprintf("logs.metrics.%s already records %s; give each log metric its own series name", prev, d.Record))
		}
		records[d.Record] = name
		if d.Enabled != nil && !*d.Enabled || len(b.diags) > n {
			continue
		}
		b.plan.Standard.Logs.Metrics = append(b.plan.Standard.Logs.Metrics, &plan.LogMetric{Name: name, Record: d.Record, Query: q, Pos: b.pos(path)})
	}
}

// logQuery checks one typed query and converts it.
func (b *builder) logQuery(path cue.Path, display string, d logQueryDecision) plan.LogQuery {
	q := plan.LogQuery{
		Streams: labels(d.Streams), Contains: nonEmpty(d.Contains), ContainsAny: nonEmpty(d.ContainsAny),
		Matches: nonEmpty(d.Matches), Excludes: nonEmpty(d.Excludes), NotMatches: nonEmpty(d.NotMatches),
		Parser: d.Parser, Aggregate: d.Aggregate, Unwrap: d.Unwrap, By: nonEmpty(d.By),
		Window: cmp.Or(d.Window, defaultLogWindow),
	}
	std := &b.plan.Standard
	for _, l := range q.Streams {
		at, where := sub(path, "streams", l.Name), display+".streams."+l.Name
		switch {
		case slices.Contains([]string{plan.EnvStreamLabel, plan.StreamLabel, plan.TeamStreamLabel, plan.WorkloadStreamLabel}, l.Name):
			b.errorAt(at, "LOG_STREAM_FIXED", where, fmt.Sprintf("aiobs sets %s for every target; a rule reads the workload's redacted stream", l.Name))
		case slices.Contains(std.ForbiddenLabels, l.Name):
			b.errorAt(at, "LABEL_REQUEST_SCOPED", where, fmt.Sprintf("%s is request-scoped and never a stream label; filter on it after a parser instead", l.Name))
		case !slices.Contains(std.StreamLabels, l.Name):
			b.errorAt(at, "STREAM_LABEL_NOT_ALLOWED", where, fmt.Sprintf("%s is not a stream label; the taxonomy allows %s", l.Name, strings.Join(std.StreamLabels, ", ")))
		}
	}
	for _, list := range []struct {
		key      string
		patterns []string
	}{{"matches", d.Matches}, {"notMatches", d.NotMatches}} {
		for i, p := range list.patterns {
			at := cue.MakePath(append(sub(path, list.key).Selectors(), cue.Index(i))...)
			b.pattern(at, fmt.Sprintf("%s.%s[%d]", display, list.key, i), p, true)
		}
	}
	for i, w := range d.Where {
		at := cue.MakePath(append(sub(path, "where").Selectors(), cue.Index(i))...)
		where := fmt.Sprintf("%s.where[%d]", display, i)
		f := plan.FieldFilter{Field: w.Field, Op: cmp.Or(w.Op, "="), Value: w.Value.text, Number: w.Value.number}
		numeric := slices.Contains([]string{">", ">=", "<", "<="}, f.Op)
		switch {
		case numeric && !f.Number:
			b.errorAt(sub(at, "value"), "LOG_FILTER_TYPE", where+".value", fmt.Sprintf("%s compares numbers; give a number, not %q", f.Op, f.Value))
		case !numeric && f.Number:
			b.errorAt(sub(at, "value"), "LOG_FILTER_TYPE", where+".value", fmt.Sprintf("%s compares strings; quote the value: %q", f.Op, f.Value))
		case f.Op == "=~" || f.Op == "!~":
			b.pattern(sub(at, "value"), where+".value", f.Value, false)
		}
		b.field(sub(at, "field"), where+".field", f.Field)
		q.Where = append(q.Where, f)
	}
	for _, qt := range d.Quantiles {
		q.Quantiles = append(q.Quantiles, string(qt))
	}
	unwraps := slices.Contains([]string{"quantile", "avg", "max", "min"}, q.Aggregate)
	switch {
	case unwraps && q.Unwrap == "":
		b.errorAt(sub(path, "aggregate"), "LOG_AGGREGATE", display+".aggregate", fmt.Sprintf("aggregate %s reads a number from each line; name the field in unwrap", q.Aggregate))
	case !unwraps && q.Unwrap != "":
		b.errorAt(sub(path, "unwrap"), "LOG_AGGREGATE", display+".unwrap", fmt.Sprintf("aggregate %s counts lines and reads no field; drop unwrap or aggregate quantile, avg, max or min", q.Aggregate))
	case q.Aggregate == "quantile" && len(q.Quantiles) == 0:
		b.errorAt(sub(path, "quantiles"), "LOG_QUANTILES", display+".quantiles", "aggregate quantile needs quantiles, e.g. [0.5, 0.95]")
	case q.Aggregate != "quantile" && len(q.Quantiles) > 0:
		b.errorAt(sub(path, "quantiles"), "LOG_QUANTILES", display+".quantiles", "quantiles only apply to aggregate quantile")
	}
	if q.Unwrap != "" {
		b.field(sub(path, "unwrap"), display+".unwrap", q.Unwrap)
	}
	needsParser := len(q.Where) > 0 || q.Unwrap != ""
	for i, f := range q.By {
		at := cue.MakePath(append(sub(path, "by").Selectors(), cue.Index(i))...)
		where := fmt.Sprintf("%s.by[%d]", display, i)
		if slices.Contains(std.ForbiddenLabels, f) {
			b.errorAt(at, "LABEL_REQUEST_SCOPED", where, fmt.Sprintf("%s is request-scoped: grouping by it would make a series per request", f))
			continue
		}
		b.field(at, where, f)
		if !slices.Contains(std.StreamLabels, f) {
			needsParser = true
		}
	}
	if dup := duplicates(slices.Sorted(slices.Values(q.By))); len(dup) > 0 {
		b.errorAt(sub(path, "by"), "LOG_GROUPING", display+".by", strings.Join(dup, ", ")+" is listed twice")
	}
	if needsParser && q.Parser == "" {
		b.errorAt(path, "LOG_PARSER_MISSING", display, "where, unwrap and grouping by fields read parsed fields; set parser: \"json\" or \"logfmt\"")
	}
	if w, err := model.ParseDuration(q.Window); err != nil || w <= 0 {
		b.errorAt(sub(path, "window"), "LOG_WINDOW", display+".window", fmt.Sprintf("%q is not a positive duration", q.Window))
	}
	return q
}

// pattern checks an RE2 pattern. Line filters must not match the empty
// string: such a filter keeps every line, so the rule would fire on all
// traffic.
func (b *builder) pattern(at cue.Path, display, p string, lineFilter bool) {
	re, err := regexp.Compile(p)
	if err != nil {
		msg := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			msg = string(se.Code) + ": " + strconv.Quote(se.Expr)
		}
		b.errorAt(at, "LOG_PATTERN_INVALID", display, fmt.Sprintf("%s is not an RE2 pattern: %s; Loki's regex engine is RE2 (no look-around, no back-references)", strconv.Quote(p), msg))
		return
	}
	if lineFilter && re.MatchString("") {
		b.errorAt(at, "LOG_PATTERN_MATCHES_EMPTY", display, fmt.Sprintf("%s matches the empty string, so it would keep every line", strconv.Quote(p)))
	}
}

// field refuses a field name that LogQL reads as a keyword.
func (b *builder) field(at cue.Path, display, name string) {
	if slices.Contains(logqlKeywords, name) {
		b.errorAt(at, "LOG_FIELD_RESERVED", display, fmt.Sprintf("%s is a LogQL keyword and cannot name a field; rename the field in the log line", name))
	}
}

// nonEmpty keeps the plan free of empty lists, so that a rule without
// filters prints the same however CUE decoded it.
func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
