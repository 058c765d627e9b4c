// Package write puts rendered artifacts on disk. Apply makes an output directory
// hold exactly a given set of files, plus whatever the user keeps there that aiobs
// does not own; Check and Diff say what Apply would change without writing
// anything. A Session does each of them file by file (Begin or Inspect, Put from
// any goroutine, then Commit, Changed or Diff), so that a caller never holds the
// whole output; Apply, Check and Diff are sessions given a slice. The package
// knows nothing about what the files contain: render produces them and the CLI
// chooses the directory.
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
// sibling stage directory (.<base>.aiobs-stage-*), writing each changed file as it
// is Put and, at Commit, hard-linking foreign and unchanged files in from the
// current tree; then it makes the stage durable.
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
	"crypto/sha256"
	"fmt"

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

// Sum is the SHA-256 of the file's bytes.
func (f File) Sum() [32]byte {
	if f.Reused != nil {
		return f.Reused.sum
	}
	return sha256.Sum256(f.Bytes)
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
	// Diff makes an inspecting session keep a unified diff of each changed
	// file as it is Put, for Session.Diff; Check has no use for them.
	Diff bool
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
	s, err := Begin(dir, opts)
	if err != nil {
		return Result{}, err
	}
	defer s.Close()
	if err := s.PutAll(files); err != nil {
		return Result{}, err
	}
	return s.Commit()
}

// Check reports, sorted, the paths where dir differs from files: files that are
// changed or missing, and owned files that are no longer produced (Apply would
// prune them). It returns the errors Apply would (bad paths, foreign files in the
// way) and writes nothing.
func Check(dir string, files []File) ([]string, error) {
	s, err := inspectWith(dir, files, Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Changed()
}

// Diff returns a unified diff, a/ and b/ style and sorted by path, of what Apply
// would change in dir; it is empty when nothing would. It writes nothing.
func Diff(dir string, files []File) ([]byte, error) {
	s, err := inspectWith(dir, files, Options{Diff: true})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Diff()
}

// inspectWith is an inspecting session that has been given files.
func inspectWith(dir string, files []File, opts Options) (*Session, error) {
	files, err := validateFiles(files)
	if err != nil {
		return nil, err
	}
	s, err := Inspect(dir, opts)
	if err != nil {
		return nil, err
	}
	if err := s.PutAll(files); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// PutAll puts each of files.
func (s *Session) PutAll(files []File) error {
	for _, f := range files {
		if err := s.Put(f); err != nil {
			return err
		}
	}
	return nil
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
