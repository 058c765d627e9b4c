package write

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// A stat cache remembers, outside the output directory, the SHA-256 of each
// file Apply left there together with what lstat(2) said about it: size,
// modification and change times, inode. Reusable trusts a file that lstat
// still describes the same way instead of reading and hashing it again, as
// git's index does for a work tree. Any edit changes the change time, which no
// tool can set back; an edit within the file system's timestamp granularity
// of Apply's own write could hide, so, like git, Apply does not record a file
// changed in the last racyWindow: Reusable hashes it, and the next Apply
// records it. The cache only saves work: a missing, stale or unreadable one
// makes Reusable hash, never trust more.
type statCache struct {
	// Dir is the output directory the entries describe.
	Dir   string               `json:"dir"`
	Files map[string]statEntry `json:"files"`
}

type statEntry struct {
	Size   int64  `json:"size"`
	MTime  int64  `json:"mtime"`
	CTime  int64  `json:"ctime"`
	Inode  uint64 `json:"inode"`
	SHA256 string `json:"sha256"`
}

// racyWindow is a variable for tests.
var racyWindow = 2 * time.Second

// statCachePath is the cache file of the output directory dir (absolute).
func statCachePath(cacheDir, dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(cacheDir, "stat-"+hex.EncodeToString(sum[:16])+".json")
}

// loadStatCache returns the entries recorded for dir, or none.
func loadStatCache(cacheDir, dir string) map[string]statEntry {
	if cacheDir == "" {
		return nil
	}
	data, err := os.ReadFile(statCachePath(cacheDir, dir))
	if err != nil {
		return nil
	}
	var c statCache
	if json.Unmarshal(data, &c) != nil || c.Dir != dir {
		return nil
	}
	return c.Files
}

// entryOf describes info and sum as the cache records them; ok is false
// where the platform gives no inode and change time, or the file changed
// too recently to be trusted by its stat alone. linked, when not nil, is
// how the file looked when it was verified before Apply hard-linked it into
// the new tree: linking changes a file's change time and nothing else, so
// a file whose inode, size and modification time are still those of
// linked is trusted despite its fresh change time.
func entryOf(info fs.FileInfo, sum [32]byte, now time.Time, linked fs.FileInfo) (statEntry, bool) {
	inode, ctime, ok := fileID(info)
	if !ok || now.Sub(info.ModTime()) < racyWindow {
		return statEntry{}, false
	}
	if now.Sub(ctime) < racyWindow {
		if linked == nil {
			return statEntry{}, false
		}
		before, _, ok := fileID(linked)
		if !ok || before != inode || linked.Size() != info.Size() || !linked.ModTime().Equal(info.ModTime()) {
			return statEntry{}, false
		}
	}
	return statEntry{Size: info.Size(), MTime: info.ModTime().UnixNano(), CTime: ctime.UnixNano(),
		Inode: inode, SHA256: hex.EncodeToString(sum[:])}, true
}

// matches reports whether info still describes the file hashed to sha256.
func (e statEntry) matches(info fs.FileInfo, sha256 string) bool {
	inode, ctime, ok := fileID(info)
	return ok && e.SHA256 == sha256 && e.Size == info.Size() && e.MTime == info.ModTime().UnixNano() &&
		e.CTime == ctime.UnixNano() && e.Inode == inode
}

// saveStatCache records files of dir, best effort: a cache that cannot be
// written costs the next render time, not correctness. stat returns a
// file's lstat information, sum its SHA-256, linked what entryOf needs.
func saveStatCache(cacheDir, dir string, paths []string, stat func(string) (fs.FileInfo, bool), sum func(string) [32]byte, linked func(string) fs.FileInfo) {
	if cacheDir == "" {
		return
	}
	now := time.Now()
	c := statCache{Dir: dir, Files: make(map[string]statEntry, len(paths))}
	for _, p := range paths {
		if info, ok := stat(p); ok {
			if e, ok := entryOf(info, sum(p), now, linked(p)); ok {
				c.Files[p] = e
			}
		}
	}
	data, err := json.Marshal(c)
	if err != nil || os.MkdirAll(cacheDir, 0o755) != nil {
		return
	}
	path := statCachePath(cacheDir, dir)
	tmp, err := os.CreateTemp(cacheDir, ".stat-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}
