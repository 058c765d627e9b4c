//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package write

import (
	"errors"
	"fmt"
	"os"
	"path"
	"syscall"

	"golang.org/x/sys/unix"
)

// lock takes an exclusive, non-blocking flock on path, which guards dir, and
// returns the function that releases it. The kernel drops the lock when the
// process dies, so a killed render never leaves the directory locked.
func lock(path, dir string) (unlock func(), err error) {
	// Unlock removes the file. A second render that opened it just before then
	// locks a removed file, so it checks that it locked the file now at path and
	// otherwise tries again.
	for range 3 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock output directory: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("another aiobs render is writing %s (lock %s)", dir, path)
			}
			return nil, fmt.Errorf("lock output directory: %w", err)
		}
		if sameFile(f, path) {
			return func() {
				// Removing first means nobody can lock this file once we let go.
				// A lock file left behind by a failed removal does no harm.
				os.Remove(path)
				f.Close()
			}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("another aiobs render is writing %s (lock %s)", dir, path)
}

func sameFile(f *os.File, path string) bool {
	held, err := f.Stat()
	if err != nil {
		return false
	}
	now, err := os.Stat(path)
	return err == nil && os.SameFile(held, now)
}

// syncDir makes the entries of dir durable, which fsync of the files inside does not.
func syncDir(dir string) error { return fsync(dir) }

// link hard-links the old tree's entry at name into the stage, never
// following a symlink there. The old entry's directory is opened through the
// old tree's root once, and linkat(2) works relative to it: os.Root.Link
// resolves both paths component by component on every call, which made
// linking most of a commit's cost for a tree of thousands of files.
func (s *stager) link(name string) error {
	dir := path.Dir(name)
	d, ok := s.oldDirs[dir]
	if !ok {
		var err error
		if d, err = s.old.root.Open(dir); err != nil {
			return err
		}
		if s.oldDirs == nil {
			s.oldDirs = map[string]*os.File{}
		}
		s.oldDirs[dir] = d
	}
	err := ignoringEINTR(func() error { return unix.Linkat(int(d.Fd()), path.Base(name), unix.AT_FDCWD, s.path(name), 0) })
	if err != nil {
		return &os.LinkError{Op: "link", Old: name, New: s.path(name), Err: err}
	}
	return nil
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

// close releases the directories link opened.
func (s *stager) close() {
	for _, d := range s.oldDirs {
		d.Close()
	}
	s.oldDirs = nil
}
