package write

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// keyedFiles builds a file set from path, key, content triples.
func keyedFiles(triples ...string) []File {
	var out []File
	for i := 0; i < len(triples); i += 3 {
		out = append(out, File{Path: triples[i], Key: triples[i+1], Bytes: []byte(triples[i+2])})
	}
	return out
}

// reusedPaths lists, sorted, the paths Reusable returned, as key:path.
func reusedPaths(t *testing.T, dir string, keys ...string) []string {
	t.Helper()
	got, err := Reusable(dir, keys, "")
	if err != nil {
		t.Fatalf("Reusable: %v", err)
	}
	var out []string
	for key, fs := range got {
		for _, f := range fs {
			if f.Key != key || f.Bytes != nil || f.Reused == nil {
				t.Errorf("Reusable returned %+v under %s", f, key)
			}
			out = append(out, key+":"+f.Path)
		}
	}
	slices.Sort(out)
	return out
}

func TestReusable(t *testing.T) {
	set := keyedFiles(
		"a/one.json", "k1", "one",
		"a/two.yaml", "k1", "two",
		"b/three.json", "k2", "three",
		"c/plain.txt", "", "no key",
	)
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, dir string)
		keys  []string
		want  []string
	}{
		{name: "untouched", keys: []string{"k1", "k2"}, want: []string{"k1:a/one.json", "k1:a/two.yaml", "k2:b/three.json"}},
		{name: "only the keys asked for", keys: []string{"k2", "k3"}, want: []string{"k2:b/three.json"}},
		{name: "edited file spoils its whole key", keys: []string{"k1", "k2"}, want: []string{"k2:b/three.json"},
			spoil: func(t *testing.T, dir string) { put(t, filepath.Join(dir, "a/two.yaml"), "edited") }},
		{name: "same size, other bytes", keys: []string{"k1", "k2"}, want: []string{"k1:a/one.json", "k1:a/two.yaml"},
			spoil: func(t *testing.T, dir string) { put(t, filepath.Join(dir, "b/three.json"), "THREE") }},
		{name: "deleted file", keys: []string{"k1", "k2"}, want: []string{"k2:b/three.json"},
			spoil: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "a/one.json")) }},
		{name: "other mode", keys: []string{"k1", "k2"}, want: []string{"k1:a/one.json", "k1:a/two.yaml"},
			spoil: func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, "b/three.json"), 0o600) }},
		{name: "symlink in its place", keys: []string{"k1", "k2"}, want: []string{"k1:a/one.json", "k1:a/two.yaml"},
			spoil: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "b/three.json")
				os.Rename(p, p+".moved")
				os.Symlink("three.json.moved", p)
			}},
		{name: "no manifest", keys: []string{"k1", "k2"},
			spoil: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, ManifestName)) }},
		{name: "corrupt manifest", keys: []string{"k1", "k2"},
			spoil: func(t *testing.T, dir string) { put(t, filepath.Join(dir, ManifestName), "{") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			mustApply(t, dir, set)
			if tc.spoil != nil {
				tc.spoil(t, dir)
			}
			if diff := cmp.Diff(tc.want, reusedPaths(t, dir, tc.keys...)); diff != "" {
				t.Errorf("reused (-want +got):\n%s", diff)
			}
		})
	}
	if got := reusedPaths(t, filepath.Join(t.TempDir(), "missing"), "k1"); len(got) != 0 {
		t.Errorf("no output yet: reused %v", got)
	}
}

// TestApplyLinksReusedFiles renders again with the reused files in place of
// bytes: nothing is written, the manifest keeps its sums and keys, and a
// changed neighbour is written as usual.
func TestApplyLinksReusedFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	set := keyedFiles("a/one.json", "k1", "one", "b/two.json", "k2", "two")
	mustApply(t, dir, set)
	manifest, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(manifest), `"key": "k1"`) {
		t.Fatalf("the manifest does not record keys:\n%s", manifest)
	}
	reused, err := Reusable(dir, []string{"k1", "k2"}, "")
	if err != nil {
		t.Fatal(err)
	}

	res := mustApply(t, dir, slices.Concat(reused["k1"], reused["k2"]))
	if len(res.Written) != 0 || len(res.Unchanged) != 2 {
		t.Errorf("all reused: %+v", res)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, ManifestName)); string(after) != string(manifest) {
		t.Errorf("manifest changed:\n%s", after)
	}
	stale, err := Check(dir, slices.Concat(reused["k1"], reused["k2"]))
	if err != nil || len(stale) != 0 {
		t.Errorf("Check: %v %v", stale, err)
	}

	res = mustApply(t, dir, append(slices.Clone(reused["k1"]), keyedFiles("b/two.json", "k3", "new")...))
	if diff := cmp.Diff([]string{"b/two.json"}, res.Written); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	want := map[string]string{"a/one.json": "one", "b/two.json": "new"}
	if diff := cmp.Diff(want, withoutManifest(snapshot(t, dir))); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
}

// TestApplyRefusesAFileChangedSinceReusable covers an edit between the hash
// and the link: Apply must not link bytes the manifest does not describe.
func TestApplyRefusesAFileChangedSinceReusable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	mustApply(t, dir, keyedFiles("a/one.json", "k1", "one"))
	reused, err := Reusable(dir, []string{"k1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "a/one.json")
	put(t, p, "edited")
	later := time.Now().Add(time.Minute)
	os.Chtimes(p, later, later)
	before := snapshot(t, dir)
	_, err = Apply(dir, reused["k1"], Options{})
	if err == nil || !strings.Contains(err.Error(), "changed while aiobs was rendering") {
		t.Fatalf("Apply: %v", err)
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("the failed Apply changed the tree (-before +after):\n%s", diff)
	}
}

// TestStatCache records an Apply's files, then shows that Reusable trusts an
// entry whose stats match without reading the file, and hashes any file
// whose stats moved.
func TestStatCache(t *testing.T) {
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	racyWindow = 0
	dir := filepath.Join(t.TempDir(), "out")
	cache := t.TempDir()
	if _, err := Apply(dir, keyedFiles("a/one.json", "k1", "one", "b/two.json", "k2", "two"), Options{CacheDir: cache}); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	stats := loadStatCache(cache, abs)
	if len(stats) != 2 {
		t.Fatalf("stat cache holds %d entries, want 2: %v", len(stats), stats)
	}
	if got := loadStatCache(cache, abs+"-other"); got != nil {
		t.Errorf("another directory's cache: %v", got)
	}

	old, err := scan(abs)
	if err != nil {
		t.Fatal(err)
	}
	defer old.close()
	f := old.listed[0]
	// With stats that match, the recorded sum is believed: the file is not
	// read, so a sum it does not have passes.
	liar := f
	liar.SHA256 = strings.Repeat("0", 64)
	trusting := map[string]statEntry{f.Path: stats[f.Path]}
	e := trusting[f.Path]
	e.SHA256 = liar.SHA256
	trusting[f.Path] = e
	if old.unchanged(liar, trusting) == nil {
		t.Error("a matching stat entry was not trusted")
	}
	if old.unchanged(liar, nil) != nil {
		t.Error("without the stat cache a wrong sum passed")
	}
	e.Inode++
	trusting[f.Path] = e
	if old.unchanged(liar, trusting) != nil {
		t.Error("an entry with another inode was trusted")
	}
}

func TestStatCacheSkipsRacyFiles(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	put(t, name, "x")
	info := mustStat(t, name)
	if _, ok := entryOf(info, [32]byte{}, time.Now(), nil); ok {
		t.Error("a file changed just now was recorded")
	}
	// Contents written long ago, metadata (a link, a chmod) just now.
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(name, old, old); err != nil {
		t.Fatal(err)
	}
	info = mustStat(t, name)
	if _, _, ok := fileID(info); ok {
		if _, ok := entryOf(info, [32]byte{}, time.Now(), nil); ok {
			t.Error("a file whose change time is fresh was recorded")
		}
		if _, ok := entryOf(info, [32]byte{}, time.Now(), info); !ok {
			t.Error("a linked file as verified was not recorded")
		}
	}
	if _, _, ok := fileID(info); ok {
		if _, ok := entryOf(info, [32]byte{}, time.Now().Add(time.Hour), nil); !ok {
			t.Error("an old enough file was not recorded")
		}
	}
}

// TestSessionTakesFilesConcurrently feeds a session from many goroutines, as
// render does, and requires the same tree and manifest as one Apply; a
// session closed without Commit leaves the output and no stage behind.
func TestSessionTakesFilesConcurrently(t *testing.T) {
	set := generation(1, 300)
	want := filepath.Join(t.TempDir(), "want")
	mustApply(t, want, set)

	dir := filepath.Join(t.TempDir(), "out")
	s, err := Begin(dir, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(set))
	for i := range 8 {
		wg.Go(func() {
			for j := i; j < len(set); j += 8 {
				if err := s.Put(set[j]); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if s.Len() != len(set) {
		t.Errorf("Len = %d, want %d", s.Len(), len(set))
	}
	if _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if diff := cmp.Diff(snapshot(t, want), snapshot(t, dir)); diff != "" {
		t.Errorf("tree (-one Apply +session):\n%s", diff)
	}

	before := snapshot(t, dir)
	s, err = Begin(dir, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range generation(2, 300) {
		if err := s.Put(f); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("a session closed without Commit changed the output (-before +after):\n%s", diff)
	}
	if left := siblings(t, dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestStatCacheKeepsLinkedFiles commits a change next to unchanged files:
// linking refreshes their change time, yet the commit records them, so the
// next Reusable trusts them without hashing; the file just written is left
// to be hashed.
func TestStatCacheKeepsLinkedFiles(t *testing.T) {
	if _, _, ok := fileID(mustStat(t, t.TempDir())); !ok {
		t.Skip("no inode and change time on this platform")
	}
	dir := filepath.Join(t.TempDir(), "out")
	cache := t.TempDir()
	opts := Options{CacheDir: cache}
	if _, err := Apply(dir, keyedFiles("a/one.json", "k1", "one", "b/two.json", "k2", "two"), opts); err != nil {
		t.Fatal(err)
	}
	// Age the files past the racy window, as minutes of editing would.
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{"a/one.json", "b/two.json"} {
		if err := os.Chtimes(filepath.Join(dir, p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	reused, err := Reusable(dir, []string{"k1"}, cache)
	if err != nil || len(reused["k1"]) != 1 {
		t.Fatalf("Reusable: %v %v", reused, err)
	}
	if _, err := Apply(dir, append(reused["k1"], keyedFiles("b/two.json", "k3", "new")...), opts); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	stats := loadStatCache(cache, abs)
	if _, ok := stats["a/one.json"]; !ok {
		t.Errorf("the linked file was not recorded: %v", stats)
	}
	if _, ok := stats["b/two.json"]; ok {
		t.Errorf("the file written just now was recorded")
	}
	if e, ok := stats["a/one.json"]; ok && !e.matches(mustStat(t, filepath.Join(dir, "a/one.json")), e.SHA256) {
		t.Errorf("the recorded entry does not match the file")
	}
}

func mustStat(t *testing.T, name string) os.FileInfo {
	t.Helper()
	info, err := os.Lstat(name)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// FuzzReusableManifest gives Reusable and a session any manifest: a
// hand-edited or corrupt one must reuse only files that hash to what it
// says, and never panic.
func FuzzReusableManifest(f *testing.F) {
	f.Add([]byte(`{"version":"t","files":[{"path":"a.json","sha256":"` + strings.Repeat("0", 64) + `","key":"k"}]}`))
	f.Add([]byte(`{"files":[{"path":"../x","sha256":"zz","key":"k"},{"path":"a.json","key":""}]}`))
	f.Add([]byte(`{"files":null}`))
	f.Fuzz(func(t *testing.T, manifest []byte) {
		dir := filepath.Join(t.TempDir(), "out")
		put(t, filepath.Join(dir, "a.json"), "one")
		put(t, filepath.Join(dir, ManifestName), string(manifest))
		reused, err := Reusable(dir, []string{"k", ""}, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, files := range reused {
			for _, file := range files {
				if file.Path != "a.json" || file.Sum() != sha256sum("one") {
					t.Fatalf("reused %s with sum %x", file.Path, file.Sum())
				}
			}
		}
		if s, err := Begin(dir, Options{}); err == nil {
			s.Close()
		}
	})
}

func sha256sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
