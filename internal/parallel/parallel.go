// Package parallel runs independent pieces of work on at most GOMAXPROCS
// goroutines and hands results back in input order, so that what aiobs
// writes never depends on scheduling.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls f for 0 ... n-1 on up to GOMAXPROCS goroutines and returns
// when every call has. f must be safe to call concurrently. A panic in f
// is raised again in the caller's goroutine, once the others have
// stopped, so that the caller's recovery sees it as it would a panic of
// a plain loop instead of the process dying.
func For(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[workerPanic]
	for range workers {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					failed.CompareAndSwap(nil, &workerPanic{r})
					next.Store(int64(n)) // the others stop at their next index
				}
			}()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
	if p := failed.Load(); p != nil {
		panic(p.value)
	}
}

type workerPanic struct{ value any }

// Map returns f(0) ... f(n-1), computed as For does, in index order.
func Map[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	For(n, func(i int) { out[i] = f(i) })
	return out
}
