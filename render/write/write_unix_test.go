//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package write

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestApplyWhileLocked(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	mustApply(t, out, files("a.json", "a\n"))
	lockFile := filepath.Join(filepath.Dir(out), ".out.aiobs.lock")
	if _, err := os.Stat(lockFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file after Apply: %v, want it removed", err)
	}

	unlock, err := lock(lockFile, out)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Apply(out, files("a.json", "b\n"), Options{})
	want := "another aiobs render is writing " + out + " (lock " + lockFile + ")"
	if diff := cmp.Diff(want, errString(err)); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	// Reading does not need the lock.
	if changed, err := Check(out, files("a.json", "b\n")); err != nil || len(changed) != 1 {
		t.Errorf("Check while locked = %v, %v; want [a.json]", changed, err)
	}
	unlock()

	res := mustApply(t, out, files("a.json", "b\n"))
	if diff := cmp.Diff(Result{Written: []string{"a.json"}}, res); diff != "" {
		t.Errorf("Apply after unlock (-want +got):\n%s", diff)
	}
}

func TestApplyModesIgnoreUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	out := filepath.Join(t.TempDir(), "out")
	mustApply(t, out, files("a/b.json", "b\n"))
	for name, want := range map[string]fs.FileMode{".": fs.ModeDir | 0o755, "a": fs.ModeDir | 0o755, "a/b.json": 0o644} {
		info, err := os.Lstat(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, info.Mode(), want)
		}
	}
}

const (
	helperDir = "AIOBS_WRITE_HELPER_DIR"
	helperGen = "AIOBS_WRITE_HELPER_GEN"
)

// killFiles is the size of the file sets the kill test renders: large enough
// that a render takes a while, small enough for a quick test.
const killFiles = 200

// TestHelperProcess is the child of TestApplySurvivesSIGKILL: a render to be
// killed. It does nothing when run as an ordinary test.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDir)
	if dir == "" {
		return
	}
	gen, err := strconv.Atoi(os.Getenv(helperGen))
	if err == nil {
		_, err = Apply(dir, generation(gen, killFiles), Options{Version: "test"})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestApplySurvivesSIGKILL(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	put(t, filepath.Join(out, "README.md"), "mine\n")
	foreign := map[string]string{"README.md": "mine\n"}
	mustApply(t, out, generation(0, killFiles))

	// Time one render in-process to spread the kills over a whole render.
	scratch := filepath.Join(t.TempDir(), "out")
	mustApply(t, scratch, generation(0, killFiles))
	start := time.Now()
	mustApply(t, scratch, generation(1, killFiles))
	render := time.Since(start)
	t.Logf("one render takes %v", render)

	outcomes := map[string]int{}
	for i, frac := range []float64{0, 0, 0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.1, 1.5, 3} {
		gen := i + 1
		before := snapshot(t, out)
		after := expected(t, generation(gen, killFiles), foreign)
		delay := time.Duration(frac * float64(render))

		killed := killDuringApply(t, out, gen, delay)
		outcome := crashState(t, out, before, after)
		outcomes[outcome]++
		t.Logf("kill %v after staging began (killed: %v): %s output", delay, killed, outcome)

		// The next render recovers and completes.
		mustApply(t, out, generation(gen, killFiles))
		if diff := cmp.Diff(after, snapshot(t, out)); diff != "" {
			t.Fatalf("after recovery (-want +got):\n%s", diff)
		}
		if s := siblings(t, out); len(s) > 0 {
			t.Fatalf("recovery left behind %v", s)
		}
	}
	if outcomes["old"] == 0 || outcomes["new"] == 0 {
		t.Errorf("outcomes %v: want kills that left the old output and ones that left the new", outcomes)
	}
}

// killDuringApply starts a render of generation gen into out in a child process
// and kills it with SIGKILL delay after its stage directory appears. It reports
// whether the child was killed rather than finishing first.
func killDuringApply(t *testing.T, out string, gen int, delay time.Duration) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperDir+"="+out, helperGen+"="+strconv.Itoa(gen))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	stagePattern := filepath.Join(filepath.Dir(out), ".out"+stageInfix+"*")
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("helper failed before its stage appeared: %v\n%s", err, stderr.String())
			}
			return false
		default:
		}
		if m, _ := filepath.Glob(stagePattern); len(m) > 0 {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("helper failed: %v\n%s", err, stderr.String())
		}
		return false
	case <-time.After(delay):
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-done
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
		return true
	}
	if err != nil {
		t.Fatalf("helper failed: %v\n%s", err, stderr.String())
	}
	return false // it finished between the timer and the signal
}

// crashState checks that a killed render left either the complete old output or
// the complete new one, and says which. Killed between the two renames, the old
// output sits under its old-* name.
func crashState(t *testing.T, out string, before, after map[string]string) string {
	t.Helper()
	dir := out
	if _, err := os.Lstat(out); errors.Is(err, fs.ErrNotExist) {
		olds, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".out"+oldInfix+"*"))
		if len(olds) != 1 {
			t.Fatalf("output missing, old trees %v", olds)
		}
		dir = olds[0]
	}
	got := snapshot(t, dir)
	switch {
	case cmp.Equal(got, before):
		if dir != out {
			return "old (moved aside)"
		}
		return "old"
	case cmp.Equal(got, after) && dir == out:
		return "new"
	}
	t.Fatalf("killed render left a mixed output in %s:\nagainst the old (-old +got):\n%s\nagainst the new (-new +got):\n%s",
		dir, cmp.Diff(before, got), cmp.Diff(after, got))
	return ""
}
