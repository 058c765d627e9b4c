package write

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Infixes of the siblings Apply keeps next to the output directory while it works.
const (
	stageInfix = ".aiobs-stage-"
	oldInfix   = ".aiobs-old-"
)

// target is the output directory and the parent its siblings live in.
type target struct {
	dir    string // absolute and clean
	parent string
	base   string
}

func newTarget(dir string) (target, error) {
	if dir == "" {
		return target{}, errors.New("no output directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return target{}, fmt.Errorf("output directory: %w", err)
	}
	t := target{dir: abs, parent: filepath.Dir(abs), base: filepath.Base(abs)}
	if t.parent == abs {
		return target{}, fmt.Errorf("output directory %s is a file system root; use a directory below it", abs)
	}
	return t, nil
}

func (t target) lockPath() string { return filepath.Join(t.parent, "."+t.base+".aiobs.lock") }

// prefix is the name prefix of this directory's siblings of one kind.
func (t target) prefix(infix string) string { return "." + t.base + infix }

func (t target) prepareParent() error {
	if err := os.MkdirAll(t.parent, 0o755); err != nil {
		return fmt.Errorf("create parent of output directory: %w", err)
	}
	return nil
}

// current returns the directory holding the current output: the output directory
// itself, the old tree of a swap interrupted before its commit point, or "" when
// there is no output yet.
func (t target) current() (string, error) {
	info, err := os.Lstat(t.dir)
	switch {
	case err == nil && info.Mode()&fs.ModeSymlink != 0:
		// The swap would replace the link, not the directory it points to.
		return "", fmt.Errorf("output directory %s is a symlink; use the directory it points to", t.dir)
	case err == nil && !info.IsDir():
		return "", fmt.Errorf("output directory %s is not a directory", t.dir)
	case err == nil:
		return t.dir, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("output directory: %w", err)
	}
	olds, err := t.leftovers(oldInfix)
	if err != nil {
		return "", err
	}
	switch len(olds) {
	case 0:
		return "", nil
	case 1:
		return olds[0], nil
	}
	// Recovery restores before every Apply, so this needs outside help.
	return "", fmt.Errorf("output directory %s is missing and several old trees are left: %s; rename the right one to %s",
		t.dir, strings.Join(olds, ", "), t.base)
}

// leftovers lists this directory's siblings of one kind, sorted.
func (t target) leftovers(infix string) ([]string, error) {
	entries, err := os.ReadDir(t.parent)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // Check and Diff of an output that was never rendered
	}
	if err != nil {
		return nil, fmt.Errorf("read parent of output directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), t.prefix(infix)) {
			names = append(names, filepath.Join(t.parent, e.Name()))
		}
	}
	return names, nil
}

// recover undoes what an interrupted Apply left behind; the caller holds the lock,
// so no other Apply is using the stage or old trees it removes.
func (t target) recover() error {
	cur, err := t.current()
	if err != nil {
		return err
	}
	if cur != "" && cur != t.dir {
		// Killed between the two renames: the stage may be incomplete, so roll back.
		if err := os.Rename(cur, t.dir); err != nil {
			return fmt.Errorf("restore output of an interrupted render: %w", err)
		}
		if err := syncDir(t.parent); err != nil {
			return err
		}
	}
	for _, infix := range []string{stageInfix, oldInfix} {
		names, err := t.leftovers(infix)
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := os.RemoveAll(name); err != nil {
				return fmt.Errorf("remove leftover of an interrupted render: %w", err)
			}
		}
	}
	return nil
}

// swap renames the stage into place; see the package doc for why each step is
// safe to be killed at.
func (t target) swap(stage string, hadOld bool) error {
	if !hadOld {
		if err := os.Rename(stage, t.dir); err != nil {
			return fmt.Errorf("move new output into place: %w", err)
		}
		return syncDir(t.parent)
	}
	// Reusing the stage's random suffix keeps the name unique: recovery removed
	// every old tree before this Apply began.
	old := filepath.Join(t.parent, t.prefix(oldInfix)+strings.TrimPrefix(filepath.Base(stage), t.prefix(stageInfix)))
	if err := os.Rename(t.dir, old); err != nil {
		return fmt.Errorf("move old output aside: %w", err)
	}
	if err := syncDir(t.parent); err != nil {
		return errors.Join(err, t.rollback(old))
	}
	if err := os.Rename(stage, t.dir); err != nil {
		return errors.Join(fmt.Errorf("move new output into place: %w", err), t.rollback(old))
	}
	if err := syncDir(t.parent); err != nil {
		return err
	}
	// Committed. A failure to remove the old tree must not report the render as
	// failed; the next Apply removes what is left.
	os.RemoveAll(old)
	return nil
}

// rollback puts the old output back after a failed swap; when even that fails,
// the next Apply's recovery does it.
func (t target) rollback(old string) error {
	if err := os.Rename(old, t.dir); err != nil {
		return fmt.Errorf("restore old output (the next render will retry): %w", err)
	}
	return nil
}

// stager writes the new tree into the stage directory. It works through the
// parent so that entries of the current output can be hard-linked into the stage.
type stager struct {
	parent   *os.Root
	from, to string // base names of the current output and of the stage
	dir      string // the stage's own path, which only this process writes in, so plain paths are safe there
	old      *tree
	made     map[string]bool     // directories created in the stage, "." included
	written  []string            // files written or copied into the stage, not linked
	oldDirs  map[string]*os.File // directories of the old tree opened for link
}

// carry puts the old tree's entry at name into the stage as it is: a hard link
// keeps its bytes, mode and mtime without copying, and never follows a symlink.
func (s *stager) carry(name string) error {
	if s.old.nodes[name].info.IsDir() {
		return s.mkdirAll(name) // an empty foreign directory
	}
	if err := s.mkdirAll(path.Dir(name)); err != nil {
		return err
	}
	err := s.link(name)
	if err == nil {
		return nil
	}
	// Some file systems have no hard links: copy instead.
	info := s.old.nodes[name].info
	switch {
	case info.Mode().IsRegular():
		data, err := s.old.root.ReadFile(name)
		if err == nil {
			err = writeFile(s.path(name), data, info.Mode().Perm())
			s.written = append(s.written, name)
		}
		if err == nil {
			err = s.parent.Chtimes(path.Join(s.to, name), time.Time{}, info.ModTime())
		}
		return wrapStage(name, err)
	case info.Mode()&fs.ModeSymlink != 0:
		dest, err := s.old.root.Readlink(name)
		if err == nil {
			err = s.parent.Symlink(dest, path.Join(s.to, name))
		}
		return wrapStage(name, err)
	}
	return wrapStage(name, err)
}

func (s *stager) mkdirAll(dir string) error {
	if s.made[dir] {
		return nil
	}
	if err := s.mkdirAll(path.Dir(dir)); err != nil {
		return err
	}
	// Final modes are set in finish, so a read-only directory can still be filled.
	if err := os.Mkdir(s.path(dir), 0o700); err != nil {
		return wrapStage(dir, err)
	}
	s.made[dir] = true
	return nil
}

// finish makes the files durable, then gives every directory its mode and
// fsyncs it, so that the swap publishes a tree that is all on disk.
func (s *stager) finish(stage string) error {
	if err := syncFiles(stage, s.written); err != nil {
		return err
	}
	for _, dir := range slices.Sorted(maps.Keys(s.made)) {
		if err := os.Chmod(s.path(dir), s.old.dirMode(dir)); err != nil {
			return wrapStage(dir, err)
		}
		if err := syncDir(filepath.Join(stage, filepath.FromSlash(dir))); err != nil {
			return err
		}
	}
	return nil
}

// path is where name goes in the stage.
func (s *stager) path(name string) string { return filepath.Join(s.dir, filepath.FromSlash(name)) }

// writeFile creates the file at name with exactly data and perm; O_EXCL
// refuses anything already there, a symlink included. It does not fsync:
// finish makes every staged file durable at once, which is many times
// faster than one fsync per file for a tree of thousands. It takes a plain
// path, not an os.Root, because it only writes in the stage, a fresh 0700
// directory nobody else can put a link in, and resolving the path
// component by component cost a sixth of a fresh render.
func writeFile(name string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm) // the umask may have narrowed perm at creation
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func wrapStage(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("stage %s: %w", name, err)
}

// fsync opens name and fsyncs it, file or directory.
func fsync(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	return nil
}
