package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: Read never panics, and a report it accepts is canonical after
// one Write: reading those bytes back and writing again gives the same
// bytes.
func FuzzRead(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(`{"schema":"aiobs.gpuprobe/v1"}`))
	f.Add([]byte(`{"schema":"aiobs.gpuprobe/v2"}`))
	f.Add([]byte(`{"schema":"aiobs.gpuprobe/v1","backend":{"name":"nvml"},"gpus":[{"index":1,"fields":[{"id":2,"status":"blank","samples":{"polls":1,"distinct":0,"valid":0,"min":-0}}]},{"index":0,"fields":null}],"benchmarks":{"engine":{"status":"measured","start":{"cpu_percent":1e21,"memory_kb":3}}}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	paths, _ := filepath.Glob("../../testdata/gpuprobe/*.json")
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		r1, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b1 bytes.Buffer
		if err := Write(&b1, r1); err != nil {
			t.Fatalf("write of an accepted report failed: %v", err)
		}
		r2, err := Read(bytes.NewReader(b1.Bytes()))
		if err != nil {
			t.Fatalf("written report does not read back: %v\n%s", err, b1.String())
		}
		var b2 bytes.Buffer
		if err := Write(&b2, r2); err != nil {
			t.Fatalf("second write failed: %v", err)
		}
		if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
			t.Fatalf("not stable after one round trip:\nfirst:\n%s\nsecond:\n%s", b1.String(), b2.String())
		}
	})
}
