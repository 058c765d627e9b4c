package panels

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile/plan"
)

// builtPanel is the part of a built panel the row tests read.
type builtPanel struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Datasource  struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Datasource struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		Expr            string          `json:"expr"`
		Query           string          `json:"query"`
		QueryType       string          `json:"queryType"`
		ServiceMapQuery json.RawMessage `json:"serviceMapQuery"`
		Exemplar        bool            `json:"exemplar"`
		Instant         bool            `json:"instant"`
	} `json:"targets"`
}

func decodePanels(t *testing.T, r Row) []builtPanel {
	t.Helper()
	var out []builtPanel
	for _, p := range r.Panels {
		var b builtPanel
		if err := json.Unmarshal([]byte(jsonOf(t, p.Panel)), &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// contexts are the example's targets in every environment: a vLLM chat
// model, an SGLang agent, a hosted model priced per token and a Triton
// ranker.
func contexts(t *testing.T) []*Context {
	t.Helper()
	p := example(t)
	var out []*Context
	for _, tg := range p.Targets {
		out = append(out, &Context{Target: tg, Standard: &p.Standard})
	}
	return out
}

func targetName(c *Context) string {
	return c.Target.Env.Name + "/" + c.Target.Team.Name + "/" + c.Target.Workload.Name
}

// streamSelectors finds the stream selectors of a LogQL query: the
// braces outside back-quoted and double-quoted strings.
func streamSelectors(t *testing.T, q string) []string {
	t.Helper()
	var out []string
	start := -1
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '`':
			j := strings.IndexByte(q[i+1:], '`')
			if j < 0 {
				t.Fatalf("%s: unterminated back-quoted string", q)
			}
			i += j + 1
		case '"':
			for i++; i < len(q) && q[i] != '"'; i++ {
				if q[i] == '\\' {
					i++
				}
			}
		case '{':
			start = i
		case '}':
			if start < 0 {
				t.Fatalf("%s: unbalanced braces", q)
			}
			out = append(out, q[start:i+1])
			start = -1
		}
	}
	return out
}

var streamMatcher = regexp.MustCompile(`(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)

func TestLogsPanelsReadOnlyTheRedactedStream(t *testing.T) {
	for _, c := range contexts(t) {
		t.Run(targetName(c), func(t *testing.T) {
			row, err := Logs(c)
			if err != nil {
				t.Fatal(err)
			}
			queries := 0
			for _, p := range decodePanels(t, row) {
				for _, tg := range p.Targets {
					queries++
					sels := streamSelectors(t, tg.Expr)
					if len(sels) != 1 {
						t.Errorf("%s: %d stream selectors in %s, want 1", p.Title, len(sels), tg.Expr)
					}
					for _, sel := range sels {
						if sel != c.Target.RedactedStreamSelector() {
							t.Errorf("%s: stream selector %s, want the target's redacted stream %s", p.Title, sel, c.Target.RedactedStreamSelector())
						}
						var stream []string
						for _, m := range streamMatcher.FindAllStringSubmatch(sel, -1) {
							if m[1] == plan.StreamLabel {
								stream = append(stream, m[2]+m[3])
							}
						}
						if d := cmp.Diff([]string{"=" + plan.RedactedStream}, stream); d != "" {
							t.Errorf("%s: %s matches stream by (-want +got):\n%s", p.Title, sel, d)
						}
					}
				}
			}
			if queries < 2 {
				t.Errorf("the logs row has %d queries, want the log volume and the error lines at least", queries)
			}
		})
	}
}

func TestLogsQueriesFollowGrafanasAndLokisRules(t *testing.T) {
	// A line filter's RE2 pattern in back-quotes.
	lineFilter := regexp.MustCompile("\\|~ `([^`]*)`")
	for _, c := range contexts(t) {
		t.Run(targetName(c), func(t *testing.T) {
			row, err := Logs(c)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range decodePanels(t, row) {
				for _, tg := range p.Targets {
					if tg.Datasource.Type != "loki" || tg.Datasource.UID != "${"+LokiVar+"}" {
						t.Errorf("%s: query on %+v, want the %s variable", p.Title, tg.Datasource, LokiVar)
					}
					if strings.Contains(tg.Expr, "_over_time(") && !strings.Contains(tg.Expr, "["+AutoInterval+"]") {
						t.Errorf("%s: %s aggregates over a fixed range; use [%s]", p.Title, tg.Expr, AutoInterval)
					}
					for _, m := range lineFilter.FindAllStringSubmatch(tg.Expr, -1) {
						if _, err := regexp.Compile(m[1]); err != nil {
							t.Errorf("%s: line filter %s is not RE2: %v", p.Title, m[1], err)
						}
					}
				}
			}
		})
	}
}

func TestGPUFailureLinesOnlyWhereTheOrganisationRunsTheGPUs(t *testing.T) {
	tests := []struct {
		name    string
		perMTok string
		want    []string
	}{
		{"a GPU-priced workload gets the GPU failure lines", "", []string{"Log volume by level", "Error lines", "GPU failure lines"}},
		{"a workload priced per token gets a note instead", "0.15", []string{"Log volume by level", "Error lines", "Not shown in this row"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := targetOn(t, "vllm")
			c.Target.Workload.Cost.InputPerMTokUSD = tt.perMTok
			row, err := Logs(c)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, p := range decodePanels(t, row) {
				titles = append(titles, p.Title)
			}
			if d := cmp.Diff(tt.want, titles); d != "" {
				t.Errorf("panels (-want +got):\n%s", d)
			}
		})
	}
}

func TestEveryLogsAndTracesPanelHasAUnitAndADescription(t *testing.T) {
	for _, c := range contexts(t) {
		for _, f := range []struct {
			name string
			row  RowFunc
		}{{"logs", Logs}, {"traces", Traces}} {
			t.Run(targetName(c)+"/"+f.name, func(t *testing.T) {
				row, err := f.row(c)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range decodePanels(t, row) {
					if strings.TrimSpace(p.Description) == "" {
						t.Errorf("%s has no description", p.Title)
					}
					if p.Type == "text" {
						continue // the row's note panel shows no data
					}
					if p.FieldConfig.Defaults.Unit == "" {
						t.Errorf("%s has no unit", p.Title)
					}
					if p.Datasource.UID == "" || !slices.Contains([]string{"prometheus", "loki", "tempo"}, p.Datasource.Type) {
						t.Errorf("%s names datasource %+v, want a datasource variable", p.Title, p.Datasource)
					}
					for _, tg := range p.Targets {
						if tg.Datasource != p.Datasource {
							t.Errorf("%s: query on %+v, panel on %+v", p.Title, tg.Datasource, p.Datasource)
						}
					}
				}
			})
		}
	}
}
