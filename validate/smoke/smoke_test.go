package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aiobs/aiobs/render"
)

// prometheusBinary finds the prometheus binary. Without it the smoke test
// fails where AIOBS_REQUIRE_PROMETHEUS=1 (CI sets it) and is skipped
// elsewhere, saying how to get it.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err == nil {
		return bin
	}
	if os.Getenv("AIOBS_REQUIRE_PROMETHEUS") == "1" {
		t.Fatalf("AIOBS_REQUIRE_PROMETHEUS=1 but %v", err)
	}
	t.Skipf("%v; install Debian's prometheus package (apt-get install prometheus) to run the smoke test, and set AIOBS_REQUIRE_PROMETHEUS=1 to make its absence a failure", err)
	return ""
}

// expectEmpty are the example's panels and rules that cannot have data
// in a smoke run, each with the reason. Keys hold in every environment.
// An entry whose query does have data, or that names no query, fails the
// test, so the list shrinks as the reasons go away.
var expectEmpty = map[Key]string{}

// expectAlerts are the alerts active on the smoke run's healthy traffic,
// each with the reason.
var expectAlerts = map[string]string{}

func init() {
	const lokiRecorded = "recorded from logs by the Loki ruler (a contract series); a smoke run has no Loki"
	for _, d := range []string{
		"assistants/aiobs--assistants--agent.json",
		"assistants/aiobs--assistants--chat.json",
		"search/aiobs--search--ranker.json",
		"search/aiobs--search--summarizer.json",
	} {
		expectEmpty[Key{d, "Guardrail triggers", "A"}] = lokiRecorded
	}
	expectEmpty[Key{"assistants/aiobs--assistants--agent.json", "Retries by reason", "A"}] = lokiRecorded
	for _, w := range []string{"assistants/agent", "assistants/chat", "search/ranker", "search/summarizer"} {
		expectEmpty[Key{"rules/" + w + ".yaml", "alert AIOBSGuardrailTriggersRising", ""}] = lokiRecorded
	}
}

// canaryDashboard is a dashboard with two copies of the prod chat
// dashboard's preemptions panel: one as rendered, one reading
// vllm:num_preemptions, the name without the _total suffix vLLM's client
// library adds, which no vLLM serves. The smoke run must report the second
// and only it, or it cannot catch a query that parses but matches nothing.
const canaryPath = "prod/grafana/dashboards/canary/preemptions.json"

var canaryKey = Key{"canary/preemptions.json", "Preemptions without _total", "A"}

func canaryDashboard(t *testing.T, arts []render.Artifact) render.Artifact {
	t.Helper()
	i := slices.IndexFunc(arts, func(a render.Artifact) bool {
		return a.Path == "prod/grafana/dashboards/assistants/aiobs--assistants--chat.json"
	})
	if i < 0 {
		t.Fatal("the example renders no prod chat dashboard")
	}
	var d map[string]any
	if err := json.Unmarshal(arts[i].Bytes, &d); err != nil {
		t.Fatal(err)
	}
	var find func([]any) map[string]any
	find = func(ps []any) map[string]any {
		for _, p := range ps {
			pm, _ := p.(map[string]any)
			if pm["title"] == "Preemptions" {
				return pm
			}
			if nested, ok := pm["panels"].([]any); ok {
				if f := find(nested); f != nil {
					return f
				}
			}
		}
		return nil
	}
	panels, _ := d["panels"].([]any)
	good := find(panels)
	if good == nil {
		t.Fatal("the prod chat dashboard has no Preemptions panel")
	}
	b, _ := json.Marshal(good)
	if !bytes.Contains(b, []byte("vllm:num_preemptions_total")) {
		t.Fatalf("the Preemptions panel does not read vllm:num_preemptions_total: %s", b)
	}
	var bad map[string]any
	if err := json.Unmarshal(bytes.ReplaceAll(b, []byte("vllm:num_preemptions_total"), []byte("vllm:num_preemptions")), &bad); err != nil {
		t.Fatal(err)
	}
	bad["title"] = canaryKey.Name
	d["panels"] = []any{good, bad}
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return render.Artifact{Path: canaryPath, Bytes: out}
}

func TestEveryPanelQueryReturnsData(t *testing.T) {
	bin := prometheusBinary(t)
	if v, err := exec.Command(bin, "--version").CombinedOutput(); err == nil {
		t.Logf("%s", bytes.SplitN(v, []byte("\n"), 2)[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, arts := example(t)
	arts = append(arts, canaryDashboard(t, arts))

	start := time.Now()
	rep, err := Run(ctx, p, arts, Options{Prometheus: bin, Dir: t.TempDir(), ExpectEmpty: expectEmpty, ExpectAlerts: expectAlerts, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d dashboard queries, %d rules, %d selectors in %s (server ready after %s, queries settled %s later); %d expected empty",
		rep.Queries, rep.Rules, rep.Selectors, time.Since(start).Round(time.Millisecond), rep.Ready.Round(time.Millisecond), rep.Settled.Round(time.Millisecond), len(rep.Expected))
	// The canary must be reported twice: the query is empty, and so is
	// its selector.
	var query, selector bool
	rep.Empty = slices.DeleteFunc(rep.Empty, func(q Query) bool {
		if q.Key != canaryKey {
			return false
		}
		query = query || q.Selector == ""
		selector = selector || strings.HasPrefix(q.Selector, "vllm:num_preemptions{")
		return true
	})
	if !query || !selector {
		t.Errorf("the smoke run did not report %s (query reported: %t, selector reported: %t), which reads a series nothing serves: it cannot catch a query that matches nothing", canaryKey, query, selector)
	}
	if !rep.OK() {
		t.Errorf("%s", strings.TrimSpace(rep.Problems()))
	}
}
