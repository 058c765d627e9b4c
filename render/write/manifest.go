package write

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/aiobs/aiobs/internal/parallel"
)

// manifest is the JSON form of .aiobs-manifest.json.
type manifest struct {
	Version string         `json:"version"`
	Files   []manifestFile `json:"files"`
}

type manifestFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Key    string `json:"key,omitempty"`
}

// sums returns the SHA-256 of each file, hashing in parallel.
func sums(files []File) [][32]byte {
	out := make([][32]byte, len(files))
	parallel.For(len(files), func(i int) {
		if r := files[i].Reused; r != nil {
			out[i] = r.sum
		} else {
			out[i] = sha256.Sum256(files[i].Bytes)
		}
	})
	return out
}

// encodeManifest returns the manifest for files, which must be sorted by path,
// and their sums: the same files and version always give the same bytes.
func encodeManifest(version string, files []File, sums [][32]byte) ([]byte, error) {
	m := manifest{Version: version, Files: make([]manifestFile, 0, len(files))}
	for i, f := range files {
		m.Files = append(m.Files, manifestFile{Path: f.Path, SHA256: hex.EncodeToString(sums[i][:]), Key: f.Key})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}
