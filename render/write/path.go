package write

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// validateFiles checks every path and the set as a whole, reporting every problem,
// and returns the files sorted by path.
func validateFiles(files []File) ([]File, error) {
	files = slices.Clone(files)
	slices.SortStableFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	var errs []error
	seen := make(map[string]bool, len(files))
	folded := make(map[string]string, len(files))
	for _, f := range files {
		if err := validatePath(f.Path); err != nil {
			errs = append(errs, fmt.Errorf("invalid path %q: %w", f.Path, err))
			continue
		}
		if seen[f.Path] {
			errs = append(errs, fmt.Errorf("duplicate path %q", f.Path))
			continue
		}
		seen[f.Path] = true
		// Case-insensitive file systems (macOS, Windows checkouts) would merge these.
		lower := strings.ToLower(f.Path)
		if other, ok := folded[lower]; ok {
			errs = append(errs, fmt.Errorf("paths %q and %q differ only in case", other, f.Path))
			continue
		}
		folded[lower] = f.Path
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	errs = append(errs, dirClashes(paths, seen)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return files, nil
}

// dirClashes reports every path of paths that is also the directory of
// another; seen holds the valid paths, and only those are looked at.
func dirClashes(paths []string, seen map[string]bool) []error {
	var errs []error
	for _, p := range paths {
		if !seen[p] {
			continue // invalid, and path.Dir of an absolute path never reaches "."
		}
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if seen[dir] {
				errs = append(errs, fmt.Errorf("path %q is a file and also the directory of %q", dir, p))
			}
		}
	}
	return errs
}

// validatePath accepts only paths that name a file strictly inside the output
// directory, spelled one way only, and that survive the manifest's JSON intact.
func validatePath(p string) error {
	switch {
	case p == "":
		return errors.New("empty")
	case !utf8.ValidString(p):
		// JSON would replace the bad bytes, so the manifest would name another file.
		return errors.New("not valid UTF-8")
	case strings.ContainsRune(p, 0):
		return errors.New("contains a NUL byte")
	case strings.ContainsFunc(p, isControl):
		return errors.New("contains a control character")
	case strings.Contains(p, `\`):
		return errors.New("contains a backslash; use /")
	case strings.HasPrefix(p, "/"):
		return errors.New("absolute; want a path relative to the output directory")
	case slices.Contains(strings.Split(p, "/"), ".."):
		return errors.New("contains a .. element")
	case p == ".":
		return errors.New("names the output directory itself")
	case path.Clean(p) != p:
		return fmt.Errorf("not clean; want %q", path.Clean(p))
	case p == ManifestName:
		return errors.New("reserved for the manifest")
	case !filepath.IsLocal(filepath.FromSlash(p)):
		// On Windows this catches volume names and reserved names such as NUL.
		return errors.New("not a local path on this system")
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
