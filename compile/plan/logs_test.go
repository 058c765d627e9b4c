package plan

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func logsTarget(env, team, workload string) *Target {
	return &Target{
		Team:     &Team{Name: team},
		Workload: &Workload{Team: team, Name: workload},
		Env:      &Environment{Name: env},
	}
}

func TestTargetSelectors(t *testing.T) {
	tg := logsTarget("prod", "assistants", "chat")
	for _, tc := range []struct {
		name, got, want string
	}{
		{"the redacted selector names the target and pins the redacted stream",
			tg.RedactedStreamSelector(), `{env="prod", stream="redacted", team="assistants", workload="chat"}`},
		{"the TraceQL selector matches the resource attributes",
			tg.TraceQLSelector(), `{ resource.service.namespace = "assistants" && resource.service.name = "chat" }`},
		{"the TraceQL selector joins extra conditions with &&",
			tg.TraceQLSelector(`span:duration > 2s`), `{ resource.service.namespace = "assistants" && resource.service.name = "chat" && span:duration > 2s }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestLogAlertSeverityFollowsThePagingPolicy(t *testing.T) {
	for _, tc := range []struct {
		name       string
		severity   string
		alwaysPage bool
		paging     bool
		want       string
	}{
		{"a page pages where the environment pages", "page", false, true, "page"},
		{"a page becomes a notification where the environment does not page", "page", false, false, "notify"},
		{"an always-paging alert pages where the environment does not page", "page", true, false, "page"},
		{"a notification stays a notification", "notify", false, true, "notify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &LogAlert{Severity: tc.severity, AlwaysPage: tc.alwaysPage}
			if got := a.SeverityIn(&Environment{Paging: tc.paging}); got != tc.want {
				t.Errorf("severity %s, want %s", got, tc.want)
			}
		})
	}
}

func TestGPULogAlertsSkipTokenPricedWorkloads(t *testing.T) {
	for _, tc := range []struct {
		name string
		gpu  bool
		cost Cost
		want bool
	}{
		{"a GPU rule applies to a self-hosted workload", true, Cost{GPUHourUSD: "2", GPUs: 1}, true},
		{"a GPU rule applies to a workload without a cost", true, Cost{}, true},
		{"a GPU rule skips a hosted workload", true, Cost{InputPerMTokUSD: "1", OutputPerMTokUSD: "2"}, false},
		{"another rule applies to a hosted workload", false, Cost{InputPerMTokUSD: "1", OutputPerMTokUSD: "2"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := logsTarget("prod", "a", "b")
			tg.Workload.Cost = tc.cost
			if got := (&LogAlert{GPU: tc.gpu}).AppliesTo(tg); got != tc.want {
				t.Errorf("applies %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzRedactedStreamSelector checks that any identity value, however
// hostile, reaches the LogQL selector as one double-quoted literal with no
// raw newline or quote inside, which unquotes (as Loki does, with Go's
// rules) to exactly that value.
func FuzzRedactedStreamSelector(f *testing.F) {
	for _, s := range []string{"chat", `a"b`, `back\slash`, "new\nline", "`", `"}`, `x"} |= "y`, "é", "\u202e", "\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if !utf8.ValidString(value) {
			t.Skip("names are UTF-8 by the schema")
		}
		sel := logsTarget("prod", value, "chat").RedactedStreamSelector()
		// An unescaped quote inside a value would end its literal early and
		// change the count.
		lits := quotedLiterals(t, sel)
		if len(lits) != 4 {
			t.Fatalf("selector %s has %d literals, want 4", sel, len(lits))
		}
		lit := lits[2] // env, stream, team, workload
		if strings.ContainsAny(lit, "\n\r") {
			t.Fatalf("literal %s holds a raw line break", lit)
		}
		got, err := strconv.Unquote(lit)
		if err != nil || got != value {
			t.Fatalf("literal %s unquotes to %q (%v), want %q", lit, got, err, value)
		}
	})
}

// quotedLiterals splits a selector into its double-quoted literals, ending
// each at the first unescaped quote the way a LogQL lexer does.
func quotedLiterals(t *testing.T, sel string) []string {
	t.Helper()
	var out []string
	for i := 0; i < len(sel); i++ {
		if sel[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(sel) && sel[j] != '"' {
			if sel[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(sel) {
			t.Fatalf("selector %s has an unterminated literal", sel)
		}
		out = append(out, sel[i:j+1])
		i = j
	}
	return out
}
