package grafana_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"github.com/aiobs/aiobs/render/write/writetest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"go.yaml.in/yaml/v3"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/encode"
	"github.com/aiobs/aiobs/render/grafana"
	"github.com/aiobs/aiobs/render/write"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func updating() bool { return *update || os.Getenv("AIOBS_UPDATE") == "1" }

// corpora are the decisions every test renders: one workload per backend,
// and the example repository.
var corpora = map[string]string{
	"backends": "testdata/backends",
	"example":  "../../examples",
}

// rendered caches each corpus's render: compiling is the slow part.
var rendered sync.Map

type renderResult struct {
	plan  *plan.Plan
	files []write.File
}

// render compiles and renders a corpus once per test binary.
func render(t *testing.T, dir string) (*plan.Plan, []write.File) {
	t.Helper()
	if r, ok := rendered.Load(dir); ok {
		return r.(renderResult).plan, r.(renderResult).files
	}
	p, files := renderFresh(t, dir)
	rendered.Store(dir, renderResult{p, files})
	return p, files
}

func renderFresh(t *testing.T, dir string) (*plan.Plan, []write.File) {
	t.Helper()
	p, err := compile.Compile(context.Background(), dir, compile.Options{})
	if err != nil {
		t.Fatalf("compile %s: %v", dir, err)
	}
	files, err := grafana.Render(p)
	if err != nil {
		t.Fatalf("render %s: %v", dir, err)
	}
	return p, files
}

// TestRenderMatchesGoldens compares the whole rendered tree of the
// one-workload-per-backend decisions with testdata/golden/backends.
// -update or AIOBS_UPDATE=1 rewrites it.
func TestRenderMatchesGoldens(t *testing.T) {
	_, files := render(t, corpora["backends"])
	root := filepath.Join("testdata", "golden", "backends")
	writetest.GoldenTree(t, root, files, updating())
}

func TestRenderWritesEveryArtifactOfEachEnvironment(t *testing.T) {
	_, files := render(t, corpora["example"])
	var got []string
	for _, f := range files {
		if strings.HasPrefix(f.Path, "prod/") {
			got = append(got, f.Path)
		}
	}
	want := []string{
		"prod/grafana/dashboards/aiobs-fleet/aiobs--fleet--gpu.json",
		"prod/grafana/dashboards/assistants/aiobs--assistants--agent.json",
		"prod/grafana/dashboards/assistants/aiobs--assistants--chat.json",
		"prod/grafana/dashboards/assistants/aiobs--assistants--cost.json",
		"prod/grafana/dashboards/search/aiobs--search--cost.json",
		"prod/grafana/dashboards/search/aiobs--search--ranker.json",
		"prod/grafana/dashboards/search/aiobs--search--summarizer.json",
		"prod/grafana/provisioning/dashboards/aiobs.yaml",
		"prod/kubernetes/grafana-dashboards/aiobs--assistants--agent.yaml",
		"prod/kubernetes/grafana-dashboards/aiobs--assistants--chat.yaml",
		"prod/kubernetes/grafana-dashboards/aiobs--assistants--cost.yaml",
		"prod/kubernetes/grafana-dashboards/aiobs--fleet--gpu.yaml",
		"prod/kubernetes/grafana-dashboards/aiobs--search--cost.yaml",
		"prod/kubernetes/grafana-dashboards/aiobs--search--ranker.yaml",
		"prod/kubernetes/grafana-dashboards/aiobs--search--summarizer.yaml",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("prod artifacts (-want +got):\n%s", d)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	for name, dir := range corpora {
		t.Run(name, func(t *testing.T) {
			_, a := renderFresh(t, dir)
			_, b := renderFresh(t, dir)
			if len(a) != len(b) {
				t.Fatalf("two renders give %d and %d files", len(a), len(b))
			}
			for i := range a {
				if a[i].Path != b[i].Path || !bytes.Equal(a[i].Bytes, b[i].Bytes) {
					t.Errorf("two renders differ at %s / %s", a[i].Path, b[i].Path)
				}
			}
		})
	}
}

// dashboards returns every rendered dashboard of every corpus.
func dashboards(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, dir := range corpora {
		_, files := render(t, dir)
		for _, f := range files {
			if strings.HasSuffix(f.Path, ".json") {
				out[name+":"+f.Path] = f.Bytes
			}
		}
	}
	return out
}

// TestDashboardsReadBackThroughTheSDKStrictly proves every dashboard is one
// Grafana's schema accepts: the SDK's strict decoder refuses unknown and
// mistyped fields, and what it read encodes back to the same bytes.
func TestDashboardsReadBackThroughTheSDKStrictly(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for name, data := range dashboards(t) {
		t.Run(name, func(t *testing.T) {
			var d dashboard.Dashboard
			if err := d.UnmarshalJSONStrict(data); err != nil {
				t.Fatalf("strict read: %v", err)
			}
			// The SDK reads an expanded row's "panels": [] as nil.
			for _, p := range d.Panels {
				if p.RowPanel != nil && p.RowPanel.Panels == nil {
					p.RowPanel.Panels = []dashboard.Panel{}
				}
			}
			raw, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			again, err := encode.CanonicalJSON(raw)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(data), string(again)); d != "" {
				t.Errorf("dashboard does not survive a read and write through the SDK (-rendered +reread):\n%s", d)
			}
		})
	}
}

type gridPanel struct {
	ID      *int   `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos *struct {
		H, W, X, Y int
	} `json:"gridPos"`
}

func TestDashboardsHaveUniqueSequentialIDsOnANonOverlappingGrid(t *testing.T) {
	for name, data := range dashboards(t) {
		t.Run(name, func(t *testing.T) {
			var d struct {
				Panels  []gridPanel `json:"panels"`
				ID      *int        `json:"id"`
				Version *int        `json:"version"`
			}
			if err := json.Unmarshal(data, &d); err != nil {
				t.Fatal(err)
			}
			if d.ID != nil || d.Version != nil {
				t.Errorf("dashboard carries an id or version, which provisioning ignores and diffs show")
			}
			for i, p := range d.Panels {
				if p.ID == nil || *p.ID != i+1 {
					t.Errorf("panel %d %q: id %v, want %d (document order)", i, p.Title, p.ID, i+1)
				}
				if p.GridPos == nil {
					t.Errorf("panel %q has no gridPos", p.Title)
					continue
				}
				g := p.GridPos
				if g.W <= 0 || g.H <= 0 || g.X+g.W > 24 {
					t.Errorf("panel %q lies off the grid: %+v", p.Title, *g)
				}
				for _, q := range d.Panels[:i] {
					h := q.GridPos
					if h != nil && g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
						t.Errorf("panel %q overlaps panel %q", p.Title, q.Title)
					}
				}
			}
		})
	}
}

func TestWorkloadDashboardHasTheSameUIDInEveryEnvironment(t *testing.T) {
	_, files := render(t, corpora["example"])
	uids := map[string][]string{}
	for _, f := range files {
		if !strings.HasSuffix(f.Path, "/aiobs--assistants--chat.json") {
			continue
		}
		var d struct {
			UID string `json:"uid"`
		}
		if err := json.Unmarshal(f.Bytes, &d); err != nil {
			t.Fatal(err)
		}
		uids[d.UID] = append(uids[d.UID], strings.Split(f.Path, "/")[0])
	}
	want := map[string][]string{"aiobs--assistants--chat": {"dev", "prod", "staging"}}
	if d := cmp.Diff(want, uids); d != "" {
		t.Errorf("uids by environment (-want +got):\n%s", d)
	}
}

func TestDashboardQueriesAreNotHTMLEscaped(t *testing.T) {
	for name, data := range dashboards(t) {
		for _, esc := range []string{`\u003c`, `\u003e`, `\u0026`} {
			if bytes.Contains(data, []byte(esc)) {
				t.Errorf("%s contains %s", name, esc)
			}
		}
	}
}

func TestEveryDashboardHasAConfigMapForTheSidecar(t *testing.T) {
	_, files := render(t, corpora["example"])
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Bytes
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".json") {
			continue
		}
		parts := strings.Split(f.Path, "/")
		env, folder, file := parts[0], parts[3], parts[4]
		uid := strings.TrimSuffix(file, ".json")
		data, ok := byPath[env+"/kubernetes/grafana-dashboards/"+uid+".yaml"]
		if !ok {
			t.Errorf("%s has no ConfigMap", f.Path)
			continue
		}
		var cm struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Metadata   struct {
				Name        string            `yaml:"name"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Data map[string]string `yaml:"data"`
		}
		if err := yaml.Unmarshal(data, &cm); err != nil {
			t.Fatalf("%s: %v", uid, err)
		}
		got := []string{cm.APIVersion, cm.Kind, cm.Metadata.Labels[grafana.SidecarLabel], cm.Metadata.Annotations[grafana.FolderAnnotation]}
		if d := cmp.Diff([]string{"v1", "ConfigMap", "1", folder}, got); d != "" {
			t.Errorf("%s: ConfigMap header (-want +got):\n%s", uid, d)
		}
		if cm.Data[uid+".json"] != string(f.Bytes) {
			t.Errorf("%s: ConfigMap data differs from the dashboard file", uid)
		}
	}
}

func TestProvisioningFileProvidesFoldersFromTheTree(t *testing.T) {
	_, files := render(t, corpora["example"])
	i := slices.IndexFunc(files, func(f write.File) bool { return f.Path == "prod/grafana/provisioning/dashboards/aiobs.yaml" })
	if i < 0 {
		t.Fatal("no provisioning file")
	}
	data := files[i].Bytes
	if bytes.Contains(data, []byte("$")) {
		t.Errorf("provisioning file holds a dollar sign, which Grafana would expand:\n%s", data)
	}
	var f struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name, Type, Folder, FolderUID string
			Options                       struct {
				Path                      string `yaml:"path"`
				FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Providers) != 1 || f.Providers[0].Options.Path != grafana.ProvisioningPath ||
		!f.Providers[0].Options.FoldersFromFilesStructure || f.Providers[0].Folder != "" || f.Providers[0].FolderUID != "" {
		t.Errorf("provider = %+v, want one file provider at %s with folders from the file structure", f.Providers, grafana.ProvisioningPath)
	}
}

func TestRenderRefusesTwoDashboardsWithOneUID(t *testing.T) {
	dir := t.TempDir()
	decisions := `package decisions

environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
teams: ops: {
	oncall: "ops-pager"
	workloads: cost: {backend: "vllm", model: "m", cost: {gpuHourUSD: 1}}
}
`
	if err := os.WriteFile(filepath.Join(dir, "d.cue"), []byte(decisions), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := compile.Compile(context.Background(), dir, compile.Options{Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = grafana.Render(p)
	l, ok := err.(diag.List)
	if !ok || len(l) != 1 {
		t.Fatalf("want one finding, got %v", err)
	}
	got := []string{l[0].Rule, l[0].Pos.File, l[0].Artifact}
	want := []string{"DASHBOARD_UID_COLLISION", "d.cue", "prod/grafana/dashboards/ops/aiobs--ops--cost.json"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("finding (-want +got):\n%s", d)
	}
}
