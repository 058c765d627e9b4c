package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

func TestMapKeepsInputOrderAndCallsEachIndexOnce(t *testing.T) {
	for _, procs := range []int{1, 2, 8} {
		prev := runtime.GOMAXPROCS(procs)
		var calls atomic.Int64
		got := Map(1000, func(i int) int { calls.Add(1); return i * i })
		runtime.GOMAXPROCS(prev)
		if calls.Load() != 1000 {
			t.Fatalf("GOMAXPROCS %d: %d calls, want 1000", procs, calls.Load())
		}
		for i, v := range got {
			if v != i*i {
				t.Fatalf("GOMAXPROCS %d: result %d is %d, want %d", procs, i, v, i*i)
			}
		}
	}
}

func TestForRunsAtMostGOMAXPROCSAtOnce(t *testing.T) {
	prev := runtime.GOMAXPROCS(3)
	defer runtime.GOMAXPROCS(prev)
	var running, peak atomic.Int64
	For(200, func(int) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		runtime.Gosched()
		running.Add(-1)
	})
	if p := peak.Load(); p < 1 || p > 3 {
		t.Fatalf("peak concurrency %d, want 1 to 3", p)
	}
}

func TestForWithNothingToDo(t *testing.T) {
	For(0, func(int) { t.Fatal("called") })
	if got := Map(0, func(int) int { return 1 }); len(got) != 0 {
		t.Fatalf("Map(0) = %v", got)
	}
}

func TestForRaisesAWorkersPanicInTheCaller(t *testing.T) {
	prev := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(prev)
	defer func() {
		if r := recover(); r != "boom at 7" {
			t.Fatalf("recovered %v, want the worker's panic", r)
		}
	}()
	For(100, func(i int) {
		if i == 7 {
			panic("boom at 7")
		}
	})
	t.Fatal("For returned normally")
}
