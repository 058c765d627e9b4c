package panels

import (
	"fmt"
	"slices"
	"strings"
)

// rowBuilder collects a row's panels and the reasons stages have none.
type rowBuilder struct {
	c      *Context
	title  string
	panels []Panel
	notes  []string
	err    error
	// heading opens the note panel; empty names the target's backend.
	heading string
}

func newRow(c *Context, title string) *rowBuilder { return &rowBuilder{c: c, title: title} }

// add appends a built panel, or keeps the first error.
func (r *rowBuilder) add(p Panel, err error) {
	if r.err != nil {
		return
	}
	if err != nil {
		r.err = fmt.Errorf("row %q: %w", r.title, err)
		return
	}
	r.panels = append(r.panels, p)
}

// missing records why a stage shows no panel: the catalogue's note, or,
// for a stage every backend is expected to have, that the catalogue lacks
// it. Optional stages without a note are left out silently.
func (r *rowBuilder) missing(label, stage string, expected bool) {
	text := r.c.note(stage)
	if text == "" {
		if !expected {
			return
		}
		text = "the " + r.c.backendName() + " catalogue has no series for it"
	}
	r.explain(label, text)
}

// explain adds a line to the row's note panel.
func (r *rowBuilder) explain(label, text string) {
	line := "- **" + label + "**: " + strings.TrimSuffix(text, ".") + "."
	if !slices.Contains(r.notes, line) {
		r.notes = append(r.notes, line)
	}
}

// done returns the row, with a note panel at its end when something is
// missing, so the reader learns why instead of seeing an empty panel.
func (r *rowBuilder) done() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	if len(r.notes) > 0 {
		heading := r.heading
		if heading == "" {
			heading = "Not shown for this workload (backend " + r.c.backendName() + "):"
		}
		content := heading + "\n\n" + strings.Join(r.notes, "\n")
		h := uint32(2 + len(r.notes))
		p, err := note("Not shown in this row",
			"Why some panels of this row are absent: the backend does not expose the series, or aiobs cannot attribute them to this workload.",
			content, 24, h)
		if err != nil {
			return Row{}, fmt.Errorf("row %q: %w", r.title, err)
		}
		r.panels = append(r.panels, p)
	}
	return Row{Title: r.title, Panels: r.panels}, nil
}
