// Package preview draws a Grafana dashboard's layout as SVG: rows, panels,
// titles, panel types and sizes on Grafana's 24-column grid, so a reviewer
// sees a dashboard change in a pull request without running Grafana.
//
// It reads dashboard JSON as rendered and returns SVG bytes; it knows
// nothing about how the dashboard was built.
package preview

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
)

// Grid geometry: Grafana's grid is 24 columns wide and each height unit
// is 30 px on screen.
const (
	columns = 24
	colPx   = 40
	rowPx   = 30
	margin  = 12
	header  = 40
)

type gridPos struct {
	H, W, X, Y int
}

type panel struct {
	Type        string  `json:"type"`
	Title       string  `json:"title"`
	GridPos     gridPos `json:"gridPos"`
	Collapsed   bool    `json:"collapsed"`
	Panels      []panel `json:"panels"`
	Description string  `json:"description"`
}

type dashboard struct {
	Title  string  `json:"title"`
	UID    string  `json:"uid"`
	Panels []panel `json:"panels"`
}

// colours per panel type; unknown types are grey.
var colours = map[string]string{
	"row": "#e8eaed", "stat": "#dbeafe", "timeseries": "#dcfce7", "heatmap": "#fef3c7",
	"text": "#f3f4f6", "table": "#ede9fe", "logs": "#fee2e2", "traces": "#fce7f3",
	"nodeGraph": "#e0f2fe", "gauge": "#dbeafe", "bargauge": "#dbeafe", "state-timeline": "#ecfccb",
}

// SVG draws the layout of one dashboard.
func SVG(dashboardJSON []byte) ([]byte, error) {
	var d dashboard
	if err := json.Unmarshal(dashboardJSON, &d); err != nil {
		return nil, fmt.Errorf("preview: not a dashboard: %w", err)
	}
	var all []panel
	for _, p := range d.Panels {
		all = append(all, p)
		// Panels of a collapsed row sit inside it; Grafana lays them out
		// below the row when it is expanded, which is what a reviewer wants
		// to see.
		all = append(all, p.Panels...)
	}
	height := 0
	for _, p := range all {
		height = max(height, p.GridPos.Y+p.GridPos.H)
	}
	width := columns*colPx + 2*margin
	total := header + height*rowPx + 2*margin

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Inter, Helvetica, Arial, sans-serif">`+"\n", width, total, width, total)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, total)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="18" font-weight="600" fill="#111827">%s</text>`+"\n", margin, margin+18, esc(d.Title))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#6b7280" text-anchor="end">uid %s · %d panels</text>`+"\n", width-margin, margin+18, esc(d.UID), countPanels(all))

	slices.SortStableFunc(all, func(a, c panel) int {
		if a.GridPos.Y != c.GridPos.Y {
			return a.GridPos.Y - c.GridPos.Y
		}
		return a.GridPos.X - c.GridPos.X
	})
	for _, p := range all {
		x := margin + p.GridPos.X*colPx
		y := margin + header + p.GridPos.Y*rowPx
		w := p.GridPos.W*colPx - 4
		h := p.GridPos.H*rowPx - 4
		fill := colours[p.Type]
		if fill == "" {
			fill = "#e5e7eb"
		}
		if p.Type == "row" {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", x, y, w, h, fill)
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" font-weight="600" fill="#111827">▾ %s</text>`+"\n", x+6, y+h/2+5, esc(p.Title))
			continue
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="%s" stroke="#9ca3af"/>`+"\n", x, y, w, h, fill)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" font-weight="600" fill="#111827">%s</text>`+"\n", x+6, y+16, esc(fit(p.Title, w)))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" fill="#4b5563">%s · %d×%d</text>`+"\n", x+6, y+30, esc(p.Type), p.GridPos.W, p.GridPos.H)
	}
	b.WriteString("</svg>\n")
	return b.Bytes(), nil
}

func countPanels(ps []panel) int {
	n := 0
	for _, p := range ps {
		if p.Type != "row" {
			n++
		}
	}
	return n
}

// fit shortens a title to what fits in w pixels at about 7 px a character.
func fit(s string, w int) string {
	limit := max((w-12)/7, 4)
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	return strings.TrimSpace(string(r[:limit-1])) + "…"
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
