package compile

import (
	"regexp"
	"slices"
	"strings"

	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/standards"
)

// cueDiags turns a CUE error into diagnostics anchored at the user's file.
// Raw CUE messages need polishing: the default-value branch of a disjunction
// adds noise, enum conflicts list every alternative separately, and the
// primary position is often inside the standard rather than the decision.
func cueDiags(err error, rule string) diag.List {
	var out diag.List
	byPath := map[string][]cueerrors.Error{}
	var order []string
	for _, e := range cueerrors.Errors(err) {
		key := strings.Join(e.Path(), ".")
		if _, ok := byPath[key]; !ok {
			order = append(order, key)
		}
		byPath[key] = append(byPath[key], e)
	}
	for _, key := range order {
		out = append(out, polish(key, byPath[key], rule))
	}
	return out
}

// polish merges the CUE errors reported for one path into one diagnostic.
func polish(path string, errs []cueerrors.Error, rule string) diag.Diagnostic {
	var msgs []string
	var user, std []diag.Pos
	for _, e := range errs {
		for _, p := range append([]token.Pos{e.Position()}, e.InputPositions()...) {
			dp := position(p)
			if !dp.IsValid() {
				continue
			}
			if strings.HasPrefix(dp.File, standards.FilenamePrefix) {
				std = append(std, dp)
			} else {
				user = append(user, dp)
			}
		}
		format, args := e.Msg()
		m := cueerrors.NewMessagef(format, args...)
		msgs = append(msgs, cleanMessage(m.Error()))
	}
	d := diag.Diagnostic{Rule: rule, Severity: diag.Error, Path: displayPath(path)}
	slices.SortFunc(user, diag.Pos.Compare)
	user = slices.Compact(user)
	slices.SortFunc(std, diag.Pos.Compare)
	std = slices.Compact(std)
	if len(user) > 0 {
		d.Pos = user[0]
		d.Related = append(d.Related, user[1:]...)
	}
	d.Related = append(d.Related, std...)
	d.Msg = mergeMessages(msgs)
	if d.Rule == "DECISION_INVALID" {
		d.Rule = classify(d.Msg)
	}
	return d
}

var (
	// "conflicting values "x" and =~"re" (mismatched types ...)" → kept, but
	// the regexp is explained by the schema's doc in the hint below.
	noiseErrors  = regexp.MustCompile(`^\d+ errors in empty disjunction:?\s*`)
	fieldNotAllo = regexp.MustCompile(`^field not allowed$`)
)

func cleanMessage(m string) string {
	m = noiseErrors.ReplaceAllString(m, "")
	return strings.TrimSpace(m)
}

// mergeMessages collapses the alternatives of an enum conflict into one
// "use one of" message and drops duplicates.
func mergeMessages(msgs []string) string {
	slices.Sort(msgs)
	msgs = slices.Compact(msgs)
	var alts []string
	var rest []string
	var got string
	for _, m := range msgs {
		if g, want, ok := parseConflict(m); ok && strings.HasPrefix(want, `"`) {
			got = g
			alts = append(alts, want)
			continue
		}
		rest = append(rest, m)
	}
	if len(alts) > 1 {
		slices.Sort(alts)
		rest = append(rest, got+" is not allowed; use one of "+strings.Join(alts, ", "))
	} else if len(alts) == 1 {
		rest = append(rest, "conflicting values "+got+" and "+alts[0])
	}
	for i, m := range rest {
		rest[i] = hint(m)
	}
	return strings.Join(rest, "; ")
}

var conflict = regexp.MustCompile(`^conflicting values (.+?) and (.+?)(?: \(mismatched types .*\))?$`)

func parseConflict(m string) (got, want string, ok bool) {
	s := conflict.FindStringSubmatch(m)
	if s == nil {
		return "", "", false
	}
	return s[1], s[2], true
}

// hints explain the standard's constraints in words where CUE would only
// print a regular expression.
var hints = []struct {
	re  *regexp.Regexp
	say string
}{
	{regexp.MustCompile(`does not match =~"\^\[a-z\]\(\[a-z0-9\]\|-\[a-z0-9\]\)`), "want a name of lowercase letters, digits and single dashes, starting with a letter, at most 30 characters"},
	{regexp.MustCompile(`does not match =~"\^\(\[0-9\]\+\(ms`), "want a Prometheus duration such as 30s, 5m, 1h or 30d"},
	{regexp.MustCompile(`does not match =~"\^\[a-zA-Z_\]\[a-zA-Z0-9_\]\{0,62\}\$"`), "want a label name of letters, digits and underscores, not starting with a digit"},
	{regexp.MustCompile(`does not match =~"\^\[a-zA-Z0-9_-\]\{1,40\}\$"`), "want a Grafana uid of at most 40 letters, digits, '-' or '_'"},
	{regexp.MustCompile(`does not match =~"\^\[\^\\\\x00-\\\\x1f\\\\x7f\]\{1,128\}\$"`), "want 1 to 128 printable characters without control characters"},
	{regexp.MustCompile(`matches !~"\^__"`), "label names starting with __ are reserved by Prometheus"},
}

func hint(m string) string {
	for _, h := range hints {
		if h.re.MatchString(m) {
			return m + " (" + h.say + ")"
		}
	}
	if fieldNotAllo.MatchString(m) {
		return "field not allowed here"
	}
	return m
}

// classify gives a CUE failure a stable rule ID from its message.
func classify(msg string) string {
	switch {
	case strings.Contains(msg, "field not allowed"):
		return "DECISION_UNKNOWN_FIELD"
	case strings.Contains(msg, "field is required but not present"), strings.Contains(msg, "incomplete value"):
		return "DECISION_MISSING"
	case strings.Contains(msg, "mismatched types"):
		return "DECISION_TYPE"
	case strings.Contains(msg, "invalid value"), strings.Contains(msg, "out of bound"):
		return "DECISION_OUT_OF_BOUNDS"
	}
	return "DECISION_CONFLICT"
}

// position converts a CUE position, keeping file names slash-separated.
func position(p token.Pos) diag.Pos {
	if !p.IsValid() {
		return diag.Pos{}
	}
	return diag.Pos{File: strings.ReplaceAll(p.Filename(), `\`, "/"), Line: p.Line(), Column: p.Column()}
}

// displayPath drops the #Decisions root CUE reports for schema errors.
func displayPath(p string) string {
	p = strings.TrimPrefix(p, "#Decisions.")
	if p == "#Decisions" {
		return ""
	}
	return p
}
