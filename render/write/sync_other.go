//go:build !linux

package write

import (
	"path/filepath"
)

// syncFiles fsyncs every staged file; only Linux has syncfs(2).
func syncFiles(stage string, written []string) error {
	for _, name := range written {
		if err := fsync(filepath.Join(stage, filepath.FromSlash(name))); err != nil {
			return err
		}
	}
	return nil
}
