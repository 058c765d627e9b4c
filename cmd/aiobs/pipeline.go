package main

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render"
)

// compileAndRender runs the two pure stages every command starts with.
func compileAndRender(ctx context.Context, decisions string) (*plan.Plan, []render.Artifact, error) {
	p, err := compileDecisions(ctx, decisions, 0)
	if err != nil {
		return nil, nil, err
	}
	files, err := render.Render(p)
	if err != nil {
		return nil, nil, err
	}
	return p, files, nil
}

// compileDecisions refuses, before rendering anything, decisions that
// produce more than maxTargets targets (0: the compiler's default).
func compileDecisions(ctx context.Context, decisions string, maxTargets int) (*plan.Plan, error) {
	cwd, _ := os.Getwd()
	return compile.Compile(ctx, decisions, compile.Options{Cwd: cwd, MaxTargets: maxTargets})
}

// renderSalt identifies this binary's renderer in the keys the manifest
// records: the module version when it names the code exactly (a release,
// or a pseudo-version of a clean checkout), so that every machine running
// that version records the same keys; otherwise the executable's Go build
// ID, a hash of every input of the build, or failing that the SHA-256 of
// the executable, so that a rebuilt development binary never reuses what
// another build rendered. "" (no reuse) when none can be had.
func renderSalt() string {
	v := moduleVersion()
	info, ok := debug.ReadBuildInfo()
	exact := ok && v != "(devel)" && !strings.HasSuffix(v, "+dirty")
	if ok {
		for _, kv := range info.Settings {
			if kv.Key == "vcs.modified" && kv.Value == "true" {
				exact = false
			}
		}
	}
	if exact {
		return "aiobs " + v
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if id, ok := goBuildID(exe); ok {
		return "aiobs build " + id
	}
	f, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return "aiobs executable " + hex.EncodeToString(h.Sum(nil))
}

// cacheDir is where render keeps what it knows about output trees between
// runs: $AIOBS_CACHE, or aiobs under the user's cache directory; "" when
// AIOBS_CACHE is "off" or there is no cache directory.
func cacheDir() string {
	if dir := os.Getenv("AIOBS_CACHE"); dir != "" {
		if dir == "off" {
			return ""
		}
		return dir
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "aiobs")
}

// goBuildID reads the build ID the Go linker leaves in an ELF executable's
// .note.go.buildid section: a note named "Go" whose description is the ID.
func goBuildID(exe string) (string, bool) {
	f, err := elf.Open(exe)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sec := f.Section(".note.go.buildid")
	if sec == nil {
		return "", false
	}
	note, err := sec.Data()
	if err != nil || len(note) < 16 {
		return "", false
	}
	nameSize, descSize := f.ByteOrder.Uint32(note[0:]), f.ByteOrder.Uint32(note[4:])
	if nameSize != 4 || string(note[12:16]) != "Go\x00\x00" || uint64(len(note)) < 16+uint64(descSize) || descSize == 0 {
		return "", false
	}
	return string(note[16 : 16+descSize]), true
}
