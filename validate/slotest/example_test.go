package slotest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/render/promrules"
)

// TestExample replays the example decisions; it is slow, so it runs only
// when AIOBS_SLOTEST_EXAMPLE=1.
func TestExample(t *testing.T) {
	if os.Getenv("AIOBS_SLOTEST_EXAMPLE") != "1" {
		t.Skip("set AIOBS_SLOTEST_EXAMPLE=1 to replay the whole example")
	}
	p, err := compile.Compile(context.Background(), filepath.Join("..", "..", "examples"), compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := promrules.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rs, err := Run(context.Background(), p, files, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d results in %s", len(rs), time.Since(start))
	for _, r := range rs {
		t.Logf("%s %s %s %s", r.Target(), r.SLO, r.Scenario, r.Elapsed)
	}
	t.Log("\n" + Markdown(rs))
	for _, r := range Failed(rs) {
		t.Errorf("%s %s %s: expected %s, observed %s", r.Target(), r.SLO, r.Scenario, r.Expected, r.Observed)
	}
}
