package write

import (
	"bytes"
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

// encodeManifest returns the manifest for the entries, which must be sorted by
// path: the same files and version always give the same bytes.
func encodeManifest(version string, entries []entry) ([]byte, error) {
	m := manifest{Version: version, Files: make([]manifestFile, 0, len(entries))}
	for _, e := range entries {
		m.Files = append(m.Files, manifestFile{Path: e.path, SHA256: hex.EncodeToString(e.sum[:]), Key: e.key})
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
