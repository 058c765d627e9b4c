package promrules

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/aiobs/aiobs/compile/plan"
)

func TestLeRegexMatchesEverySpellingOfTheBound(t *testing.T) {
	tests := []struct {
		name      string
		v         float64
		match     []string
		different []string
	}{
		{
			name:      "one matches the Go client's 1 and Prometheus 3's 1.0",
			v:         1,
			match:     []string{"1", "1.0", "1.00", "1e+00", "1e0", "1.0e+00"},
			different: []string{"10", "0.1", "11", "1.01", "1e+01", "1e-01", "01.0x"},
		},
		{
			name:      "a half matches 0.5 and a decision's 0.50",
			v:         0.5,
			match:     []string{"0.5", "0.50", "0.500", "5e-01", "5.0e-1", "5E-01"},
			different: []string{"0.05", "5", "0.55", "0.5.0", ".5x", "5e-02", "5e+01"},
		},
		{
			name:      "a million matches the exponent forms of Go and Python clients",
			v:         1e6,
			match:     []string{"1e+06", "1000000", "1000000.0", "1.0e+06", "1e6", "1e+006"},
			different: []string{"100000", "1e+05", "10000000", "1e+07"},
		},
		{
			name:      "2560 keeps its zeros in the integer part",
			v:         2560,
			match:     []string{"2560", "2560.0", "2.56e+03", "2.560e+03"},
			different: []string{"256", "25600", "2.56e+02", "2560.5"},
		},
		{
			name:      "a small bound keeps its leading zeros",
			v:         0.00625,
			match:     []string{"0.00625", "0.006250", "6.25e-03", "6.25e-3"},
			different: []string{"0.0625", "0.000625", "6.25e-02"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile("^(?:" + LeRegex(tt.v) + ")$")
			for _, s := range tt.match {
				if !re.MatchString(s) {
					t.Errorf("%s does not match %q", re, s)
				}
			}
			for _, s := range tt.different {
				if re.MatchString(s) {
					t.Errorf("%s matches %q, which is another bound", re, s)
				}
			}
		})
	}
}

// spellings lists how clients and Prometheus write v.
func spellings(v float64) []string {
	g := strconv.FormatFloat(v, 'g', -1, 64)
	out := []string{
		g,
		labels.FormatOpenMetricsFloat(v),
		strconv.FormatFloat(v, 'f', -1, 64),
		strconv.FormatFloat(v, 'e', -1, 64),
		strconv.FormatFloat(v, 'E', -1, 64),
		pythonFloatToGoString(v),
	}
	if f := strconv.FormatFloat(v, 'f', -1, 64); strings.Contains(f, ".") {
		out = append(out, f+"00")
	} else {
		out = append(out, f+".000")
	}
	return out
}

// pythonFloatToGoString follows prometheus_client's floatToGoString:
// Python's repr, switching to an exponent when the integer part has more
// than six digits.
func pythonFloatToGoString(v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if abs := math.Abs(v); abs >= 1e-4 && abs < 1e16 {
		s = strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
	}
	dot := strings.Index(s, ".")
	if v > 0 && dot > 6 && !strings.ContainsAny(s, "e") {
		m := strings.TrimRight(s[:1]+"."+s[1:dot]+s[dot+1:], "0.")
		return m + "e+0" + strconv.Itoa(dot-1)
	}
	return s
}

// FuzzLeRegex checks that the pattern matches every spelling of the bound,
// that a spelling of a neighbouring float never matches, and that the
// pattern survives quoting into a PromQL selector.
func FuzzLeRegex(f *testing.F) {
	for _, v := range []float64{0, 1, 0.5, 2.5, 1e6, 2560, 0.00625, 1e-5, 7680, 0.001, 123456789, 1e21, 5e-324, math.MaxFloat64} {
		f.Add(v)
	}
	p := parser.NewParser(parser.Options{})
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return
		}
		pattern := LeRegex(v)
		re := regexp.MustCompile("^(?:" + pattern + ")$")
		for _, s := range spellings(v) {
			if !re.MatchString(s) {
				t.Errorf("%s does not match %q, a spelling of %v", pattern, s, v)
			}
		}
		for _, n := range []float64{math.Nextafter(v, math.Inf(1)), math.Nextafter(v, math.Inf(-1)), v * 10, v / 10} {
			if n == v || n < 0 || math.IsInf(n, 0) {
				continue
			}
			for _, s := range spellings(n) {
				parsed, err := strconv.ParseFloat(s, 64)
				if err == nil && parsed == v {
					continue // n's spelling rounds to v itself
				}
				if re.MatchString(s) {
					t.Errorf("%s matches %q, a spelling of %v, not %v", pattern, s, n, v)
				}
			}
		}
		sel := "x" + plan.FormatMatchers([]plan.Matcher{{Name: "le", Op: "=~", Value: pattern}})
		ms, err := p.ParseMetricSelector(sel)
		if err != nil {
			t.Fatalf("%s does not parse: %v", sel, err)
		}
		for _, m := range ms {
			if m.Name == "le" && !m.Matches(labels.FormatOpenMetricsFloat(v)) {
				t.Errorf("parsed matcher %s does not match %q", m, labels.FormatOpenMetricsFloat(v))
			}
		}
	})
}

// FuzzSelectorQuoting checks that any label value reaches the parsed
// selector intact, as an equality value and as a quoted regex.
func FuzzSelectorQuoting(f *testing.F) {
	for _, s := range []string{
		`plain`, `with "quotes"`, `back\slash`, "new\nline", `close}brace`, `a.b*c+d?[e](f)|g^h$`,
		"ünïcödé ✓ 模型", `\x41`, `'single'`, "tab\tand\rreturn", "", `\\"}`, "emoji 🦙",
	} {
		f.Add(s)
	}
	p := parser.NewParser(parser.Options{})
	f.Fuzz(func(t *testing.T, value string) {
		if !utf8.ValidString(value) {
			return // label values must be UTF-8; the schema refuses others
		}
		sel := "x" + plan.FormatMatchers([]plan.Matcher{
			{Name: "eq", Op: "=", Value: value},
			{Name: "re", Op: "=~", Value: regexp.QuoteMeta(value)},
		})
		ms, err := p.ParseMetricSelector(sel)
		if err != nil {
			t.Fatalf("%s does not parse: %v", sel, err)
		}
		var seen int
		for _, m := range ms {
			switch m.Name {
			case "eq":
				seen++
				if m.Type != labels.MatchEqual || m.Value != value {
					t.Errorf("eq matcher %s; want value %q", m, value)
				}
			case "re":
				seen++
				if !m.Matches(value) {
					t.Errorf("re matcher %s does not match %q", m, value)
				}
				if value != "" && m.Matches(value+"x") {
					t.Errorf("re matcher %s matches more than %q", m, value)
				}
			}
		}
		if seen != 2 {
			t.Errorf("parsed %d of 2 matchers from %s", seen, sel)
		}
	})
}
