//go:build !linux

package write

import (
	"fmt"
	"os"
	"path/filepath"
)

// syncFiles fsyncs every staged file; only Linux has syncfs(2).
func syncFiles(stage string, written []string) error {
	for _, name := range written {
		f, err := os.Open(filepath.Join(stage, filepath.FromSlash(name)))
		if err != nil {
			return fmt.Errorf("sync %s: %w", name, err)
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sync %s: %w", name, err)
		}
	}
	return nil
}
