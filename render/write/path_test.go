package write

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidatePath(t *testing.T) {
	tests := []struct {
		name string
		path string
		want string // "" when the path is accepted
	}{
		{"a plain file name is accepted", "a.json", ""},
		{"a nested path is accepted", "dashboards/team/chat.json", ""},
		{"a dot file is accepted", ".gitattributes", ""},
		{"a manifest name below the root is accepted", "sub/.aiobs-manifest.json", ""},
		{"dots inside a name are accepted", "a..b/...", ""},
		{"unicode look-alikes of dots and slashes are plain names", "\uff0e\uff0e\u2215etc\u2044passwd", ""},
		{"an empty path is refused", "", "empty"},
		{"an absolute path is refused", "/abs", "absolute; want a path relative to the output directory"},
		{"a parent element is refused", "..", "contains a .. element"},
		{"a leading parent element is refused", "../x", "contains a .. element"},
		{"a parent element in the middle is refused", "a/../b", "contains a .. element"},
		{"a doubled slash is refused", "a//b", `not clean; want "a/b"`},
		{"a dot element is refused", "./a", `not clean; want "a"`},
		{"a trailing slash is refused", "a/", `not clean; want "a"`},
		{"the directory itself is refused", ".", "names the output directory itself"},
		{"a backslash is refused", `a\b`, "contains a backslash; use /"},
		{"a backslash parent element is refused", `..\x`, "contains a backslash; use /"},
		{"a NUL byte is refused", "a\x00b", "contains a NUL byte"},
		{"a newline is refused", "a\nb", "contains a control character"},
		{"invalid UTF-8 is refused", "a\xffb", "not valid UTF-8"},
		{"the manifest is refused", ManifestName, "reserved for the manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, errString(validatePath(tt.path))); diff != "" {
				t.Errorf("validatePath(%q) (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

// FuzzValidatePath checks that an accepted path, joined to a directory, names
// something strictly inside it, and that the manifest records it unchanged.
func FuzzValidatePath(f *testing.F) {
	for _, seed := range []string{
		"a.json", "a/b/c", "..", "../x", "a/..", "a/../b", "/abs", "//x", "a//b", "./a", "a/./b", "a/",
		`a\b`, `..\..\x`, `C:\x`, "C:x", "a\x00b", "\x00", "a\xffb", "\uff0e\uff0e/x", "\u2215etc",
		"\u2024\u2024/x", ".", "...", ".aiobs-manifest.json", "NUL", "con.txt",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, p string) {
		if validatePath(p) != nil {
			return
		}
		joined := filepath.Join(dir, filepath.FromSlash(p))
		if !strings.HasPrefix(joined, dir+string(filepath.Separator)) {
			t.Errorf("accepted %q, which joins to %q outside %q", p, joined, dir)
		}
		if rel, err := filepath.Rel(dir, joined); err != nil || rel != filepath.FromSlash(p) {
			t.Errorf("accepted %q, which is %q relative to the directory (%v)", p, rel, err)
		}
		data, err := json.Marshal(manifestFile{Path: p})
		if err != nil {
			t.Fatal(err)
		}
		var back manifestFile
		if err := json.Unmarshal(data, &back); err != nil || back.Path != p {
			t.Errorf("accepted %q, which the manifest reads back as %q (%v)", p, back.Path, err)
		}
	})
}
