package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/aiobs/aiobs/internal/synth/benchcpu"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
)

// BenchmarkMain times whole commands in-process, as a user runs them:
// render into a fresh directory (every file written), render again over an
// unchanged tree (every unit reused), the same with --fresh (every unit
// rendered and compared, none written), render --check, and validate, as
// remembered and with --fresh. The cache is the benchmark's own.
func BenchmarkMain(b *testing.B) {
	b.Setenv("AIOBS_CACHE", b.TempDir())
	for _, c := range synthtest.Cases(b) {
		dir := synthtest.Dir(b, c)
		b.Run("cmd=render/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			root := b.TempDir()
			i := 0
			stop := benchcpu.Start(b)
			for b.Loop() {
				i++
				out := filepath.Join(root, "out", itoa(i))
				mustRun(b, "render", "--decisions", dir, "--out", out)
			}
			stop()
		})
		out := filepath.Join(b.TempDir(), "out")
		mustRun(b, "render", "--decisions", dir, "--out", out)
		b.Run("cmd=render-unchanged/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				mustRun(b, "render", "--decisions", dir, "--out", out)
			}
			stop()
		})
		b.Run("cmd=render-unchanged-fresh/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				mustRun(b, "render", "--fresh", "--decisions", dir, "--out", out)
			}
			stop()
		})
		b.Run("cmd=render-check/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				mustRun(b, "render", "--check", "--decisions", dir, "--out", out)
			}
			stop()
		})
		for name, args := range map[string][]string{"validate": nil, "validate-fresh": {"--fresh"}} {
			b.Run("cmd="+name+"/"+c.Name, func(b *testing.B) {
				b.ReportAllocs()
				stop := benchcpu.Start(b)
				for b.Loop() {
					mustRun(b, append([]string{"validate", "--decisions", dir, "--out", out}, args...)...)
				}
				stop()
			})
		}
	}
}

func mustRun(b *testing.B, args ...string) {
	b.Helper()
	if code := Main(args, nil, io.Discard, io.Discard); code != 0 {
		b.Fatalf("aiobs %v: exit %d", args, code)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
