// Package compile turns a directory of CUE decisions into a Plan: it loads
// every .cue file, unifies them with the embedded standard, requires every
// value to be concrete, decodes the result and checks what CUE cannot (names
// that refer to other decisions, costs, reachable burn-rate tiers).
//
// Every error a user can cause comes back as a diag.List whose entries name
// the user's file:line:col. Compile reads the decisions directory and nothing
// else; it knows nothing about the artifacts rendered from the plan.
package compile

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/standards"
)

// Options tune a compilation.
type Options struct {
	// Cwd makes file names in diagnostics relative to it; empty keeps them
	// as found under the decisions directory.
	Cwd string
	// MaxFileBytes refuses a decision file larger than this; zero means
	// DefaultMaxFileBytes.
	MaxFileBytes int64
	// MaxTargets refuses a plan with more targets than this; zero means
	// DefaultMaxTargets.
	MaxTargets int
}

// Limits that keep a hostile or mistaken decisions repo from exhausting
// memory.
const (
	DefaultMaxFileBytes = 16 << 20
	DefaultMaxTargets   = 100000
)

// Compile loads the decisions in dir and returns the plan. A non-nil error
// is a diag.List when the user's input is at fault.
func Compile(ctx context.Context, dir string, opts Options) (*plan.Plan, error) {
	if opts.MaxFileBytes == 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.MaxTargets == 0 {
		opts.MaxTargets = DefaultMaxTargets
	}
	files, diags := readDecisions(dir, opts)
	if len(diags) > 0 {
		return nil, diags.Sorted()
	}
	c := &compiler{ctx: cuecontext.New(), opts: opts, dir: dir, display: displayDir(dir, opts.Cwd)}
	if err := c.loadStandard(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, diags := c.evaluate(files)
	if len(diags) > 0 {
		return nil, diags.Sorted()
	}
	p, diags := c.build(v)
	if len(diags) > 0 {
		return nil, diags.Sorted()
	}
	return p, nil
}

type compiler struct {
	dir string
	// display is dir as diagnostics name it.
	display string
	ctx     *cue.Context
	opts    Options
	std     cue.Value
}

type decisionFile struct {
	name string // as shown to the user
	file *ast.File
}

// readDecisions parses every .cue file directly in dir, in name order.
func readDecisions(dir string, opts Options) ([]decisionFile, diag.List) {
	display := func(name string) string {
		p := filepath.Join(dir, name)
		if opts.Cwd != "" {
			if rel, err := filepath.Rel(opts.Cwd, p); err == nil {
				p = rel
			}
		}
		return filepath.ToSlash(p)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, diag.List{{Pos: diag.Pos{File: display(".")}, Rule: "DECISIONS_UNREADABLE", Severity: diag.Error,
			Msg: "cannot read decisions directory: " + pathError(err)}}
	}
	var out []decisionFile
	var diags diag.List
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".cue" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := display(e.Name())
		info, err := e.Info()
		if err != nil {
			diags = append(diags, fileDiag(name, "cannot read file: "+pathError(err)))
			continue
		}
		if !info.Mode().IsRegular() {
			diags = append(diags, fileDiag(name, "not a regular file"))
			continue
		}
		if info.Size() > opts.MaxFileBytes {
			diags = append(diags, fileDiag(name, fmt.Sprintf("file is %d bytes; decision files may be at most %d bytes", info.Size(), opts.MaxFileBytes)))
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			diags = append(diags, fileDiag(name, "cannot read file: "+pathError(err)))
			continue
		}
		f, err := parser.ParseFile(name, data, parser.ParseComments)
		if err != nil {
			diags = append(diags, cueDiags(err, "CUE_SYNTAX")...)
			continue
		}
		imported := false
		for imp := range f.ImportSpecs() {
			imported = true
			diags = append(diags, diag.Diagnostic{Pos: position(imp.Pos()), Rule: "DECISION_IMPORT", Severity: diag.Error,
				Msg: "decision files may not import packages; the standard's definitions (#SLOs, #Workload, ...) are already in scope"})
		}
		if imported {
			continue
		}
		out = append(out, decisionFile{name: name, file: f})
	}
	diags = append(diags, duplicateDefinitions(out)...)
	if len(diags) == 0 && len(out) == 0 {
		diags = append(diags, diag.Diagnostic{Pos: diag.Pos{File: display(".")}, Rule: "DECISIONS_EMPTY", Severity: diag.Error,
			Msg: "no .cue files in the decisions directory; run 'aiobs init' to create one"})
	}
	return out, diags
}

// displayDir names the decisions directory relative to cwd when it can.
func displayDir(dir, cwd string) string {
	if cwd != "" {
		if rel, err := filepath.Rel(cwd, dir); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(dir)
}

func fileDiag(name, msg string) diag.Diagnostic {
	return diag.Diagnostic{Pos: diag.Pos{File: name}, Rule: "DECISIONS_UNREADABLE", Severity: diag.Error, Msg: msg}
}

// pathError drops the path an *fs.PathError repeats, since the diagnostic
// already names the file.
func pathError(err error) string {
	var pe *fs.PathError
	if e, ok := err.(*fs.PathError); ok {
		pe = e
		return pe.Err.Error()
	}
	return err.Error()
}

// loadStandard compiles the embedded standard once per compilation.
func (c *compiler) loadStandard() error {
	// The standard's files form one package and refer to each other, so they
	// are built as one instance.
	inst := build.NewContext().NewInstance(strings.TrimSuffix(standards.FilenamePrefix, "/"), nil)
	for _, src := range standards.Sources() {
		f, err := parser.ParseFile(src.Name, src.Data, parser.ParseComments)
		if err != nil {
			return internalError{fmt.Errorf("the embedded standard does not parse: %w", err)}
		}
		if err := inst.AddSyntax(f); err != nil {
			return internalError{fmt.Errorf("the embedded standard: %w", err)}
		}
	}
	std := c.ctx.BuildInstance(inst)
	if err := std.Validate(); err != nil {
		return internalError{fmt.Errorf("the embedded standard does not compile: %w", err)}
	}
	c.std = std
	return nil
}

// evaluate unifies every decision file with the standard's #Decisions and
// checks that the result is complete and concrete. The files are unified
// as one instance, in one evaluation, unless a file could then read another
// file's field (see unify.go); a file that does not build on its own is
// reported as such either way.
func (c *compiler) evaluate(files []decisionFile) (cue.Value, diag.List) {
	schema := c.std.LookupPath(cue.ParsePath("#Decisions"))
	if !crossFileNames(files) {
		v, err := c.unifyInstance(schema, files)
		if err == nil {
			return v, nil
		}
		if _, diags := c.buildFiles(files); len(diags) > 0 {
			return cue.Value{}, diags
		}
		return cue.Value{}, cueDiagsIn(v, err, "DECISION_INVALID")
	}
	vals, diags := c.buildFiles(files)
	if len(diags) > 0 {
		return cue.Value{}, diags
	}
	v, err := unifyOneByOne(schema, vals)
	if err != nil {
		return cue.Value{}, cueDiagsIn(v, err, "DECISION_INVALID")
	}
	return v, nil
}

// internalError marks a state no user input can cause.
type internalError struct{ err error }

func (e internalError) Error() string { return "internal error: " + e.err.Error() }
func (e internalError) Unwrap() error { return e.err }

// sortedKeys returns a map's keys in order; maps decoded from CUE are only
// ever iterated through it.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
