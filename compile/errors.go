package compile

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/standards"
)

// cueDiags turns a CUE error into diagnostics anchored at the user's file.
// Raw CUE messages need polishing: the default-value branch of a disjunction
// adds noise, enum conflicts list every alternative separately, and the
// primary position is often inside the standard rather than the decision.
func cueDiags(err error, rule string) diag.List { return cueDiagsIn(cue.Value{}, err, rule) }

// cueDiagsIn is cueDiags with the evaluated root, used to anchor errors
// that CUE reports without a user position (a missing required field) at
// the nearest enclosing decision, and to suggest field names.
func cueDiagsIn(root cue.Value, err error, rule string) diag.List {
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
		out = append(out, polish(root, key, byPath[key], rule))
	}
	return out
}

// polish merges the CUE errors reported for one path into one diagnostic.
func polish(root cue.Value, path string, errs []cueerrors.Error, rule string) diag.Diagnostic {
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
	// The standard's own positions (the #Decisions map, the schema line)
	// mean nothing to a user who cannot open those files; they are shown
	// only when nothing in the user's files is involved.
	switch {
	case len(user) > 0:
		d.Pos = user[0]
		d.Related = user[1:]
	case root.Exists():
		d.Pos = enclosing(root, errs[0].Path())
	}
	if !d.Pos.IsValid() && len(std) > 0 {
		d.Related = std[:1]
	}
	if d.Rule == "DECISION_INVALID" {
		d.Rule = classify(strings.Join(msgs, "; "))
	}
	d.Msg = mergeMessages(msgs)
	if d.Rule == "DECISION_UNKNOWN_FIELD" {
		d.Msg = unknownField(root, errs[0].Path())
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
	m = longLiteral.ReplaceAllStringFunc(m, shorten)
	return strings.TrimSpace(m)
}

// longLiteral is a quoted value too long to repeat in a message: a 10 MB
// string must not come back as a 10 MB error.
var longLiteral = regexp.MustCompile(`"(?:[^"\\]|\\.){81,}"`)

// clip shortens any printed value to what a message can carry.
func clip(v string) string {
	r := []rune(v)
	if len(r) <= 80 {
		return v
	}
	return fmt.Sprintf("%s… (%d bytes)", string(r[:60]), len(v))
}

func shorten(lit string) string {
	r := []rune(lit)
	return fmt.Sprintf("%s…\" (%d bytes)", string(r[:61]), len(lit)-2)
}

// enclosing finds the user's position of the nearest ancestor of path, for
// errors about something that is absent.
func enclosing(root cue.Value, path []string) diag.Pos {
	for n := len(path) - 1; n > 0; n-- {
		sels := make([]cue.Selector, 0, n)
		for _, p := range path[:n] {
			if p == "#Decisions" {
				continue
			}
			sels = append(sels, cue.Str(p))
		}
		if pos := userPos(root.LookupPath(cue.MakePath(sels...))); pos.IsValid() {
			return pos
		}
	}
	return diag.Pos{}
}

// userPos is the first position of v that lies in a user file.
func userPos(v cue.Value) diag.Pos {
	if p := position(v.Pos()); p.IsValid() && !isStandard(p) {
		return p
	}
	_, args := v.Expr()
	for _, a := range args {
		if p := position(a.Pos()); p.IsValid() && !isStandard(p) {
			return p
		}
	}
	return diag.Pos{}
}

// nameMaps are the maps whose keys are names a user chooses.
var nameMaps = map[string]string{"environments": "environment", "teams": "team", "workloads": "workload", "backends": "backend"}

// unknownField explains a field the schema does not allow: a badly formed
// name where the parent is a map of names, else the nearest allowed field.
func unknownField(root cue.Value, path []string) string {
	path = slices.DeleteFunc(slices.Clone(path), func(p string) bool { return p == "#Decisions" })
	if len(path) == 0 {
		return "field not allowed here"
	}
	name := path[len(path)-1]
	if u, err := strconv.Unquote(name); err == nil {
		name = u
	}
	if len(path) >= 2 {
		if kind, ok := nameMaps[path[len(path)-2]]; ok {
			return fmt.Sprintf("%q is not a valid %s name: want lowercase letters, digits and single dashes, starting with a letter, at most 30 characters", name, kind)
		}
	}
	var allowed []string
	parent := root
	if len(path) > 1 {
		sels := make([]cue.Selector, len(path)-1)
		for i, p := range path[:len(path)-1] {
			sels[i] = cue.Str(p)
		}
		parent = root.LookupPath(cue.MakePath(sels...))
	}
	if it, err := parent.Fields(cue.Optional(true)); err == nil {
		for it.Next() {
			if f := it.Selector().Unquoted(); f != name {
				allowed = append(allowed, f)
			}
		}
	}
	slices.Sort(allowed)
	msg := fmt.Sprintf("field %q is not allowed here%s", name, suggest(name, allowed))
	if len(allowed) > 0 {
		msg += "; allowed fields: " + strings.Join(allowed, ", ")
	}
	return msg
}

// mergeMessages collapses the alternatives of an enum conflict into one
// "use one of" message and drops duplicates and default-value noise. CUE
// reports an enum failure as one "conflicting values <allowed> and
// <given>" per alternative.
func mergeMessages(msgs []string) string {
	msgs = slices.DeleteFunc(msgs, func(m string) bool { return m == "" })
	slices.Sort(msgs)
	msgs = slices.Compact(msgs)
	alternatives := map[string][]string{} // given value -> allowed values
	var givens, rest []string
	for _, m := range msgs {
		allowed, given, ok := parseConflict(m)
		if ok && concrete(allowed) && concrete(given) {
			if _, seen := alternatives[given]; !seen {
				givens = append(givens, given)
			}
			alternatives[given] = append(alternatives[given], allowed)
			continue
		}
		rest = append(rest, m)
	}
	var out []string
	for _, given := range givens {
		alts := alternatives[given]
		switch {
		case len(alts) > 1:
			slices.Sort(alts)
			out = append(out, given+" is not allowed; use one of "+strings.Join(alts, ", "))
		case len(rest) == 0:
			out = append(out, given+" conflicts with "+alts[0])
		}
		// A single conflict next to a more telling message is the default
		// branch of a disjunction (availability: *99.5 | ...), which the
		// user never wrote.
	}
	for _, m := range rest {
		out = append(out, hint(typeMismatch(m)))
	}
	return strings.Join(out, "; ")
}

var mismatch = regexp.MustCompile(`^conflicting values (.+?) and (.+?) \(mismatched types (\w+) and (\w+)\)$`)

// typeMismatch rewrites CUE's type conflict as what was found and what was
// wanted.
func typeMismatch(m string) string {
	s := mismatch.FindStringSubmatch(m)
	if s == nil {
		return m
	}
	return fmt.Sprintf("%s is a %s; want a %s", clip(s[1]), s[3], s[4])
}

var literal = regexp.MustCompile(`^(".*"|-?[0-9][0-9.eE+-]*|true|false|null)$`)

func concrete(s string) bool { return literal.MatchString(s) }

var conflict = regexp.MustCompile(`^conflicting values (.+?) and (.+?)(?: \(mismatched types .*\))?$`)

// parseConflict splits CUE's "conflicting values A and B" message.
func parseConflict(m string) (allowed, given string, ok bool) {
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
	{regexp.MustCompile(`=~"\^\[a-z\]\(\[a-z0-9\]\|-\[a-z0-9\]\)`), "want a name of lowercase letters, digits and single dashes, starting with a letter, at most 30 characters"},
	{regexp.MustCompile(`=~"\^\(\[0-9\]\+\(ms`), "want a Prometheus duration such as 30s, 5m, 1h or 30d"},
	{regexp.MustCompile(`=~"\^\[a-zA-Z_\]\[a-zA-Z0-9_\]\{0,62\}\$"`), "want a label name of letters, digits and underscores, not starting with a digit"},
	{regexp.MustCompile(`=~"\^\[a-zA-Z0-9_-\]\{1,40\}\$"`), "want a Grafana uid of at most 40 letters, digits, '-' or '_'"},
	{regexp.MustCompile(`=~"\^\[\^\\\\x00-\\\\x1f\\\\x7f\]\{1,128\}\$"`), "want 1 to 128 printable characters without control characters"},
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
	case strings.Contains(msg, "invalid value"), strings.Contains(msg, "out of bound"):
		return "DECISION_OUT_OF_BOUNDS"
	case strings.Contains(msg, "mismatched types"):
		return "DECISION_TYPE"
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
