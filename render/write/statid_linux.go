package write

import (
	"io/fs"
	"syscall"
	"time"
)

// fileID returns the inode and change time lstat reported in info.
func fileID(info fs.FileInfo) (inode uint64, ctime time.Time, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, time.Time{}, false
	}
	return st.Ino, time.Unix(st.Ctim.Sec, st.Ctim.Nsec), true
}
