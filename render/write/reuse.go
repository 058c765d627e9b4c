package write

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
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
// reports a broken manifest itself.
func Reusable(dir string, keys []string) (map[string][]File, error) {
	out := map[string][]File{}
	t, err := newTarget(dir)
	if err != nil {
		return nil, err
	}
	cur, err := t.current()
	if err != nil || cur == "" {
		return out, err
	}
	root, err := os.OpenRoot(cur)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := root.ReadFile(ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	} else if err != nil {
		return nil, err
	}
	var m manifest
	if json.Unmarshal(data, &m) != nil {
		return out, nil
	}
	wanted := make(map[string]bool, len(keys))
	for _, k := range keys {
		wanted[k] = true
	}
	var candidates []manifestFile
	for _, f := range m.Files {
		if f.Key != "" && wanted[f.Key] && validatePath(f.Path) == nil {
			candidates = append(candidates, f)
		}
	}
	found := make([]*Reused, len(candidates))
	parallel.For(len(candidates), func(i int) { found[i] = hashed(root, candidates[i]) })
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
	return out, nil
}

var hashBuffers = sync.Pool{New: func() any { return new([64 << 10]byte) }}

// hashed returns the file at f.Path when it is a plain 0644 file whose bytes
// hash to the recorded sum, or nil.
func hashed(root *os.Root, f manifestFile) *Reused {
	want, err := hex.DecodeString(f.SHA256)
	if err != nil || len(want) != sha256.Size {
		return nil
	}
	info, err := root.Lstat(f.Path)
	if err != nil || info.Mode() != 0o644 {
		return nil
	}
	file, err := root.Open(f.Path)
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
	d := &Reused{size: info.Size(), modTime: info.ModTime()}
	h.Sum(d.sum[:0])
	if string(d.sum[:]) != string(want) {
		return nil
	}
	// The bytes hashed must be the ones Lstat described.
	if after, err := file.Stat(); err != nil || !d.same(after) {
		return nil
	}
	return d
}
