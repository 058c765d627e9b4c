package panels

import (
	"strings"
)

// Throughput is the throughput and errors row: prefill and decode tokens
// per second, requests per second, finished requests by outcome, and the
// distribution of prompt and output lengths.
func Throughput(c *Context) (Row, error) {
	r := newRow(c, "Throughput and errors")

	var tokens []query
	var names []string
	for _, t := range []struct{ stage, legend, label string }{
		{"promptTokens", "prefill (prompt)", "Prompt tokens per second"},
		{"generationTokens", "decode (generated)", "Generated tokens per second"},
	} {
		s, ok := c.stage(t.stage)
		if !ok {
			r.missing(t.label, t.stage, true)
			continue
		}
		tokens = append(tokens, query{expr: c.perSecond(s), legend: t.legend})
		if s.Type == "histogram" {
			names = append(names, s.Name+"_sum")
		} else {
			names = append(names, s.Name)
		}
	}
	if len(tokens) > 0 {
		r.add(graph(spec{
			title: "Token throughput",
			desc:  describe("Prompt tokens prefilled and tokens generated per second over the rate window, from " + seriesList(names...)),
			unit:  "short", axisLabel: "tokens/s", queries: tokens, w: 8,
		}))
	}

	if reqs := c.requestRate(); reqs != "" {
		qs := []query{{expr: reqs, legend: "finished"}}
		if e, ok := c.stage("errors"); ok {
			qs = append(qs, query{expr: c.perSecondEvents(e), legend: "failed"})
		}
		r.add(graph(spec{
			title: "Requests per second",
			desc:  "Finished and failed requests per second over the rate window; a secondary figure, since one request may hold many tokens.",
			unit:  "reqps", queries: qs, w: 8,
		}))
	}

	if s, ok := c.stage("outcomes"); ok {
		by := groupLabels(s)
		var legend []string
		for _, l := range by {
			legend = append(legend, "{{"+l+"}}")
		}
		var words []string
		for _, l := range by {
			words = append(words, labelWords(l))
		}
		r.add(graph(spec{
			title: "Requests by " + strings.Join(words, " and "),
			desc:  describe("Requests per second over the rate window broken down by "+strings.Join(by, ", ")+", from "+seriesList(s.Name), c.note("outcomes")),
			unit:  "reqps", queries: []query{{expr: c.perSecondEvents(s, by...), legend: strings.Join(legend, " ")}},
			stacked: true, w: 8,
		}))
	} else {
		r.missing("Requests by outcome", "outcomes", false)
	}

	for _, t := range []struct{ stage, title string }{
		{"promptLength", "Prompt length distribution"},
		{"generationLength", "Output length distribution"},
	} {
		s, ok := c.stage(t.stage)
		if !ok || s.Type != "histogram" {
			r.missing(t.title, t.stage, false)
			continue
		}
		r.add(distribution(spec{
			title: t.title,
			desc: describe("Requests per token-count bucket over the rate window, from "+seriesList(s.Name+"_bucket")+"; darker cells hold more requests",
				c.note(t.stage)),
			unit: "short",
			queries: []query{{
				expr: sumBy("increase("+c.sel(s, "_bucket")+"["+RateInterval+"])", "le"),
			}},
			w: 12,
		}))
	}
	return r.done()
}

// labelWords names an outcome label in prose.
func labelWords(label string) string {
	switch label {
	case "finished_reason":
		return "finish reason"
	case "err", "error_type":
		return "error type"
	case "reason":
		return "failure reason"
	}
	return strings.ReplaceAll(label, "_", " ")
}
