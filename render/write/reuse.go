package write

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/aiobs/aiobs/internal/parallel"
)

// Reused describes a file Reusable found in the current tree as the manifest
// records it, so Apply can link it without its bytes.
type Reused struct {
	sum     [32]byte
	size    int64
	modTime time.Time
}

// same reports whether info still describes the file that was hashed.
func (d *Reused) same(info fs.FileInfo) bool {
	return info.Mode() == 0o644 && info.Size() == d.size && info.ModTime().Equal(d.modTime)
}

// Reusable returns, by key, the files the manifest of dir records under each
// of keys, for the keys whose files are all still there exactly as recorded: a
// plain file with mode 0644 and the recorded SHA-256. The files have no bytes;
// Apply, Check and Diff treat them as unchanged and Apply links them into the
// new tree. Reusable reads (hashes) those files and writes nothing. No output
// or no manifest yet, or a manifest it cannot read, reuses nothing: Apply
// reports a broken manifest itself. With the cacheDir an Apply recorded stats
// in, a file whose stats are as recorded is not read again.
func Reusable(dir string, keys []string, cacheDir string) (map[string][]File, error) {
	s, err := Inspect(dir, Options{CacheDir: cacheDir})
	if err != nil {
		return map[string][]File{}, nil
	}
	defer s.Close()
	return s.Reusable(keys)
}

// reusable is Reusable on a scanned tree with its stat cache entries.
func reusable(old *tree, keys []string, stats map[string]statEntry) map[string][]File {
	out := map[string][]File{}
	wanted := make(map[string]bool, len(keys))
	for _, k := range keys {
		wanted[k] = true
	}
	var candidates []manifestFile
	for _, f := range old.listed {
		if f.Key != "" && wanted[f.Key] {
			candidates = append(candidates, f)
		}
	}
	found := make([]*Reused, len(candidates))
	parallel.For(len(candidates), func(i int) { found[i] = old.unchanged(candidates[i], stats) })
	broken := map[string]bool{}
	for i, f := range candidates {
		if found[i] == nil {
			broken[f.Key] = true
		}
	}
	for i, f := range candidates {
		if !broken[f.Key] {
			out[f.Key] = append(out[f.Key], File{Path: f.Path, Key: f.Key, Reused: found[i]})
		}
	}
	return out
}

var hashBuffers = sync.Pool{New: func() any { return new([64 << 10]byte) }}

// unchanged returns the file the manifest entry f describes when it is a
// plain 0644 file whose bytes hash to the recorded sum, or nil. A file the
// stat cache vouches for is not read.
func (t *tree) unchanged(f manifestFile, stats map[string]statEntry) *Reused {
	want, err := hex.DecodeString(f.SHA256)
	n, ok := t.nodes[f.Path]
	if err != nil || len(want) != sha256.Size || !ok || n.info.Mode() != 0o644 {
		return nil
	}
	info := n.info
	d := &Reused{size: info.Size(), modTime: info.ModTime()}
	if e, ok := stats[f.Path]; ok && e.matches(info, f.SHA256) {
		copy(d.sum[:], want)
		return d
	}
	file, err := t.root.Open(f.Path)
	if err != nil {
		return nil
	}
	defer file.Close()
	h := sha256.New()
	buf := hashBuffers.Get().(*[64 << 10]byte)
	defer hashBuffers.Put(buf)
	// Hiding the file's WriteTo makes the copy use buf.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{file}, buf[:]); err != nil {
		return nil
	}
	h.Sum(d.sum[:0])
	if string(d.sum[:]) != string(want) {
		return nil
	}
	// The bytes hashed must be the ones the scan described.
	if after, err := file.Stat(); err != nil || !d.same(after) {
		return nil
	}
	return d
}
