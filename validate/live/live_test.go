package live

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
)

const token = "glsa_test"

// prodEnv binds three datasources at distinct decision lines, so a finding's
// position says which binding it is about.
func prodEnv() *plan.Environment {
	pos := func(line int) diag.Pos { return diag.Pos{File: "environments.cue", Line: line, Column: 17} }
	return &plan.Environment{Name: "prod", Datasources: plan.Datasources{
		Metrics: plan.Datasource{UID: "mimir-prod", Type: "prometheus", Pos: pos(3)},
		Logs:    plan.Datasource{UID: "loki-prod", Type: "loki", Pos: pos(4)},
		Traces:  plan.Datasource{UID: "tempo-prod", Type: "tempo", Pos: pos(5)},
	}}
}

// grafana serves GET /api/datasources/uid/:uid from types (uid → plugin
// type), requires the bearer token, and counts requests per uid.
type grafana struct {
	types map[string]string
	mu    sync.Mutex
	hits  map[string]int
}

func (g *grafana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if got := r.Header.Get("Authorization"); got != "Bearer "+token {
		http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	uid, ok := strings.CutPrefix(r.URL.Path, "/api/datasources/uid/")
	if r.Method != http.MethodGet || !ok {
		http.NotFound(w, r)
		return
	}
	g.mu.Lock()
	g.hits[uid]++
	g.mu.Unlock()
	typ, ok := g.types[uid]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Data source not found"}`))
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"id": 1, "uid": uid, "name": uid, "type": typ, "access": "proxy"})
}

func allThree() map[string]string {
	return map[string]string{"mimir-prod": "prometheus", "loki-prod": "loki", "tempo-prod": "tempo"}
}

func TestCheckFindings(t *testing.T) {
	tests := []struct {
		name  string
		types map[string]string
		want  []string // "rule line", sorted as Check reports them
	}{
		{"all bound datasources exist with their types", allThree(), nil},
		{"a missing uid is reported at its binding", map[string]string{"mimir-prod": "prometheus", "tempo-prod": "tempo"},
			[]string{"DATASOURCE_MISSING environments.cue:4:17"}},
		{"a uid of the wrong plugin type is a mismatch", map[string]string{"mimir-prod": "prometheus", "loki-prod": "elasticsearch", "tempo-prod": "tempo"},
			[]string{"DATASOURCE_TYPE_MISMATCH environments.cue:4:17"}},
		{"an empty grafana reports every binding", map[string]string{},
			[]string{"DATASOURCE_MISSING environments.cue:3:17", "DATASOURCE_MISSING environments.cue:4:17", "DATASOURCE_MISSING environments.cue:5:17"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&grafana{types: tt.types, hits: map[string]int{}})
			defer srv.Close()
			got, err := Check(context.Background(), srv.Client(), srv.URL+"/", token, []*plan.Environment{prodEnv()})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			var short []string
			for _, d := range got {
				short = append(short, d.Rule+" "+d.Pos.String())
				if d.Severity != diag.Error {
					t.Errorf("%s: severity %v, want error", d.Rule, d.Severity)
				}
			}
			if strings.Join(short, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(short, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCheckMessageNamesUIDAndTypes(t *testing.T) {
	srv := httptest.NewServer(&grafana{types: map[string]string{"mimir-prod": "loki", "loki-prod": "loki", "tempo-prod": "tempo"}, hits: map[string]int{}})
	defer srv.Close()
	got, err := Check(context.Background(), srv.Client(), srv.URL, token, []*plan.Environment{prodEnv()})
	if err != nil || len(got) != 1 {
		t.Fatalf("Check = %v, %v; want one finding", got, err)
	}
	for _, want := range []string{`"mimir-prod"`, "type loki", "want prometheus", srv.URL} {
		if !strings.Contains(got[0].Msg, want) {
			t.Errorf("message %q does not contain %q", got[0].Msg, want)
		}
	}
	if got[0].Path != "environments.prod.datasources.metrics" {
		t.Errorf("path %q, want environments.prod.datasources.metrics", got[0].Path)
	}
}

func TestCheckAsksOncePerUID(t *testing.T) {
	g := &grafana{types: allThree(), hits: map[string]int{}}
	srv := httptest.NewServer(g)
	defer srv.Close()
	staging := prodEnv()
	staging.Name = "staging" // shares prod's datasources
	if _, err := Check(context.Background(), srv.Client(), srv.URL, token, []*plan.Environment{prodEnv(), staging}); err != nil {
		t.Fatalf("Check: %v", err)
	}
	for uid, n := range g.hits {
		if n != 1 {
			t.Errorf("uid %s asked %d times, want once", uid, n)
		}
	}
	if len(g.hits) != 3 {
		t.Errorf("asked about %d uids, want 3", len(g.hits))
	}
}

func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		timeout time.Duration
		handler http.HandlerFunc
		want    string // the whole message, with URL for the server's address
	}{
		{"a wrong token is refused with a hint", "wrong", 0, nil,
			"grafana at URL refused the token (401): set AIOBS_GRAFANA_TOKEN to a service-account token with datasources:read"},
		{"a token without permission is refused too", token, 0,
			func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "forbidden", http.StatusForbidden) },
			"grafana at URL refused the token (403): set AIOBS_GRAFANA_TOKEN to a service-account token with datasources:read"},
		{"a grafana slower than the timeout times out", token, 50 * time.Millisecond,
			func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			"grafana at URL did not answer within 50ms"},
		{"an answer that is not JSON is an error", token, 0,
			func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>login</html>")) },
			`grafana at URL answered datasource uid "mimir-prod" with something other than a datasource: is --grafana-url the root of a Grafana?`},
		{"an unexpected status is an error", token, 0,
			func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusBadGateway) },
			`grafana at URL answered 502 Bad Gateway for datasource uid "mimir-prod"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Handler = &grafana{types: allThree(), hits: map[string]int{}}
			if tt.handler != nil {
				h = tt.handler
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			got, err := Check(ctx, srv.Client(), srv.URL, tt.token, []*plan.Environment{prodEnv()})
			if err == nil {
				t.Fatalf("Check = %v, nil; want an error", got)
			}
			if want := strings.ReplaceAll(tt.want, "URL", srv.URL); err.Error() != want {
				t.Errorf("error:\n%s\nwant:\n%s", err, want)
			}
		})
	}
}

func TestCheckUnreachableHidesTransportChain(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	_, err := Check(context.Background(), http.DefaultClient, url, token, []*plan.Environment{prodEnv()})
	if err == nil {
		t.Fatal("Check against a closed port succeeded")
	}
	if want := "grafana at " + url + " refused the connection"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
