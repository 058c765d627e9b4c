package preview

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const dash = `{"title": "chat <prod>", "uid": "aiobs--a--chat", "panels": [
 {"type": "row", "title": "Health", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}},
 {"type": "stat", "title": "TTFT p95", "gridPos": {"h": 4, "w": 6, "x": 0, "y": 1}},
 {"type": "row", "title": "GPU", "collapsed": true, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 5},
  "panels": [{"type": "timeseries", "title": "Utilisation & power", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 6}}]}
]}`

func TestSVGDrawsRowsPanelsAndCollapsedChildren(t *testing.T) {
	got, err := SVG([]byte(dash))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(got, new(struct{})); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, got)
	}
	var texts []string
	for _, line := range strings.Split(string(got), "\n") {
		if i := strings.Index(line, ">"); strings.HasPrefix(line, "<text") && i > 0 {
			texts = append(texts, strings.TrimSuffix(line[i+1:], "</text>"))
		}
	}
	want := []string{
		"chat &lt;prod&gt;", "uid aiobs--a--chat · 2 panels",
		"▾ Health", "TTFT p95", "stat · 6×4",
		"▾ GPU", "Utilisation &amp; power", "timeseries · 12×8",
	}
	if diff := cmp.Diff(want, texts); diff != "" {
		t.Errorf("texts mismatch (-want +got):\n%s", diff)
	}
}

func TestSVGRejectsWhatIsNotADashboard(t *testing.T) {
	if _, err := SVG([]byte(`[1,2]`)); err == nil {
		t.Error("no error for a JSON array")
	}
}
