package write

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/aiobs/aiobs/internal/parallel"
)

// Session is one Apply, Check or Diff fed a file at a time, so that a caller
// rendering thousands of files never holds them all: Put compares each file
// with the current tree at once and, for an Apply, writes it into the stage
// straight away; only paths and sums are kept. Begin starts an Apply, Inspect
// a Check or Diff. Put may be called from several goroutines at once; the
// other methods may not. Close must always be called: after a Commit it only
// releases the lock, otherwise it also removes the stage, leaving the output
// directory as it was.
type Session struct {
	t      target
	opts   Options
	apply  bool
	unlock func()
	old    *tree

	mu      sync.Mutex
	entries []entry
	seen    map[string]bool
	folded  map[string]string
	bytes   int64
	staged  int
	diffs   map[string][]byte // Diff: the unified diff of each changed file
	parent  *os.Root          // Apply: the output's parent, once a file is staged
	stage   string
	stager  *stager
	done    bool
	failure error // a simulated failure (Options.FailAfter), once reached
}

// entry is what a session keeps of one file.
type entry struct {
	path, key string
	sum       [32]byte
	changed   bool
	// link says an unchanged file's old copy can be linked into the new tree;
	// one with another mode was written instead.
	link bool
}

// Begin starts an Apply to dir: it takes dir's lock, recovers from an
// interrupted Apply and reads the current tree.
func Begin(dir string, opts Options) (*Session, error) {
	t, err := newTarget(dir)
	if err != nil {
		return nil, err
	}
	if err := t.prepareParent(); err != nil {
		return nil, err
	}
	unlock, err := lock(t.lockPath(), t.dir)
	if err != nil {
		return nil, err
	}
	s, err := start(t, opts, true, unlock)
	if err != nil {
		unlock()
		return nil, err
	}
	return s, nil
}

// Inspect starts a Check or Diff of dir. It takes no lock and changes
// nothing; of opts only CacheDir, for Reusable, and Diff matter.
func Inspect(dir string, opts Options) (*Session, error) {
	t, err := newTarget(dir)
	if err != nil {
		return nil, err
	}
	return start(t, Options{CacheDir: opts.CacheDir, Diff: opts.Diff}, false, func() {})
}

// Len is the number of files Put so far.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func start(t target, opts Options, apply bool, unlock func()) (*Session, error) {
	if apply {
		if err := t.recover(); err != nil {
			return nil, err
		}
	}
	cur, err := t.current()
	if err != nil {
		return nil, err
	}
	old, err := scan(cur)
	if err != nil {
		return nil, err
	}
	return &Session{t: t, opts: opts, apply: apply, unlock: unlock, old: old,
		seen: map[string]bool{}, folded: map[string]string{}, diffs: map[string][]byte{}}, nil
}

// Close ends the session; see Session.
func (s *Session) Close() {
	if s.stager != nil {
		s.stager.close()
	}
	if s.stage != "" && !s.done {
		os.RemoveAll(s.stage)
	}
	if s.parent != nil {
		s.parent.Close()
	}
	s.old.close()
	s.unlock()
}

// Reusable is the package's Reusable on the tree the session read.
func (s *Session) Reusable(keys []string) (map[string][]File, error) {
	return reusable(s.old, keys, loadStatCache(s.opts.CacheDir, s.t.dir)), nil
}

// Load reads the bytes of the files Reusable returned, which have none.
func (s *Session) Load(files []File) error {
	errs := make([]error, len(files))
	parallel.For(len(files), func(i int) {
		if files[i].Reused != nil && files[i].Bytes == nil {
			files[i].Bytes, errs[i] = s.old.read(files[i].Path)
		}
	})
	return errors.Join(errs...)
}

// Put adds one file of the new tree. A bad path, a second file at one path
// or the limits exceeded are errors, as is, for an Apply, a failure to
// stage the file.
func (s *Session) Put(f File) error {
	if err := s.admit(f); err != nil {
		return err
	}
	e := entry{path: f.Path, key: f.Key}
	if f.Reused != nil {
		if n, ok := s.old.nodes[f.Path]; !ok || !f.Reused.same(n.info) {
			return fmt.Errorf("%s changed while aiobs was rendering; run it again", f.Path)
		}
		e.sum, e.link = f.Reused.sum, true
		s.record(e)
		return nil
	}
	e.sum = sha256.Sum256(f.Bytes)
	before, err := s.old.read(f.Path)
	if err != nil {
		return err
	}
	e.changed = before == nil || !bytes.Equal(before, f.Bytes)
	// A hard link keeps the mtime, but shares the mode with the old tree,
	// which must not change; a file with another mode is rewritten.
	e.link = !e.changed && s.old.nodes[f.Path].info.Mode() == 0o644
	switch {
	case s.apply && !e.link:
		if err := s.write(f.Path, f.Bytes); err != nil {
			return err
		}
	case s.opts.Diff && e.changed:
		s.mu.Lock()
		s.diffs[f.Path] = unified(oldName(s.old, f.Path), before, "b/"+f.Path, f.Bytes)
		s.mu.Unlock()
	}
	s.record(e)
	return nil
}

// admit checks f's path against the others and the limits.
func (s *Session) admit(f File) error {
	if err := validatePath(f.Path); err != nil {
		return fmt.Errorf("invalid path %q: %w", f.Path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[f.Path] {
		return fmt.Errorf("duplicate path %q", f.Path)
	}
	s.seen[f.Path] = true
	// Case-insensitive file systems (macOS, Windows checkouts) would merge these.
	lower := strings.ToLower(f.Path)
	if other, ok := s.folded[lower]; ok {
		return fmt.Errorf("paths %q and %q differ only in case", other, f.Path)
	}
	s.folded[lower] = f.Path
	s.bytes += f.size()
	if o := s.opts; o.MaxFiles > 0 && len(s.seen) > o.MaxFiles {
		return fmt.Errorf("too many output files: more than %d", o.MaxFiles)
	}
	if o := s.opts; o.MaxBytes > 0 && s.bytes > o.MaxBytes {
		return fmt.Errorf("output too large: more than %d bytes", o.MaxBytes)
	}
	return nil
}

func (s *Session) record(e entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, e)
}

// write stages a new file, creating the stage on first use.
func (s *Session) write(name string, data []byte) error {
	s.mu.Lock()
	if s.failure != nil {
		s.mu.Unlock()
		return s.failure
	}
	if err := s.openStage(); err != nil {
		s.mu.Unlock()
		return err
	}
	err := s.stager.mkdirAll(path.Dir(name))
	s.stager.written = append(s.stager.written, name)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := wrapStage(name, writeFile(s.stager.path(name), data, 0o644)); err != nil {
		return err
	}
	return s.count(1)
}

// count adds n staged files and fails once FailAfter is reached.
func (s *Session) count(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.staged
	s.staged += n
	if fa := s.opts.FailAfter; fa > 0 && s.failure == nil && before < fa && s.staged >= fa {
		s.failure = fmt.Errorf("simulated failure after staging %d files", fa)
	}
	return s.failure
}

// openStage creates the stage directory; the caller holds s.mu.
func (s *Session) openStage() error {
	if s.stager != nil {
		return nil
	}
	parent, err := os.OpenRoot(s.t.parent)
	if err != nil {
		return fmt.Errorf("open parent of output directory: %w", err)
	}
	stage, err := os.MkdirTemp(s.t.parent, s.t.prefix(stageInfix))
	if err != nil {
		parent.Close()
		return fmt.Errorf("create stage directory: %w", err)
	}
	s.parent, s.stage = parent, stage
	s.stager = &stager{parent: parent, from: s.t.base, to: filepath.Base(stage), dir: stage, old: s.old, made: map[string]bool{".": true}}
	return nil
}

// settle sorts the entries, checks the file set as a whole against itself
// and the current tree, and works out what to prune, carry and record.
func (s *Session) settle() (Result, []string, []byte, error) {
	slices.SortFunc(s.entries, func(a, b entry) int { return cmp.Compare(a.path, b.path) })
	paths := make([]string, len(s.entries))
	for i, e := range s.entries {
		paths[i] = e.path
	}
	if errs := dirClashes(paths, s.seen); len(errs) > 0 {
		return Result{}, nil, nil, errors.Join(errs...)
	}
	if err := s.old.conflicts(paths); err != nil {
		return Result{}, nil, nil, err
	}
	var res Result
	for _, e := range s.entries {
		if e.changed {
			res.Written = append(res.Written, e.path)
		} else {
			res.Unchanged = append(res.Unchanged, e.path)
		}
	}
	var carry []string
	for _, name := range slices.Sorted(maps.Keys(s.old.nodes)) {
		switch {
		case s.old.foreign(name):
			carry = append(carry, name)
		case s.old.owned[name] && s.old.isFile(name) && !s.seen[name]:
			res.Pruned = append(res.Pruned, name)
		}
	}
	manifest, err := encodeManifest(s.opts.Version, s.entries)
	if err != nil {
		return Result{}, nil, nil, err
	}
	return res, carry, manifest, nil
}

// Commit checks the whole file set, then, unless the current tree already is
// the new one, completes the stage and swaps it in. On error the output
// directory is as it was.
func (s *Session) Commit() (Result, error) {
	if !s.apply {
		return Result{}, errors.New("internal error: Commit on an inspecting session")
	}
	res, carry, manifest, err := s.settle()
	if err != nil {
		return Result{}, err
	}
	if s.old.exists() && s.stager == nil && len(res.Written) == 0 && len(res.Pruned) == 0 &&
		bytes.Equal(manifest, s.old.manifest) && s.allLinked() {
		s.saveStats(s.oldStat, func(entry) bool { return true })
		return res, nil
	}
	if err := s.openStage(); err != nil {
		return Result{}, err
	}
	for _, name := range carry {
		if err := s.stager.carry(name); err != nil {
			return Result{}, err
		}
	}
	for _, e := range s.entries {
		if !e.link {
			continue
		}
		if err := s.stager.carry(e.path); err != nil {
			return Result{}, err
		}
		if err := s.count(1); err != nil {
			return Result{}, err
		}
	}
	if s.opts.FailAfter > 0 {
		return Result{}, fmt.Errorf("simulated failure after staging all %d files", len(s.entries))
	}
	if err := writeFile(s.stager.path(ManifestName), manifest, 0o644); err != nil {
		return Result{}, wrapStage(ManifestName, err)
	}
	s.stager.written = append(s.stager.written, ManifestName)
	if err := s.stager.finish(s.stage); err != nil {
		return Result{}, err
	}
	// Some systems (Windows) cannot rename a directory that is open.
	hadOld := s.old.exists()
	s.stager.close()
	s.old.close()
	if err := s.t.swap(s.stage, hadOld); err != nil {
		return Result{}, err
	}
	s.done = true
	s.saveStats(func(name string) (os.FileInfo, bool) {
		info, err := os.Lstat(filepath.Join(s.t.dir, filepath.FromSlash(name)))
		return info, err == nil
	}, func(entry) bool { return true })
	return res, nil
}

func (s *Session) allLinked() bool {
	for _, e := range s.entries {
		if !e.changed && !e.link {
			return false
		}
	}
	return true
}

// oldStat is how the scan found name.
func (s *Session) oldStat(name string) (os.FileInfo, bool) {
	n, ok := s.old.nodes[name]
	return n.info, ok
}

// Changed is what Check reports: the paths, sorted, of files that are
// changed or missing, and of owned files that are no longer produced. It
// records the files found unchanged in the stat cache, as Apply would.
func (s *Session) Changed() ([]string, error) {
	res, _, _, err := s.settle()
	if err != nil {
		return nil, err
	}
	s.saveStats(s.oldStat, func(e entry) bool { return !e.changed })
	names := slices.Concat(res.Written, res.Pruned)
	slices.Sort(names)
	return names, nil
}

// Diff is what Diff returns: a unified diff of every change, sorted by path.
// The session must have been started with Options.Diff.
func (s *Session) Diff() ([]byte, error) {
	if !s.opts.Diff {
		return nil, errors.New("internal error: Diff on a session started without Options.Diff")
	}
	res, _, _, err := s.settle()
	if err != nil {
		return nil, err
	}
	for _, name := range res.Pruned {
		before, err := s.old.read(name)
		if err != nil {
			return nil, err
		}
		s.diffs[name] = unified("a/"+name, before, "/dev/null", nil)
	}
	// Written and Pruned never share a path.
	names := slices.Concat(res.Written, res.Pruned)
	slices.Sort(names)
	var out bytes.Buffer
	for _, name := range names {
		out.Write(s.diffs[name])
	}
	return out.Bytes(), nil
}

// oldName is how a diff names the current copy of name.
func oldName(old *tree, name string) string {
	if old.isFile(name) {
		return "a/" + name
	}
	return "/dev/null"
}

// saveStats records the stat cache. stat says how each file of the new
// tree looks now; only those for which keep is true are recorded. Files a
// commit linked from the old tree carry the old tree's stat as what they
// were verified as (see entryOf).
func (s *Session) saveStats(stat func(string) (os.FileInfo, bool), keep func(entry) bool) {
	if s.opts.CacheDir == "" {
		return
	}
	var paths []string
	byPath := make(map[string]entry, len(s.entries))
	for _, e := range s.entries {
		if keep(e) {
			paths = append(paths, e.path)
			byPath[e.path] = e
		}
	}
	saveStatCache(s.opts.CacheDir, s.t.dir, paths, stat,
		func(name string) [32]byte { return byPath[name].sum },
		func(name string) os.FileInfo {
			// Only a committed tree has files this session linked.
			if !s.done || !byPath[name].link {
				return nil
			}
			return s.old.nodes[name].info
		})
}
