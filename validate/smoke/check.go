package smoke

import (
	"context"
	"errors"
	"sync"
	"time"
)

// parallel is how many queries run at once.
const parallel = 8

// timing says how long check polls. A query may stay empty while the
// server has fewer than two samples of a series or has not evaluated a
// rule group yet; on a loaded machine that can take a while, so check
// polls every Every until all queries have data, or until a round begun
// at least Min after the start and Stable after the last round in which
// a query gained data gains none, and gives up at Max.
type timing struct {
	Every, Min, Stable, Max time.Duration
}

// check runs the queries until each has data or timing gives up, and
// sorts them into the report. Queries expected to be empty run once, at
// the end, so that a stale expectation is seen. An error means the server
// could not be asked.
func check(ctx context.Context, q querier, queries []Query, tm timing, rep *Report) error {
	var pending, expected []Query
	for _, qu := range queries {
		if qu.Reason != "" {
			expected = append(expected, qu)
		} else {
			pending = append(pending, qu)
		}
	}
	start := time.Now()
	progress := start
	for {
		// Measured from the round's start: a slow round must not count
		// as time in which its own queries could have found data.
		round := time.Now()
		answers, errs, err := runAll(ctx, q, pending)
		if err != nil {
			return err
		}
		var still []Query
		for i, qu := range pending {
			switch {
			case errs[i] != "":
				qu.Err = errs[i]
				rep.Failed = append(rep.Failed, qu)
			case answers[i].hasData():
			default:
				qu.Err = ""
				if answers[i].Samples > 0 {
					qu.Err = "every sample is NaN"
				}
				still = append(still, qu)
			}
		}
		if len(still) < len(pending) {
			progress = round
		}
		pending = still
		if len(pending) == 0 ||
			round.Sub(start) >= tm.Min && round.Sub(progress) >= tm.Stable ||
			time.Now().Add(tm.Every).Sub(start) > tm.Max {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(tm.Every):
		}
	}
	rep.Settled = time.Since(start)
	rep.Empty = append(rep.Empty, pending...)
	answers, errs, err := runAll(ctx, q, expected)
	if err != nil {
		return err
	}
	for i, qu := range expected {
		switch {
		case errs[i] != "":
			qu.Err = errs[i]
			rep.Failed = append(rep.Failed, qu)
		case answers[i].hasData():
			rep.Unexpected = append(rep.Unexpected, qu)
		default:
			rep.Expected = append(rep.Expected, qu)
		}
	}
	return nil
}

// runAll runs queries concurrently. A query Prometheus refuses gets its
// message in errs; the first other failure is returned.
func runAll(ctx context.Context, q querier, queries []Query) ([]answer, []string, error) {
	answers := make([]answer, len(queries))
	errs := make([]string, len(queries))
	var (
		mu      sync.Mutex
		failure error
	)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, qu := range queries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			a, err := q.query(ctx, qu.probe)
			var r refused
			switch {
			case errors.As(err, &r):
				errs[i] = r.msg
			case err != nil:
				mu.Lock()
				if failure == nil {
					failure = err
				}
				mu.Unlock()
			default:
				answers[i] = a
			}
		}()
	}
	wg.Wait()
	return answers, errs, failure
}
