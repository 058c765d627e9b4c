// Package synthtest holds what the benchmarks of every stage share: the
// sizes they run at, synthetic decision directories written by synth, the
// bundled example, and compiled plans of both.
//
// It is for tests only; production code never imports it.
package synthtest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/internal/synth"
)

// Seed is the seed every benchmark generates with, so runs compare.
const Seed = 1

// DefaultSizes are the workload counts benchmarks run at unless
// AIOBS_BENCH_SIZES (comma-separated, e.g. "10,100,1000,5000") says
// otherwise. 1,000 is left out so that a plain go test -bench . ./...
// stays within go test's default 10-minute timeout per package; run it
// with AIOBS_BENCH_SIZES=10,100,1000 and -timeout 0.
var DefaultSizes = []int{10, 100}

// Case is one input of a benchmark.
type Case struct {
	// Name is the sub-benchmark name: "example" or "workloads=N".
	Name string
	// Workloads is N, or 0 for the example.
	Workloads int
}

// Cases returns the bundled example followed by one synthetic case per
// size.
func Cases(tb testing.TB) []Case {
	out := []Case{{Name: "example"}}
	for _, n := range Sizes(tb) {
		out = append(out, Case{Name: "workloads=" + strconv.Itoa(n), Workloads: n})
	}
	return out
}

// Sizes returns the synthetic sizes to run.
func Sizes(tb testing.TB) []int {
	env := os.Getenv("AIOBS_BENCH_SIZES")
	if env == "" {
		return DefaultSizes
	}
	var out []int
	for _, f := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			tb.Fatalf("AIOBS_BENCH_SIZES: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out
}

// Dir returns the decisions directory of the case: the repository's
// examples/ for the example, else a synthetic repository written into a
// temporary directory.
func Dir(tb testing.TB, c Case) string {
	tb.Helper()
	if c.Workloads == 0 {
		return Examples(tb)
	}
	dir := filepath.Join(tb.TempDir(), "decisions")
	if err := synth.Write(dir, synth.ForWorkloads(c.Workloads, Seed)); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// Examples returns the absolute path of the bundled example.
func Examples(tb testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("synthtest: cannot locate the module")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "examples")
}

// Plan compiles the case's decisions.
func Plan(tb testing.TB, c Case) *plan.Plan {
	tb.Helper()
	dir := Dir(tb, c)
	p, err := compile.Compile(context.Background(), dir, compile.Options{Cwd: filepath.Dir(dir)})
	if err != nil {
		tb.Fatalf("compile %s: %v", c.Name, err)
	}
	return p
}
