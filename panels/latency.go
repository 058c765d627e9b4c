package panels

// latencyStages are the request stages of the latency row, in the order a
// request passes them, with their display names.
var latencyStages = []struct{ stage, label string }{
	{"queue", "Queue time"},
	{"prefill", "Prefill time"},
	{"decode", "Decode time"},
	{"e2e", "End-to-end latency"},
	{"itl", "Inter-token latency"},
}

// Latency is the stage latency row: where a request's time goes (queue,
// prefill, decode, end to end) and the pace of tokens, as p50/p95/p99 and
// mean where the backend keeps histograms, as means where it only
// accumulates time, and as speeds where it counts no requests.
func Latency(c *Context) (Row, error) {
	r := newRow(c, "Latency by stage")
	var phases []query
	for _, st := range latencyStages {
		s, kind := c.latency(st.stage)
		switch kind {
		case latencyHistogram:
			r.add(graph(spec{
				title: st.label,
				desc: describe(st.label+" percentiles and mean per request over the rate window, from "+seriesList(s.Name+"_bucket", s.Name+"_sum", s.Name+"_count"),
					c.note(st.stage), exemplarSentence),
				unit: "s", queries: c.quantiles(s, true), w: 8,
			}))
			if st.stage == "queue" || st.stage == "prefill" || st.stage == "decode" {
				phases = append(phases, query{expr: c.histMean(s), legend: st.stage})
			}
		case latencyMean:
			r.add(graph(spec{
				title: st.label + " (mean)",
				desc: describe(st.label+" per request over the rate window: the rate of accumulated time in "+seriesList(s.Name)+" over the rate of successful requests",
					c.note(st.stage)),
				unit: "s", queries: []query{{expr: c.counterMean(s), legend: "mean"}}, w: 8,
			}))
			if st.stage == "queue" || st.stage == "prefill" || st.stage == "decode" {
				phases = append(phases, query{expr: c.counterMean(s), legend: st.stage})
			}
		case latencySpeed:
			r.missing(st.label, st.stage, true)
		default:
			// The health row already explains a missing end-to-end latency.
			if st.stage != "e2e" {
				r.missing(st.label, st.stage, true)
			}
		}
	}
	if len(phases) >= 2 {
		r.add(graph(spec{
			title: "Mean time per request phase",
			desc:  "Mean time a request spends in each phase, stacked, so the phases that dominate latency stand out.",
			unit:  "s", queries: phases, stacked: true, w: 8,
		}))
	}
	if qs := c.speeds(); len(qs) > 0 {
		r.add(graph(spec{
			title: "Prefill and decode speed",
			desc:  "Tokens processed per second of prefill or decode work: token counters over the seconds the backend spent in each phase.",
			unit:  "short", axisLabel: "tokens/s", queries: qs, w: 8,
		}))
	}
	return r.done()
}

// speeds are the tokens per busy second of prefill and decode, for
// backends that accumulate phase time but count no requests.
func (c *Context) speeds() []query {
	var qs []query
	for _, p := range []struct{ phase, tokens string }{{"prefill", "promptTokens"}, {"decode", "generationTokens"}} {
		s, kind := c.latency(p.phase)
		tok, ok := c.stage(p.tokens)
		if kind != latencySpeed || !ok {
			continue
		}
		qs = append(qs, query{expr: c.perSecond(tok) + " / (" + toSeconds(c.perSecondEvents(s), s.Unit) + ")", legend: p.phase})
	}
	return qs
}
