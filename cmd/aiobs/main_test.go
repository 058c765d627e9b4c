package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite testscript archives with the actual output")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"aiobs": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI stories in testdata/script, one per file.
func TestScripts(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update || os.Getenv("AIOBS_UPDATE") == "1",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", wd+"/../../examples")
			env.Setenv("GPUPROBE", wd+"/../../testdata/gpuprobe")
			env.Setenv("AIOBS_CACHE", env.WorkDir+"/.cache/aiobs")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitCode,
		},
	})
}

// cmdExitCode runs a command and requires a specific exit status, since
// testscript itself only tells success from failure:
//
//	exitcode 2 exec aiobs render --bogus
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || args[1] != "exec" {
		ts.Fatalf("usage: exitcode N exec program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	err = ts.Exec(args[2], args[3:]...)
	got := 0
	if err != nil {
		var code int
		if _, scanErr := fmt.Sscanf(err.Error(), "exit status %d", &code); scanErr != nil {
			ts.Fatalf("exitcode: %v", err)
		}
		got = code
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// TestGoBuildIDMatchesTheToolchain reads this test binary's build ID as the
// render salt does and compares it with go tool buildid, where ELF is the
// format.
func TestGoBuildIDMatchesTheToolchain(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	id, ok := goBuildID(exe)
	if !ok {
		t.Skip("no ELF Go build ID note in", exe)
	}
	out, err := exec.Command("go", "tool", "buildid", exe).Output()
	if err != nil {
		t.Skipf("go tool buildid: %v", err)
	}
	if want := strings.TrimSpace(string(out)); id != want {
		t.Errorf("build ID %q, go tool buildid says %q", id, want)
	}
	if _, ok := goBuildID("main_test.go"); ok {
		t.Error("a Go source file has a build ID")
	}
}
