package write

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// files builds a file set from path, content pairs.
func files(pairs ...string) []File {
	var fs []File
	for i := 0; i < len(pairs); i += 2 {
		fs = append(fs, File{Path: pairs[i], Bytes: []byte(pairs[i+1])})
	}
	return fs
}

// snapshot reads every file, symlink and empty directory below dir, by slash path;
// an empty directory is keyed with a trailing slash.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			entries, err := os.ReadDir(p)
			if err == nil && len(entries) == 0 {
				got[rel+"/"] = ""
			}
			return err
		case d.Type()&fs.ModeSymlink != 0:
			dest, err := os.Readlink(p)
			got[rel] = "symlink to " + dest
			return err
		default:
			b, err := os.ReadFile(p)
			got[rel] = string(b)
			return err
		}
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", dir, err)
	}
	return got
}

// withoutManifest drops the manifest from a snapshot.
func withoutManifest(snap map[string]string) map[string]string {
	delete(snap, ManifestName)
	return snap
}

// siblings lists what Apply keeps next to dir: lock, stage and old trees.
func siblings(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".aiobs*"))
	if err != nil {
		t.Fatal(err)
	}
	return matches
}

func mustApply(t *testing.T, dir string, fs []File) Result {
	t.Helper()
	res, err := Apply(dir, fs, Options{Version: "test"})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

func put(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestApply(t *testing.T) {
	out := filepath.Join(t.TempDir(), "parent", "out")
	steps := []struct {
		name    string
		user    func(t *testing.T) // what the user does before this render
		files   []File
		want    Result
		wantErr string
		tree    map[string]string // the output afterwards, manifest aside
	}{
		{
			name:  "the first render creates the directory and its parent",
			files: files("dash/a.json", "a1\n", "dash/b.json", "b1\n", "rules/r.yaml", "r1\n"),
			want:  Result{Written: []string{"dash/a.json", "dash/b.json", "rules/r.yaml"}},
			tree:  map[string]string{"dash/a.json": "a1\n", "dash/b.json": "b1\n", "rules/r.yaml": "r1\n"},
		},
		{
			name:  "rendering the same files again changes nothing",
			files: files("dash/a.json", "a1\n", "dash/b.json", "b1\n", "rules/r.yaml", "r1\n"),
			want:  Result{Unchanged: []string{"dash/a.json", "dash/b.json", "rules/r.yaml"}},
			tree:  map[string]string{"dash/a.json": "a1\n", "dash/b.json": "b1\n", "rules/r.yaml": "r1\n"},
		},
		{
			name:  "a changed file is rewritten and the others kept",
			files: files("dash/a.json", "a2\n", "dash/b.json", "b1\n", "rules/r.yaml", "r1\n"),
			want:  Result{Written: []string{"dash/a.json"}, Unchanged: []string{"dash/b.json", "rules/r.yaml"}},
			tree:  map[string]string{"dash/a.json": "a2\n", "dash/b.json": "b1\n", "rules/r.yaml": "r1\n"},
		},
		{
			name:  "a file no longer produced is pruned with its emptied directory",
			files: files("dash/a.json", "a2\n", "dash/b.json", "b1\n"),
			want:  Result{Unchanged: []string{"dash/a.json", "dash/b.json"}, Pruned: []string{"rules/r.yaml"}},
			tree:  map[string]string{"dash/a.json": "a2\n", "dash/b.json": "b1\n"},
		},
		{
			name: "foreign files and empty directories are kept as they are",
			user: func(t *testing.T) {
				put(t, filepath.Join(out, "README.md"), "mine\n")
				put(t, filepath.Join(out, "dash", "notes.txt"), "also mine\n")
				if err := os.Mkdir(filepath.Join(out, "empty"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			files: files("dash/a.json", "a2\n"),
			want:  Result{Unchanged: []string{"dash/a.json"}, Pruned: []string{"dash/b.json"}},
			tree:  map[string]string{"dash/a.json": "a2\n", "README.md": "mine\n", "dash/notes.txt": "also mine\n", "empty/": ""},
		},
		{
			name:    "a foreign file at a wanted path is refused and nothing changes",
			files:   files("dash/a.json", "a3\n", "README.md", "generated\n"),
			wantErr: "refusing to overwrite foreign file " + filepath.Join(out, "README.md") + " (not listed in " + filepath.Join(out, ManifestName) + ")",
			tree:    map[string]string{"dash/a.json": "a2\n", "README.md": "mine\n", "dash/notes.txt": "also mine\n", "empty/": ""},
		},
		{
			name:  "several foreign paths in the way are all named",
			files: files("README.md/x", "x\n", "empty", "e\n", "dash/notes.txt", "n\n"),
			wantErr: "refusing to overwrite foreign files (not listed in " + filepath.Join(out, ManifestName) + "): " +
				filepath.Join(out, "README.md") + ", " + filepath.Join(out, "dash", "notes.txt") + ", " + filepath.Join(out, "empty") + string(filepath.Separator),
			tree: map[string]string{"dash/a.json": "a2\n", "README.md": "mine\n", "dash/notes.txt": "also mine\n", "empty/": ""},
		},
		{
			name:    "a directory holding foreign files is not replaced by a file",
			files:   files("dash", "d\n"),
			wantErr: "refusing to overwrite foreign file " + filepath.Join(out, "dash") + string(filepath.Separator) + " (not listed in " + filepath.Join(out, ManifestName) + ")",
			tree:    map[string]string{"dash/a.json": "a2\n", "README.md": "mine\n", "dash/notes.txt": "also mine\n", "empty/": ""},
		},
		{
			name: "an owned file the user deleted is written again",
			user: func(t *testing.T) {
				if err := os.Remove(filepath.Join(out, "dash", "a.json")); err != nil {
					t.Fatal(err)
				}
			},
			files: files("dash/a.json", "a2\n"),
			want:  Result{Written: []string{"dash/a.json"}},
			tree:  map[string]string{"dash/a.json": "a2\n", "README.md": "mine\n", "dash/notes.txt": "also mine\n", "empty/": ""},
		},
		{
			name:  "an owned file can become a directory",
			files: files("dash/a.json/x", "x\n"),
			want:  Result{Written: []string{"dash/a.json/x"}, Pruned: []string{"dash/a.json"}},
			tree:  map[string]string{"dash/a.json/x": "x\n", "README.md": "mine\n", "dash/notes.txt": "also mine\n", "empty/": ""},
		},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if step.user != nil {
				step.user(t)
			}
			got, err := Apply(out, step.files, Options{Version: "v1.2.3"})
			if diff := cmp.Diff(step.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(step.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(step.tree, withoutManifest(snapshot(t, out))); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
			if s := siblings(t, out); len(s) > 0 {
				t.Errorf("left behind %v", s)
			}
		})
	}
}

func TestApplyWritesManifest(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	// Unsorted input with a character JSON would escape for HTML.
	if _, err := Apply(out, files("b/<x>.json", "b\n", "a.yaml", "a\n", "b/c", ""), Options{Version: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": "v1.2.3",
  "files": [
    {
      "path": "a.yaml",
      "sha256": "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"
    },
    {
      "path": "b/<x>.json",
      "sha256": "0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f"
    },
    {
      "path": "b/c",
      "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    }
  ]
}
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
}

func TestApplyWithNoFilesWritesAnEmptyManifest(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Apply(out, nil, Options{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ManifestName: "{\n  \"version\": \"v1\",\n  \"files\": []\n}\n"}
	if diff := cmp.Diff(want, snapshot(t, out)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
}

func TestApplyIsDeterministic(t *testing.T) {
	set := files("z.json", "z\n", "a/b.json", "b\n", "a/a.json", "a\n", "m.yaml", "m\n")
	reversed := slices.Clone(set)
	slices.Reverse(reversed)
	one := filepath.Join(t.TempDir(), "one")
	two := filepath.Join(t.TempDir(), "two")
	r1 := mustApply(t, one, set)
	r2 := mustApply(t, two, reversed)
	if diff := cmp.Diff(r1, r2); diff != "" {
		t.Errorf("results differ (-one +two):\n%s", diff)
	}
	if diff := cmp.Diff(snapshot(t, one), snapshot(t, two)); diff != "" {
		t.Errorf("trees differ (-one +two):\n%s", diff)
	}
}

func TestApplyKeepsUnchangedFilesAsTheyAre(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	mustApply(t, out, files("keep.json", "k\n", "change.json", "c1\n"))
	past := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, name := range []string{"keep.json", "change.json"} {
		if err := os.Chtimes(filepath.Join(out, name), past, past); err != nil {
			t.Fatal(err)
		}
	}
	mustApply(t, out, files("keep.json", "k\n", "change.json", "c2\n"))
	for name, wantOld := range map[string]bool{"keep.json": true, "change.json": false} {
		info, err := os.Stat(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := info.ModTime().Equal(past); got != wantOld {
			t.Errorf("%s: mtime %v, want old mtime %v", name, info.ModTime(), wantOld)
		}
	}
}

func TestApplySetsModes(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	mustApply(t, out, files("a/b/c.json", "c\n", "d.json", "d\n"))
	// A user's chmod of an owned file is undone even when its bytes are unchanged.
	if err := os.Chmod(filepath.Join(out, "d.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := mustApply(t, out, files("a/b/c.json", "c\n", "d.json", "d\n"))
	if diff := cmp.Diff([]string{"a/b/c.json", "d.json"}, res.Unchanged); diff != "" {
		t.Errorf("unchanged (-want +got):\n%s", diff)
	}
	want := map[string]fs.FileMode{
		".":          fs.ModeDir | 0o755,
		"a":          fs.ModeDir | 0o755,
		"a/b":        fs.ModeDir | 0o755,
		"a/b/c.json": 0o644,
		"d.json":     0o644,
		ManifestName: 0o644,
	}
	got := map[string]fs.FileMode{}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		rel, _ := filepath.Rel(out, p)
		got[filepath.ToSlash(rel)] = info.Mode()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}
}

func TestApplyRefusesBadFileSets(t *testing.T) {
	tests := []struct {
		name  string
		files []File
		opts  Options
		want  string
	}{
		{
			name:  "a bad path is refused",
			files: files("ok.json", "", "../escape", ""),
			want:  `invalid path "../escape": contains a .. element`,
		},
		{
			name:  "every bad path is reported, sorted",
			files: files("b//c", "", "/abs", "", "a\\b", ""),
			want: `invalid path "/abs": absolute; want a path relative to the output directory` + "\n" +
				`invalid path "a\\b": contains a backslash; use /` + "\n" +
				`invalid path "b//c": not clean; want "b/c"`,
		},
		{
			name:  "a duplicate path is refused",
			files: files("a.json", "1", "a.json", "2"),
			want:  `duplicate path "a.json"`,
		},
		{
			name:  "paths that differ only in case are refused",
			files: files("A.json", "", "a.json", ""),
			want:  `paths "A.json" and "a.json" differ only in case`,
		},
		{
			name:  "a path that is both a file and a directory is refused",
			files: files("a", "", "a/b/c", ""),
			want:  `path "a" is a file and also the directory of "a/b/c"`,
		},
		{
			name:  "the manifest itself is refused",
			files: files(ManifestName, "{}"),
			want:  `invalid path ".aiobs-manifest.json": reserved for the manifest`,
		},
		{
			name:  "too many files are refused",
			files: files("a", "", "b", "", "c", ""),
			opts:  Options{MaxFiles: 2},
			want:  "too many output files: 3, limit 2",
		},
		{
			name:  "too many bytes are refused",
			files: files("a", "12345", "b", "678"),
			opts:  Options{MaxBytes: 7},
			want:  "output too large: 8 bytes, limit 7",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			out := filepath.Join(parent, "sub", "out")
			_, err := Apply(out, tt.files, tt.opts)
			if diff := cmp.Diff(tt.want, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{}, snapshot(t, parent)); diff != "" {
				t.Errorf("wrote something (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyRefusesABadOutputDirectory(t *testing.T) {
	tmp := t.TempDir()
	put(t, filepath.Join(tmp, "file"), "x")
	if err := os.Mkdir(filepath.Join(tmp, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(tmp, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"an empty name is refused", "", "no output directory given"},
		{"a file is refused", filepath.Join(tmp, "file"), "output directory " + filepath.Join(tmp, "file") + " is not a directory"},
		{"a symlink is refused", filepath.Join(tmp, "link"), "output directory " + filepath.Join(tmp, "link") + " is a symlink; use the directory it points to"},
		{"the file system root is refused", string(filepath.Separator), "output directory " + string(filepath.Separator) + " is a file system root; use a directory below it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, tmp)
			_, err := Apply(tt.dir, files("a.json", "a\n"), Options{})
			if diff := cmp.Diff(tt.want, errString(err)); diff != "" {
				t.Errorf("Apply error (-want +got):\n%s", diff)
			}
			_, err = Check(tt.dir, files("a.json", "a\n"))
			if diff := cmp.Diff(tt.want, errString(err)); diff != "" {
				t.Errorf("Check error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, snapshot(t, tmp)); diff != "" {
				t.Errorf("changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestApplyRefusesACorruptManifest(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     string
	}{
		{"unparsable JSON is refused", "{", ManifestName + ": unexpected end of JSON input"},
		{"a listed path that escapes is refused", `{"files": [{"path": "../x"}]}`, ManifestName + ` lists invalid path "../x": contains a .. element`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			put(t, filepath.Join(out, ManifestName), tt.manifest)
			before := snapshot(t, out)
			_, err := Apply(out, files("a.json", "a\n"), Options{})
			want := "read output directory " + out + ": " + tt.want
			if diff := cmp.Diff(want, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, snapshot(t, out)); diff != "" {
				t.Errorf("changed (-before +after):\n%s", diff)
			}
		})
	}
}

// generation returns a file set that differs from the next generation in half its
// files and in an extra directory present in odd generations only.
func generation(gen, n int) []File {
	var set []File
	for i := range n {
		content := fmt.Sprintf("file %d\n", i)
		if i%2 == 0 {
			content += fmt.Sprintf("generation %d\n", gen)
		}
		content += strings.Repeat("x", 512) + "\n"
		set = append(set, File{Path: fmt.Sprintf("d%02d/f%04d.json", i%10, i), Bytes: []byte(content)})
	}
	if gen%2 == 1 {
		for i := range n / 10 {
			set = append(set, File{Path: fmt.Sprintf("extra/e%03d.json", i), Bytes: []byte("extra\n")})
		}
	}
	return set
}

// expected renders set into a fresh directory and returns what it holds.
func expected(t *testing.T, set []File, foreign map[string]string) map[string]string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	for name, content := range foreign {
		put(t, filepath.Join(dir, filepath.FromSlash(name)), content)
	}
	mustApply(t, dir, set)
	return snapshot(t, dir)
}

func TestApplyFailureLeavesPreviousOutput(t *testing.T) {
	const n = 20
	oldSet, newSet := generation(0, n), generation(1, n)
	foreign := map[string]string{"README.md": "mine\n"}
	for _, failAfter := range []int{1, 2, 7, len(newSet), len(newSet) + 5} {
		t.Run(fmt.Sprintf("failing after %d files leaves the old tree", failAfter), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			put(t, filepath.Join(out, "README.md"), "mine\n")
			mustApply(t, out, oldSet)
			before := snapshot(t, out)

			_, err := Apply(out, newSet, Options{Version: "test", FailAfter: failAfter})
			if err == nil || !strings.HasPrefix(err.Error(), "simulated failure") {
				t.Fatalf("Apply with FailAfter %d: got error %v, want a simulated failure", failAfter, err)
			}
			if diff := cmp.Diff(before, snapshot(t, out)); diff != "" {
				t.Errorf("old tree changed (-before +after):\n%s", diff)
			}
			if s := siblings(t, out); len(s) > 0 {
				t.Errorf("failed Apply left behind %v", s)
			}

			mustApply(t, out, newSet)
			if diff := cmp.Diff(expected(t, newSet, foreign), snapshot(t, out)); diff != "" {
				t.Errorf("new tree (-want +got):\n%s", diff)
			}
			if s := siblings(t, out); len(s) > 0 {
				t.Errorf("next Apply left behind %v", s)
			}
		})
	}
}

func TestInterruptedSwapIsRecovered(t *testing.T) {
	oldSet, newSet := generation(0, 10), generation(1, 10)
	tests := []struct {
		name string
		// crash turns a clean output into what a kill at some point leaves.
		crash func(t *testing.T, out, old, stage string)
	}{
		{
			name: "a kill while staging leaves a stage directory",
			crash: func(t *testing.T, out, old, stage string) {
				put(t, filepath.Join(stage, "d00", "f0000.json"), "partial")
			},
		},
		{
			name: "a kill between the renames leaves the output under the old name",
			crash: func(t *testing.T, out, old, stage string) {
				put(t, filepath.Join(stage, "d00", "f0000.json"), "partial")
				if err := os.Rename(out, old); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			mustApply(t, out, oldSet)
			tt.crash(t, out, filepath.Join(parent, ".out.aiobs-old-123"), filepath.Join(parent, ".out.aiobs-stage-123"))
			crashed := snapshot(t, parent)

			// Check reads the previous output wherever it is, and writes nothing.
			changed, err := Check(out, oldSet)
			if err != nil {
				t.Fatal(err)
			}
			if len(changed) > 0 {
				t.Errorf("Check against the previous files reports %v", changed)
			}
			if diff := cmp.Diff(crashed, snapshot(t, parent)); diff != "" {
				t.Errorf("Check wrote (-before +after):\n%s", diff)
			}

			// The next Apply starts from the previous output: only the even files change.
			res := mustApply(t, out, newSet)
			if len(res.Unchanged) != 5 {
				t.Errorf("Apply after the crash: %d unchanged files, want 5: %+v", len(res.Unchanged), res)
			}
			if diff := cmp.Diff(expected(t, newSet, nil), snapshot(t, out)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
			if s := siblings(t, out); len(s) > 0 {
				t.Errorf("left behind %v", s)
			}
		})
	}
}

func TestLeftoverOldTreeAfterCommitIsRemoved(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	mustApply(t, out, generation(0, 4))
	// A kill after the commit point, while the old tree was being removed.
	put(t, filepath.Join(parent, ".out.aiobs-old-9", "d00", "f0000.json"), "stale")
	changed, err := Check(out, generation(0, 4))
	if err != nil || len(changed) > 0 {
		t.Errorf("Check = %v, %v; want nothing changed", changed, err)
	}
	mustApply(t, out, generation(0, 4))
	if s := siblings(t, out); len(s) > 0 {
		t.Errorf("left behind %v", s)
	}
}

func TestSeveralOldTreesNeedAHuman(t *testing.T) {
	parent := t.TempDir()
	for _, name := range []string{".out.aiobs-old-1", ".out.aiobs-old-2"} {
		put(t, filepath.Join(parent, name, "a"), "a")
	}
	out := filepath.Join(parent, "out")
	want := "output directory " + out + " is missing and several old trees are left: " +
		filepath.Join(parent, ".out.aiobs-old-1") + ", " + filepath.Join(parent, ".out.aiobs-old-2") + "; rename the right one to out"
	_, err := Apply(out, nil, Options{})
	if diff := cmp.Diff(want, errString(err)); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

func TestSymlinksAreNeverFollowed(t *testing.T) {
	t.Run("an owned path that became a symlink is replaced, not followed", func(t *testing.T) {
		tmp := t.TempDir()
		out, outside := filepath.Join(tmp, "out"), filepath.Join(tmp, "outside")
		mustApply(t, out, files("a.json", "old\n"))
		// The target holds the wanted bytes: following the link would find it unchanged.
		put(t, outside, "new\n")
		os.Remove(filepath.Join(out, "a.json"))
		if err := os.Symlink(outside, filepath.Join(out, "a.json")); err != nil {
			t.Fatal(err)
		}

		changed, err := Check(out, files("a.json", "new\n"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"a.json"}, changed); diff != "" {
			t.Errorf("Check (-want +got):\n%s", diff)
		}
		d, err := Diff(out, files("a.json", "new\n"))
		if err != nil {
			t.Fatal(err)
		}
		wantDiff := "diff a/a.json b/a.json\n--- a/a.json\n+++ b/a.json\n@@ -0,0 +1,1 @@\n+new\n"
		if diff := cmp.Diff(wantDiff, string(d)); diff != "" {
			t.Errorf("Diff (-want +got):\n%s", diff)
		}

		res := mustApply(t, out, files("a.json", "newer\n"))
		if diff := cmp.Diff(Result{Written: []string{"a.json"}}, res); diff != "" {
			t.Errorf("Apply (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"a.json": "newer\n"}, withoutManifest(snapshot(t, out))); diff != "" {
			t.Errorf("output (-want +got):\n%s", diff)
		}
		if got := snapshot(t, tmp)["outside"]; got != "new\n" {
			t.Errorf("the symlink's target changed to %q", got)
		}
	})

	t.Run("a symlinked directory is kept as a link and not descended into", func(t *testing.T) {
		tmp := t.TempDir()
		out, outside := filepath.Join(tmp, "out"), filepath.Join(tmp, "outside")
		put(t, filepath.Join(outside, "x.json"), "theirs\n")
		mustApply(t, out, files("sub/x.json", "ours\n"))
		// The user swaps an owned directory for a link to a directory elsewhere.
		if err := os.RemoveAll(filepath.Join(out, "sub")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(out, "sub")); err != nil {
			t.Fatal(err)
		}

		// Writing through the link is refused.
		_, err := Apply(out, files("sub/x.json", "ours again\n"), Options{})
		want := "refusing to overwrite foreign file " + filepath.Join(out, "sub") + " (not listed in " + filepath.Join(out, ManifestName) + ")"
		if diff := cmp.Diff(want, errString(err)); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
		// Pruning sub/x.json must not reach the file the link points to.
		res := mustApply(t, out, files("other.json", "o\n"))
		if diff := cmp.Diff(Result{Written: []string{"other.json"}}, res); diff != "" {
			t.Errorf("Apply (-want +got):\n%s", diff)
		}
		wantOut := map[string]string{"other.json": "o\n", "sub": "symlink to " + outside}
		if diff := cmp.Diff(wantOut, withoutManifest(snapshot(t, out))); diff != "" {
			t.Errorf("output (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"x.json": "theirs\n"}, snapshot(t, outside)); diff != "" {
			t.Errorf("outside changed (-want +got):\n%s", diff)
		}
	})

	t.Run("a manifest that is a symlink is refused", func(t *testing.T) {
		tmp := t.TempDir()
		out := filepath.Join(tmp, "out")
		put(t, filepath.Join(tmp, "elsewhere.json"), `{"files": [{"path": "README.md"}]}`)
		put(t, filepath.Join(out, "README.md"), "mine\n")
		if err := os.Symlink(filepath.Join(tmp, "elsewhere.json"), filepath.Join(out, ManifestName)); err != nil {
			t.Fatal(err)
		}
		_, err := Apply(out, nil, Options{})
		want := "read output directory " + out + ": " + ManifestName + " is not a regular file"
		if diff := cmp.Diff(want, errString(err)); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
	})
}

func TestCheck(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	missing, err := Check(out, files("b", "", "a", ""))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, missing); diff != "" {
		t.Errorf("Check of a missing directory (-want +got):\n%s", diff)
	}
	missing, err = Check(filepath.Join(out, "no", "such", "out"), files("a", ""))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a"}, missing); diff != "" {
		t.Errorf("Check below a missing parent (-want +got):\n%s", diff)
	}

	mustApply(t, out, files("same.json", "s\n", "changed.json", "1\n", "gone.json", "g\n", "deleted.json", "d\n"))
	put(t, filepath.Join(out, "foreign.txt"), "mine\n")
	if err := os.Remove(filepath.Join(out, "deleted.json")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, filepath.Dir(out))
	got, err := Check(out, files("same.json", "s\n", "changed.json", "2\n", "new.json", "n\n", "deleted.json", "d\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"changed.json", "deleted.json", "gone.json", "new.json"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, snapshot(t, filepath.Dir(out))); diff != "" {
		t.Errorf("Check wrote (-before +after):\n%s", diff)
	}

	_, err = Check(out, files("foreign.txt", ""))
	want2 := "refusing to overwrite foreign file " + filepath.Join(out, "foreign.txt") + " (not listed in " + filepath.Join(out, ManifestName) + ")"
	if diff := cmp.Diff(want2, errString(err)); diff != "" {
		t.Errorf("Check of a foreign path (-want +got):\n%s", diff)
	}
}

func TestDiff(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	mustApply(t, out, files(
		"dash/a.json", "one\ntwo\nthree\n",
		"gone.yaml", "bye\n",
		"same.json", "same\n",
		"empty-gone", "",
	))
	before := snapshot(t, filepath.Dir(out))
	got, err := Diff(out, files(
		"dash/a.json", "one\n2\nthree\n",
		"same.json", "same\n",
		"new.yaml", "hello\n",
		"new-empty", "",
	))
	if err != nil {
		t.Fatal(err)
	}
	want := `diff a/dash/a.json b/dash/a.json
--- a/dash/a.json
+++ b/dash/a.json
@@ -1,3 +1,3 @@
 one
-two
+2
 three
diff a/empty-gone /dev/null
--- a/empty-gone
+++ /dev/null
diff a/gone.yaml /dev/null
--- a/gone.yaml
+++ /dev/null
@@ -1,1 +0,0 @@
-bye
diff /dev/null b/new-empty
--- /dev/null
+++ b/new-empty
diff /dev/null b/new.yaml
--- /dev/null
+++ b/new.yaml
@@ -0,0 +1,1 @@
+hello
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	again, err := Diff(out, files("new-empty", "", "new.yaml", "hello\n", "same.json", "same\n", "dash/a.json", "one\n2\nthree\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(got), string(again)); diff != "" {
		t.Errorf("Diff of the same files in another order (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(before, snapshot(t, filepath.Dir(out))); diff != "" {
		t.Errorf("Diff wrote (-before +after):\n%s", diff)
	}

	none, err := Diff(out, files("dash/a.json", "one\ntwo\nthree\n", "gone.yaml", "bye\n", "same.json", "same\n", "empty-gone", ""))
	if err != nil || len(none) > 0 {
		t.Errorf("Diff of the current files = %q, %v; want nothing", none, err)
	}
}

func TestErrorsWrapCauses(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	put(t, filepath.Join(out, ManifestName), "{")
	_, err := Apply(out, nil, Options{})
	if _, ok := errors.AsType[*json.SyntaxError](err); !ok {
		t.Errorf("error %v does not wrap the JSON syntax error", err)
	}
}
