package plan

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func TestUIDKeepsShortIdentitiesReadable(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"short names join with a double dash", []string{"aiobs", "search", "chat"}, "aiobs--search--chat"},
		{"exactly forty characters stay as they are", []string{"aiobs", "abcdefghijklmnop", "qrstuvwxyzabcde"}, "aiobs--abcdefghijklmnop--qrstuvwxyzabcde"},
		{"forty-one characters get a hash suffix", []string{"aiobs", "abcdefghijklmnop", "qrstuvwxyzabcdef"}, "aiobs--abcdefghijklmnop--qrstuv-0fa6ec24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UID(tt.parts...); got != tt.want {
				t.Errorf("UID(%q) = %q, want %q", tt.parts, got, tt.want)
			}
		})
	}
}

var uidChars = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

func TestUIDOfLongNamesIsBoundedAndDistinct(t *testing.T) {
	a := UID("aiobs", "a-very-long-team-name-of-thirty", "a-very-long-workload-name-of-3a")
	b := UID("aiobs", "a-very-long-team-name-of-thirty", "a-very-long-workload-name-of-3b")
	for _, u := range []string{a, b} {
		if !uidChars.MatchString(u) || strings.HasSuffix(u, "-") {
			t.Errorf("UID %q is not a valid Grafana uid of at most 40 characters", u)
		}
	}
	if a == b {
		t.Errorf("distinct identities share the uid %q", a)
	}
}

// FuzzFormatMatchers checks that any label value, however hostile, yields a
// selector Prometheus parses and whose matcher holds exactly that value.
func FuzzFormatMatchers(f *testing.F) {
	for _, s := range []string{
		`plain`, `with "quotes"`, `back\slash`, "new\nline", `}`, `"}`, `a"} or vector(1) #`,
		`.*`, `(a|b)+[x]`, "é", "ｍｏｄｅｌ", "\u202e", "\x00", "tab\there", `\u0041`, "..", "/etc/passwd",
	} {
		f.Add(s)
	}
	p := parser.NewParser(parser.Options{})
	f.Fuzz(func(t *testing.T, value string) {
		if !utf8.ValidString(value) {
			t.Skip("label values are UTF-8 by the schema")
		}
		sel := "up" + FormatMatchers([]Matcher{{Name: "model", Op: "=", Value: value}, {Name: "job", Op: "=", Value: "x"}})
		expr, err := p.ParseExpr(sel)
		if err != nil {
			t.Fatalf("selector %s does not parse: %v", sel, err)
		}
		vs, ok := expr.(*parser.VectorSelector)
		if !ok {
			t.Fatalf("selector %s parsed as %T", sel, expr)
		}
		var got *labels.Matcher
		for _, m := range vs.LabelMatchers {
			if m.Name == "model" {
				got = m
			}
		}
		if got == nil || got.Type != labels.MatchEqual || got.Value != value {
			t.Fatalf("selector %s lost the value %q: %v", sel, value, vs.LabelMatchers)
		}
		if len(vs.LabelMatchers) != 3 {
			t.Fatalf("selector %s has %d matchers, want 3 (model, job, __name__)", sel, len(vs.LabelMatchers))
		}
	})
}
