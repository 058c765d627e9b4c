// Package diag is the one diagnostic type shared by compile errors and validate
// findings, with its sorted list and one printer per output format.
//
// A Diagnostic names where the problem is (the user's decision file:line:col
// and, for findings about output, the artifact path), a stable upper-snake
// rule ID, a severity and a terse message. It knows nothing about CUE, files
// on disk or the stages that produce diagnostics.
package diag

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Severity orders how bad a diagnostic is; errors fail the command.
type Severity int

// Severities, from least to most severe.
const (
	Warning Severity = iota
	Error
)

// String returns the lowercase name used in every output format.
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText lets JSON output carry the name, not the number.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Pos is a position in a user's file. Line and Column are 1-based; a zero
// Line means the file as a whole.
type Pos struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// IsValid reports whether the position names a file.
func (p Pos) IsValid() bool { return p.File != "" }

// String formats the position GCC-style: file:line:col.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Column == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Compare orders positions by file, line, then column.
func (p Pos) Compare(q Pos) int {
	return cmp.Or(cmp.Compare(p.File, q.File), cmp.Compare(p.Line, q.Line), cmp.Compare(p.Column, q.Column))
}

// Diagnostic is one problem found in the decisions or in the rendered output.
type Diagnostic struct {
	// Pos is the decision that caused the problem, when one is known.
	Pos Pos `json:"pos,omitzero"`
	// Related are further contributing positions (the standard's
	// constraint a value conflicts with, say).
	Related []Pos `json:"related,omitempty"`
	// Rule is a stable UPPER_SNAKE identifier, e.g. DATASOURCE_UNBOUND.
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Artifact is the output path the finding is about, slash-separated and
	// relative to the output directory.
	Artifact string `json:"artifact,omitempty"`
	// Path is the CUE path of the offending value (teams.a.workloads.b.slo).
	Path string `json:"path,omitempty"`
	Msg  string `json:"message"`
}

// Error formats the diagnostic on one line, as the text printer does.
func (d Diagnostic) Error() string {
	var b strings.Builder
	if s := d.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if d.Artifact != "" {
		b.WriteString(d.Artifact)
		b.WriteString(": ")
	}
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Msg)
	return b.String()
}

// List is a set of diagnostics. As an error it stands for all of them.
type List []Diagnostic

// Error summarises the list; printers show every entry.
func (l List) Error() string {
	switch len(l) {
	case 0:
		return "no problems"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more problems)", l[0].Error(), len(l)-1)
}

// HasErrors reports whether any diagnostic is an error rather than a warning.
func (l List) HasErrors() bool {
	return slices.ContainsFunc(l, func(d Diagnostic) bool { return d.Severity == Error })
}

// Sorted returns the list ordered by position, artifact, rule and message,
// with exact duplicates removed, so output never depends on discovery order.
func (l List) Sorted() List {
	out := slices.Clone(l)
	slices.SortStableFunc(out, compare)
	return slices.CompactFunc(out, func(a, b Diagnostic) bool { return compare(a, b) == 0 })
}

func compare(a, b Diagnostic) int {
	return cmp.Or(
		a.Pos.Compare(b.Pos),
		cmp.Compare(a.Artifact, b.Artifact),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Rule, b.Rule),
		cmp.Compare(a.Msg, b.Msg),
		cmp.Compare(a.Severity, b.Severity),
		slices.CompareFunc(a.Related, b.Related, Pos.Compare),
	)
}

// Formats accepted by Print.
const (
	FormatText   = "text"
	FormatJSON   = "json"
	FormatGitHub = "github"
)

// Formats lists the accepted output formats, for flag help and validation.
var Formats = []string{FormatText, FormatJSON, FormatGitHub}

// Print writes the sorted list to w in the given format.
func Print(w io.Writer, l List, format string) error {
	l = l.Sorted()
	switch format {
	case FormatText, "":
		return printText(w, l)
	case FormatJSON:
		return printJSON(w, l)
	case FormatGitHub:
		return printGitHub(w, l)
	}
	return fmt.Errorf("unknown format %q; want one of %s", format, strings.Join(Formats, ", "))
}

func printText(w io.Writer, l List) error {
	var b strings.Builder
	for _, d := range l {
		if d.Severity == Warning {
			b.WriteString("warning: ")
		}
		b.WriteString(d.Error())
		fmt.Fprintf(&b, " [%s]\n", d.Rule)
		for _, r := range d.Related {
			fmt.Fprintf(&b, "    %s\n", r)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func printJSON(w io.Writer, l List) error {
	if l == nil {
		l = List{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Findings List `json:"findings"`
	}{l})
}

// printGitHub writes workflow commands that GitHub Actions turns into
// annotations on the pull request's diff.
func printGitHub(w io.Writer, l List) error {
	var b strings.Builder
	for _, d := range l {
		level := "error"
		if d.Severity == Warning {
			level = "warning"
		}
		var props []string
		file := d.Pos.File
		if file == "" {
			file = d.Artifact
		}
		if file != "" {
			props = append(props, "file="+escapeProperty(file))
		}
		if d.Pos.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", d.Pos.Line))
		}
		if d.Pos.Column > 0 {
			props = append(props, fmt.Sprintf("col=%d", d.Pos.Column))
		}
		props = append(props, "title="+escapeProperty(d.Rule))
		msg := d.Msg
		if d.Path != "" {
			msg = d.Path + ": " + msg
		}
		if d.Artifact != "" && d.Pos.File != "" {
			msg = d.Artifact + ": " + msg
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", level, strings.Join(props, ","), escapeData(msg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeData and escapeProperty follow the escaping of the GitHub Actions
// toolkit (command.ts), so newlines and separators survive.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
