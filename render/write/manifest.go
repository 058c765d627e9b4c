package write

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// encodeManifest returns the manifest for files, which must be sorted by path:
// the same files and version always give the same bytes.
func encodeManifest(version string, files []File) ([]byte, error) {
	m := manifest{Version: version, Files: make([]manifestFile, 0, len(files))}
	for _, f := range files {
		var sum [32]byte
		if f.Reused != nil {
			sum = f.Reused.sum
		} else {
			sum = sha256.Sum256(f.Bytes)
		}
		m.Files = append(m.Files, manifestFile{Path: f.Path, SHA256: hex.EncodeToString(sum[:]), Key: f.Key})
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
