// Package write puts rendered artifacts on disk. Apply makes an output directory
// hold exactly a given set of files, plus whatever the user keeps there that aiobs
// does not own; Check and Diff say what Apply would change without writing
// anything. The package knows nothing about what the files contain: render
// produces them and the CLI chooses the directory.
//
// # Ownership
//
// A manifest, .aiobs-manifest.json at the root of the output directory, lists every
// file aiobs wrote, with its SHA-256 and the key of what it was rendered from, and
// the aiobs version (the only place the version is recorded). Only files the previous manifest lists are ever replaced or
// pruned. Every other entry is foreign and is kept as it is, and a file set that
// would overwrite a foreign entry is refused. The manifest is bookkeeping: Check
// and Diff compare the artifacts only.
//
// # Reuse
//
// Reusable returns the files recorded under given keys that are still on disk as
// recorded (hashed again, not trusted), without their bytes; Apply links them into
// the new tree, and Check and Diff count them unchanged. Apply refuses to link one
// whose size, mode or modification time changed since Reusable hashed it.
//
// # Crash semantics
//
// Apply never edits the output directory in place. Holding an exclusive lock
// (.<base>.aiobs.lock next to the directory), it builds the complete new tree in a
// sibling stage directory (.<base>.aiobs-stage-*), hard-linking foreign and
// unchanged files in from the current tree and writing the rest, and fsyncs it.
// It then swaps it in with two renames, the output directory to .<base>.aiobs-old-*
// and the stage to the output directory's name; that second rename, made durable
// by an fsync of the parent, is the commit point. A failure or kill before it
// leaves the previous output complete and unchanged (for a moment it may sit under
// the old-* name); after it the new output is complete. The next Apply first rolls
// an interrupted swap back (renaming old-* back when the output directory is
// missing) and deletes leftover stage and old trees; Check and Diff read the old-*
// tree in that case and touch nothing.
//
// # Symlinks and limits
//
// Symlinks inside the output directory are never followed: a symlink at an owned
// path is replaced, a foreign one is kept as a link, and scanning does not descend
// into symlinked directories. The output directory itself must not be a symlink or
// a mount point, and its parent must be writable, since the swap renames it. Each
// Apply that changes something leaves a new directory inode behind the same name,
// so a shell or file watcher sitting inside it must reopen it. Locking uses
// flock(2); on platforms without it there is no lock.
package write

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/rogpeppe/go-internal/diff"
)

// ManifestName is the manifest's path relative to the output directory.
const ManifestName = ".aiobs-manifest.json"

// File is one output file: a slash-separated path relative to the output
// directory, and its bytes.
type File struct {
	Path  string
	Bytes []byte
	// Key, when set, names what the file was rendered from; the manifest
	// records it so that a later render can ask Reusable for the file
	// instead of rendering it again.
	Key string
	// Reused is set, and Bytes nil, on a file Reusable found unchanged.
	Reused *Reused
}

// size is the file's length in bytes.
func (f File) size() int64 {
	if f.Reused != nil {
		return f.Reused.size
	}
	return int64(len(f.Bytes))
}

// Options tunes Apply.
type Options struct {
	// Version is recorded in the manifest only (never inside artifacts).
	Version string
	// FailAfter, when > 0, makes Apply fail with an error once it has staged that
	// many files, or just before the swap when there are fewer, so tests can
	// simulate a crash mid-write. An Apply with nothing to change stages nothing
	// and does not fail.
	FailAfter int
	// MaxFiles and MaxBytes make Apply refuse, writing nothing, a file set with
	// more files or more bytes in all; 0 means no limit.
	MaxFiles int
	MaxBytes int64
	// CacheDir, when set, is where Apply records what the files it leaves look
	// like (see statCache), so that Reusable, given the same directory, can
	// skip hashing files nobody touched since.
	CacheDir string
}

// Result says what Apply did; each list is sorted.
type Result struct {
	// Written are the files created or given new bytes.
	Written []string
	// Unchanged are the files that already held the wanted bytes.
	Unchanged []string
	// Pruned are the files the previous manifest listed that are no longer produced.
	Pruned []string
}

// Apply makes dir hold exactly files plus any entries aiobs does not own, and
// records the files in the manifest. It creates dir (and its parent) when missing.
// On error the previous output is left complete and unchanged.
func Apply(dir string, files []File, opts Options) (Result, error) {
	if err := opts.checkLimits(files); err != nil {
		return Result{}, err
	}
	files, err := validateFiles(files)
	if err != nil {
		return Result{}, err
	}
	t, err := newTarget(dir)
	if err != nil {
		return Result{}, err
	}
	if err := t.prepareParent(); err != nil {
		return Result{}, err
	}
	unlock, err := lock(t.lockPath(), t.dir)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	if err := t.recover(); err != nil {
		return Result{}, err
	}
	cur, err := t.current()
	if err != nil {
		return Result{}, err
	}
	old, err := scan(cur)
	if err != nil {
		return Result{}, err
	}
	defer old.close()
	p, err := makePlan(old, files, opts.Version)
	if err != nil {
		return Result{}, err
	}
	if old.exists() && p.noop(old) {
		p.saveStats(opts.CacheDir, t.dir, files, func(name string) (fs.FileInfo, bool) {
			n, ok := old.nodes[name]
			return n.info, ok
		})
		return p.Result, nil
	}
	if err := t.commit(old, p, files, opts.FailAfter); err != nil {
		return Result{}, err
	}
	p.saveStats(opts.CacheDir, t.dir, files, func(name string) (fs.FileInfo, bool) {
		info, err := os.Lstat(filepath.Join(t.dir, filepath.FromSlash(name)))
		return info, err == nil
	})
	return p.Result, nil
}

// saveStats records the files of the output in the stat cache.
func (p plan) saveStats(cacheDir, dir string, files []File, stat func(string) (fs.FileInfo, bool)) {
	if cacheDir == "" {
		return
	}
	paths := make([]string, len(files))
	sumOf := make(map[string][32]byte, len(files))
	for i, f := range files {
		paths[i] = f.Path
		sumOf[f.Path] = p.sums[i]
	}
	saveStatCache(cacheDir, dir, paths, stat, func(name string) [32]byte { return sumOf[name] })
}

// Check reports, sorted, the paths where dir differs from files: files that are
// changed or missing, and owned files that are no longer produced (Apply would
// prune them). It returns the errors Apply would (bad paths, foreign files in the
// way) and writes nothing.
func Check(dir string, files []File) ([]string, error) {
	p, old, err := preview(dir, files)
	if err != nil {
		return nil, err
	}
	defer old.close()
	return p.changed(), nil
}

// Diff returns a unified diff, a/ and b/ style and sorted by path, of what Apply
// would change in dir; it is empty when nothing would. It writes nothing.
func Diff(dir string, files []File) ([]byte, error) {
	p, old, err := preview(dir, files)
	if err != nil {
		return nil, err
	}
	defer old.close()
	want := make(map[string][]byte, len(files))
	for _, f := range files {
		want[f.Path] = f.Bytes
	}
	var out bytes.Buffer
	for _, name := range p.changed() {
		oldName, newName := "/dev/null", "/dev/null"
		var before, after []byte
		if old.isFile(name) {
			oldName = "a/" + name
			if before, err = old.read(name); err != nil {
				return nil, err
			}
		}
		if b, ok := want[name]; ok {
			newName, after = "b/"+name, b
		}
		out.Write(unified(oldName, before, newName, after))
	}
	return out.Bytes(), nil
}

// preview plans an Apply without taking the lock or recovering anything, so
// Check and Diff stay read-only.
func preview(dir string, files []File) (plan, *tree, error) {
	files, err := validateFiles(files)
	if err != nil {
		return plan{}, nil, err
	}
	t, err := newTarget(dir)
	if err != nil {
		return plan{}, nil, err
	}
	cur, err := t.current()
	if err != nil {
		return plan{}, nil, err
	}
	old, err := scan(cur)
	if err != nil {
		return plan{}, nil, err
	}
	p, err := makePlan(old, files, "")
	if err != nil {
		old.close()
		return plan{}, nil, err
	}
	return p, old, nil
}

// unified diffs one file. The diff package prints nothing for equal bytes, which
// happens when an empty file appears or disappears, so the header stands alone then.
func unified(oldName string, before []byte, newName string, after []byte) []byte {
	if d := diff.Diff(oldName, before, newName, after); d != nil {
		return d
	}
	return fmt.Appendf(nil, "diff %s %s\n--- %s\n+++ %s\n", oldName, newName, oldName, newName)
}

func (o Options) checkLimits(files []File) error {
	if o.MaxFiles > 0 && len(files) > o.MaxFiles {
		return fmt.Errorf("too many output files: %d, limit %d", len(files), o.MaxFiles)
	}
	if o.MaxBytes <= 0 {
		return nil
	}
	var n int64
	for _, f := range files {
		n += f.size()
	}
	if n > o.MaxBytes {
		return fmt.Errorf("output too large: %d bytes, limit %d", n, o.MaxBytes)
	}
	return nil
}

// changed lists the paths Check reports: Written and Pruned never share a path.
func (p plan) changed() []string {
	names := slices.Concat(p.Written, p.Pruned)
	slices.Sort(names)
	return names
}
