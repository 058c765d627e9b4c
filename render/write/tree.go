package write

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// tree is what scan found in the current output directory. Entries are recorded
// as Lstat sees them, so symlinks are never followed.
type tree struct {
	root     *os.Root        // nil when there is no output yet
	mode     fs.FileMode     // permissions of the directory itself
	nodes    map[string]node // every entry below the root but the manifest, by slash path
	owned    map[string]bool // the paths the manifest lists
	listed   []manifestFile  // what the manifest says of them
	manifest []byte          // the manifest's bytes, nil when absent
}

type node struct {
	info     fs.FileInfo
	children int // entries directly inside, for directories
}

// scan reads the tree at dir; dir "" means there is no output yet.
func scan(dir string) (*tree, error) {
	t := &tree{mode: 0o755, nodes: map[string]node{}, owned: map[string]bool{}}
	if dir == "" {
		return t, nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("read output directory: %w", err)
	}
	t.root = root
	if err := t.load(); err != nil {
		root.Close()
		return nil, fmt.Errorf("read output directory %s: %w", dir, err)
	}
	return t, nil
}

func (t *tree) load() error {
	info, err := t.root.Lstat(".")
	if err != nil {
		return err
	}
	t.mode = info.Mode().Perm()
	// WalkDir takes entry types from the directory listing, which does not follow
	// symlinks, so a symlinked directory is a leaf here.
	err = fs.WalkDir(t.root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || name == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		t.nodes[name] = node{info: info}
		if dir := path.Dir(name); dir != "." {
			parent := t.nodes[dir]
			parent.children++
			t.nodes[dir] = parent
		}
		return nil
	})
	if err != nil {
		return err
	}
	return t.loadManifest()
}

func (t *tree) loadManifest() error {
	n, ok := t.nodes[ManifestName]
	if !ok {
		return nil
	}
	delete(t.nodes, ManifestName)
	if !n.info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", ManifestName)
	}
	data, err := t.root.ReadFile(ManifestName)
	if err != nil {
		return err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%s: %w", ManifestName, err)
	}
	// Listed paths only decide ownership, but a bad one means the file was edited
	// or corrupted, and guessing what aiobs owns could delete a user's file.
	for _, f := range m.Files {
		if err := validatePath(f.Path); err != nil {
			return fmt.Errorf("%s lists invalid path %q: %w", ManifestName, f.Path, err)
		}
		t.owned[f.Path] = true
	}
	t.listed = m.Files
	t.manifest = data
	return nil
}

// close releases the tree's directory handle; it may be called more than once.
func (t *tree) close() {
	if t != nil && t.root != nil {
		t.root.Close()
	}
}

func (t *tree) exists() bool { return t.root != nil }

// isFile reports whether name is an entry other than a directory.
func (t *tree) isFile(name string) bool {
	n, ok := t.nodes[name]
	return ok && !n.info.IsDir()
}

// foreign reports whether the entry at name is the user's: any file the manifest
// does not list, and any empty directory (aiobs only makes directories to hold files).
func (t *tree) foreign(name string) bool {
	n, ok := t.nodes[name]
	if !ok {
		return false
	}
	if n.info.IsDir() {
		return n.children == 0
	}
	return !t.owned[name]
}

// read returns the bytes of the regular file at name, or nil for another kind of
// entry, whose target is never read.
func (t *tree) read(name string) ([]byte, error) {
	if n, ok := t.nodes[name]; !ok || !n.info.Mode().IsRegular() {
		return nil, nil
	}
	data, err := t.root.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return data, nil
}

// dirMode is the mode a directory gets in the new tree: its old one, so the
// user's choice survives, or 0755 for a new directory.
func (t *tree) dirMode(name string) fs.FileMode {
	if name == "." {
		return t.mode
	}
	if n, ok := t.nodes[name]; ok && n.info.IsDir() {
		return n.info.Mode().Perm()
	}
	return 0o755
}

// conflicts refuses files that would replace a foreign entry, sit below a foreign
// file, or replace a directory that holds foreign entries.
func (t *tree) conflicts(paths []string) error {
	holders := map[string]bool{} // directories holding foreign entries
	for name := range t.nodes {
		if t.foreign(name) {
			for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
				holders[dir] = true
			}
		}
	}
	var bad []string
	for _, p := range paths {
		switch {
		case t.foreign(p) && t.isFile(p):
			bad = append(bad, p)
		case t.foreign(p) || holders[p]:
			bad = append(bad, p+"/")
		}
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if t.foreign(dir) && t.isFile(dir) {
				bad = append(bad, dir)
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	bad = slices.Compact(bad)
	for i, name := range bad {
		bad[i] = filepath.Join(t.root.Name(), name)
		if strings.HasSuffix(name, "/") {
			bad[i] += string(filepath.Separator)
		}
	}
	manifest := filepath.Join(t.root.Name(), ManifestName)
	if len(bad) == 1 {
		return fmt.Errorf("refusing to overwrite foreign file %s (not listed in %s)", bad[0], manifest)
	}
	return fmt.Errorf("refusing to overwrite foreign files (not listed in %s): %s", manifest, strings.Join(bad, ", "))
}
