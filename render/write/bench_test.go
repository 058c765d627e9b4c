package write_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aiobs/aiobs/internal/synth/benchcpu"
	"github.com/aiobs/aiobs/internal/synth/synthtest"
	"github.com/aiobs/aiobs/render"
	"github.com/aiobs/aiobs/render/write"
)

// BenchmarkApply times writing a rendered tree into a new directory (every
// file staged, fsynced and swapped in) and over an unchanged tree (every
// file hashed, nothing written).
func BenchmarkApply(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		files := rendered(b, c)
		b.Run("tree=new/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			root := b.TempDir()
			i := 0
			stop := benchcpu.Start(b)
			for b.Loop() {
				i++
				if _, err := write.Apply(filepath.Join(root, strconv.Itoa(i)), files, write.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			stop()
		})
		b.Run("tree=unchanged/"+c.Name, func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "out")
			if _, err := write.Apply(dir, files, write.Options{}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				res, err := write.Apply(dir, files, write.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Written) > 0 {
					b.Fatalf("unchanged tree: wrote %d files", len(res.Written))
				}
			}
			stop()
		})
	}
}

// BenchmarkCheck times render --check's comparison on an unchanged tree.
func BenchmarkCheck(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		b.Run(c.Name, func(b *testing.B) {
			files := rendered(b, c)
			dir := filepath.Join(b.TempDir(), "out")
			if _, err := write.Apply(dir, files, write.Options{}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			stop := benchcpu.Start(b)
			for b.Loop() {
				stale, err := write.Check(dir, files)
				if err != nil {
					b.Fatal(err)
				}
				if len(stale) > 0 {
					b.Fatalf("unchanged tree: %d stale files", len(stale))
				}
			}
			stop()
		})
	}
}

// BenchmarkReusable times finding the reusable files of an unchanged tree:
// every file hashed (no cache), and every file vouched for by its stat.
func BenchmarkReusable(b *testing.B) {
	for _, c := range synthtest.Cases(b) {
		files := rendered(b, c)
		var keys []string
		for i := range files {
			files[i].Key = strconv.Itoa(i / 6) // about a target's worth of files per key
			if i%6 == 0 {
				keys = append(keys, files[i].Key)
			}
		}
		dir := filepath.Join(b.TempDir(), "out")
		cache := b.TempDir()
		if _, err := write.Apply(dir, files, write.Options{}); err != nil {
			b.Fatal(err)
		}
		for name, cacheDir := range map[string]string{"cache=none": "", "cache=stat": cache} {
			b.Run(name+"/"+c.Name, func(b *testing.B) {
				if cacheDir != "" {
					// Let the files age past the racy window, then record them.
					time.Sleep(2100 * time.Millisecond)
					if _, err := write.Apply(dir, files, write.Options{CacheDir: cacheDir}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				stop := benchcpu.Start(b)
				for b.Loop() {
					reused, err := write.Reusable(dir, keys, cacheDir)
					if err != nil || len(reused) != len(keys) {
						b.Fatalf("reused %d of %d keys: %v", len(reused), len(keys), err)
					}
				}
				stop()
			})
		}
	}
}

func rendered(b *testing.B, c synthtest.Case) []write.File {
	files, err := render.Render(synthtest.Plan(b, c))
	if err != nil {
		b.Fatal(err)
	}
	return files
}
