//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package write

import "path"

// lock does nothing where flock(2) is missing: concurrent renders into one
// directory are not detected there.
func lock(path, dir string) (unlock func(), err error) {
	return func() {}, nil
}

// syncDir does nothing: Windows cannot fsync a directory, and the other
// platforms that land here are not ones aiobs is tested on.
func syncDir(dir string) error { return nil }

// link hard-links the old tree's entry at name into the stage, through the
// parent's root, which never follows a symlink to leave it.
func (s *stager) link(name string) error {
	return s.parent.Link(path.Join(s.from, name), path.Join(s.to, name))
}

func (s *stager) close() {}
