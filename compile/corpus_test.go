package compile_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/diag"
)

var update = flag.Bool("update", false, "rewrite the expected output of the bad-input corpus")

func updating() bool { return *update || os.Getenv("AIOBS_UPDATE") == "1" }

// TestBadInputCorpus compiles each testdata/bad/*.txtar archive (decision
// files plus a "want" section holding the expected diagnostics) and checks
// that compilation fails with exactly those messages. Adding a case means
// adding a file.
func TestBadInputCorpus(t *testing.T) {
	archives, err := filepath.Glob("../testdata/bad/*.txtar")
	if err != nil || len(archives) == 0 {
		t.Fatalf("no corpus found: %v", err)
	}
	for _, path := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var want string
			for _, f := range ar.Files {
				if f.Name == "want" {
					want = string(f.Data)
					continue
				}
				p := filepath.Join(dir, filepath.FromSlash(f.Name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err = compile.Compile(context.Background(), filepath.Join(dir, "decisions"), compile.Options{Cwd: dir})
			l, ok := err.(diag.List)
			if !ok {
				t.Fatalf("want diagnostics, got error %v", err)
			}
			var got bytes.Buffer
			if err := diag.Print(&got, l, diag.FormatText); err != nil {
				t.Fatal(err)
			}
			if updating() {
				for i := range ar.Files {
					if ar.Files[i].Name == "want" {
						ar.Files[i].Data = got.Bytes()
					}
				}
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(want, got.String()); diff != "" {
				t.Errorf("diagnostics mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
