package write

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// syncFiles makes the staged files durable with one syncfs(2) of the file
// system holding the stage, instead of an fsync per file: a render of a
// large organisation writes tens of thousands of files, and one fsync each
// cost more than the rendering. syncfs also flushes other dirty data on
// that file system, which only makes it slower when the disk is busy.
func syncFiles(stage string, written []string) error {
	if len(written) == 0 {
		return nil
	}
	f, err := os.Open(stage)
	if err != nil {
		return fmt.Errorf("sync %s: %w", stage, err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", stage, err)
	}
	return nil
}
