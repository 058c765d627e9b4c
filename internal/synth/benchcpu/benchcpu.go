// Package benchcpu adds a cpu-ns/op metric to benchmarks: the CPU time the
// whole process used (user + system, every goroutine and the garbage
// collector included) per iteration. On a shared machine wall time swings
// with other people's load; CPU time swings far less, so compare it first.
package benchcpu

import "testing"

// Start begins measuring; call the function it returns after the loop.
// Where the platform cannot tell, no metric is reported.
func Start(b *testing.B) (stop func()) {
	b.Helper()
	t0, ok := processCPU()
	if !ok {
		return func() {}
	}
	return func() {
		t1, _ := processCPU()
		if b.N > 0 {
			b.ReportMetric(float64(t1-t0)/float64(b.N), "cpu-ns/op")
		}
	}
}
