package compile

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"cuelang.org/go/cue/cuecontext"

	"github.com/aiobs/aiobs/internal/synth"
	"github.com/aiobs/aiobs/internal/synth/benchcpu"
)

// The compile benchmarks sit inside the package to time its phases apart:
// the embedded standard, evaluation (unify + validate) and build (decode +
// cross-reference checks). They generate their inputs with synth, at the
// sizes in AIOBS_BENCH_SIZES (default 10,100, as synthtest.DefaultSizes),
// plus the bundled example.

type benchCase struct {
	name string
	dir  string
}

func benchCases(b *testing.B) []benchCase {
	out := []benchCase{{name: "example", dir: filepath.Join("..", "examples")}}
	sizes := []int{10, 100}
	if env := os.Getenv("AIOBS_BENCH_SIZES"); env != "" {
		sizes = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("AIOBS_BENCH_SIZES: %q is not a positive number", f)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		dir := filepath.Join(b.TempDir(), "decisions")
		if err := synth.Write(dir, synth.ForWorkloads(n, 1)); err != nil {
			b.Fatal(err)
		}
		out = append(out, benchCase{name: "workloads=" + strconv.Itoa(n), dir: dir})
	}
	return out
}

// BenchmarkCompile times compile.Compile end to end: read and parse the
// decision files, the standard, evaluation and build.
func BenchmarkCompile(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				if _, err := Compile(context.Background(), c.dir, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			stop()
		})
	}
}

// BenchmarkCompilePhases times each phase of Compile on its own.
func BenchmarkCompilePhases(b *testing.B) {
	b.Run("phase=standard", func(b *testing.B) {
		b.ReportAllocs()
		stop := benchcpu.Start(b)
		for b.Loop() {
			c := newBenchCompiler("")
			if err := c.loadStandard(); err != nil {
				b.Fatal(err)
			}
		}
		stop()
	})
	for _, bc := range benchCases(b) {
		files, diags := readDecisions(bc.dir, Options{MaxFileBytes: DefaultMaxFileBytes})
		if len(diags) > 0 {
			b.Fatal(diags)
		}
		b.Run("phase=read/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				if _, diags := readDecisions(bc.dir, Options{MaxFileBytes: DefaultMaxFileBytes}); len(diags) > 0 {
					b.Fatal(diags)
				}
			}
			stop()
		})
		b.Run("phase=evaluate/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				c := newBenchCompiler(bc.dir)
				if err := c.loadStandard(); err != nil {
					b.Fatal(err)
				}
				if _, diags := c.evaluate(files); len(diags) > 0 {
					b.Fatal(diags)
				}
			}
			stop()
		})
		b.Run("phase=build/"+bc.name, func(b *testing.B) {
			c := newBenchCompiler(bc.dir)
			if err := c.loadStandard(); err != nil {
				b.Fatal(err)
			}
			v, diags := c.evaluate(files)
			if len(diags) > 0 {
				b.Fatal(diags)
			}
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				if _, diags := c.build(v); len(diags) > 0 {
					b.Fatal(diags)
				}
			}
			stop()
		})
	}
}

// newBenchCompiler is a compiler as Compile makes one.
func newBenchCompiler(dir string) *compiler {
	return &compiler{ctx: cuecontext.New(), opts: Options{MaxFileBytes: DefaultMaxFileBytes, MaxTargets: DefaultMaxTargets}, dir: dir}
}
