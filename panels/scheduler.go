package panels

// Scheduler is the scheduler and caches row: queue depth and running
// requests, preemptions, KV-cache usage, prefix-cache hit rate and batch
// size. Gauges are read as they are, never through rate(): counts are
// summed over instances and ranks, fractions take the fullest.
func Scheduler(c *Context) (Row, error) {
	r := newRow(c, "Scheduler and caches")

	var depth []query
	var names []string
	for _, g := range []struct{ stage, legend, label string }{
		{"queueDepth", "waiting", "Queue depth"},
		{"running", "running", "Running requests"},
	} {
		s, ok := c.stage(g.stage)
		if !ok {
			r.missing(g.label, g.stage, true)
			continue
		}
		depth = append(depth, query{expr: sumBy(c.sel(s, "")), legend: g.legend})
		names = append(names, s.Name)
	}
	if len(depth) > 0 {
		r.add(graph(spec{
			title: "Queue depth and running requests",
			desc:  describe("Requests waiting to be scheduled and requests being served, summed over instances, from " + seriesList(names...)),
			unit:  "short", queries: depth, w: 8,
		}))
	}

	if s, ok := c.stage("preemptions"); ok {
		r.add(graph(spec{
			title: "Preemptions",
			desc:  describe("Requests preempted per second over the rate window (their KV cache was freed and they wait to be recomputed), from "+seriesList(s.Name), c.note("preemptions")),
			unit:  "ops", queries: []query{{expr: c.perSecondEvents(s), legend: "preempted"}}, w: 8,
		}))
	} else {
		r.missing("Preemptions", "preemptions", true)
	}

	if s, ok := c.stage("kvCache"); ok {
		r.add(graph(spec{
			title: "KV-cache usage",
			desc:  describe("Share of the KV cache in use per instance (the fullest rank), from "+seriesList(s.Name)+"; near 1 the scheduler preempts or queues", c.note("kvCache")),
			unit:  "percentunit", queries: []query{{expr: "max by (instance) (" + c.sel(s, "") + ")", legend: "{{instance}}"}},
			min: ptr(0.0), max: ptr(1.0), steps: []step{{0.9, "orange"}, {0.98, "red"}}, line: true, w: 8,
		}))
	} else {
		r.missing("KV-cache usage", "kvCache", true)
	}

	hits, okH := c.stage("prefixCacheHits")
	queries, okQ := c.stage("prefixCacheQueries")
	if okH && okQ && hits.Type == "counter" && queries.Type == "counter" {
		r.add(graph(spec{
			title: "Prefix-cache hit rate",
			desc:  describe("Prompt tokens served from the prefix cache over prompt tokens looked up, over the rate window, from " + seriesList(hits.Name, queries.Name)),
			unit:  "percentunit", queries: []query{{expr: c.perSecondEvents(hits) + " / " + c.perSecondEvents(queries), legend: "hit rate"}},
			min: ptr(0.0), max: ptr(1.0), w: 8,
		}))
	} else if !okH {
		r.missing("Prefix-cache hit rate", "prefixCacheHits", true)
	} else {
		r.missing("Prefix-cache hit rate", "prefixCacheQueries", true)
	}

	if s, ok := c.stage("batchSize"); ok {
		r.add(graph(spec{
			title: "Average batch size",
			desc:  describe("Average number of sequences per decode step, read as the backend reports it (a running average, so never rated), from "+seriesList(s.Name), c.note("batchSize")),
			unit:  "short", queries: []query{{expr: "avg(" + c.sel(s, "") + ")", legend: "sequences per step"}}, w: 8,
		}))
	} else {
		r.missing("Average batch size", "batchSize", false)
	}
	return r.done()
}
