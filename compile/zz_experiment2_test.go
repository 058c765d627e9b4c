package compile

import (
	"os"
	"runtime"
	"testing"
	"time"

	"cuelang.org/go/cue/cuecontext"
)

func TestExperimentStd(t *testing.T) {
	if os.Getenv("XSTD") == "" {
		t.Skip()
	}
	for i := 0; i < 3; i++ {
		t0 := cpuNow()
		const n = 20
		for j := 0; j < n; j++ {
			c := &compiler{ctx: cuecontext.New()}
			if err := c.loadStandard(); err != nil {
				t.Fatal(err)
			}
			var sd standardData
			c.std.Decode(&sd)
		}
		t.Logf("loadStandard+decode cpu per call: %v", (cpuNow()-t0)/n)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("heap %d MB", ms.HeapAlloc>>20)
	_ = time.Now
}
