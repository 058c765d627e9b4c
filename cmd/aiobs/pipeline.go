package main

import (
	"context"
	"os"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render"
)

// compileAndRender runs the two pure stages every command starts with.
func compileAndRender(ctx context.Context, decisions string) (*plan.Plan, []render.Artifact, error) {
	return compileAndRenderWithin(ctx, decisions, 0)
}

// compileAndRenderWithin refuses, before rendering anything, decisions
// that produce more than maxTargets targets (0: the compiler's default).
func compileAndRenderWithin(ctx context.Context, decisions string, maxTargets int) (*plan.Plan, []render.Artifact, error) {
	cwd, _ := os.Getwd()
	p, err := compile.Compile(ctx, decisions, compile.Options{Cwd: cwd, MaxTargets: maxTargets})
	if err != nil {
		return nil, nil, err
	}
	files, err := render.Render(p)
	if err != nil {
		return nil, nil, err
	}
	return p, files, nil
}
