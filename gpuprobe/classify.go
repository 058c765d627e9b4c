package gpuprobe

import (
	"math"
	"slices"
	"time"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

// valueClass is what one sample says.
type valueClass uint8

const (
	classValid valueClass = iota
	classBlank
	classNotFound
	classNotSupported
	classNoPermission
	classError
	numClasses
)

// sampleClass classifies one sample. DCGM reports "no value" two ways: a
// per-value status, or status 0 with a sentinel inside the value; both are
// handled, sentinel families of both integer widths included.
func sampleClass(s backend.Sample) (c valueClass, bySentinel bool) {
	switch s.Status {
	case backend.CodeOK:
	case backend.CodeNoData, backend.CodeNotWatched:
		return classBlank, false
	case backend.CodeNotSupported, backend.CodeFunctionNotFound, backend.CodeFieldUnsupportedByAPI, backend.CodeUnknownField:
		return classNotSupported, false
	case backend.CodeNoPermission:
		return classNoPermission, false
	default:
		return classError, false
	}
	switch s.Type {
	case backend.TypeInt64, backend.TypeTimestamp:
		switch s.Int {
		case backend.Int32Blank, backend.Int64Blank:
			return classBlank, true
		case backend.Int32NotFound, backend.Int64NotFound:
			return classNotFound, true
		case backend.Int32NotSupported, backend.Int64NotSupported:
			return classNotSupported, true
		case backend.Int32NotPermissioned, backend.Int64NotPermissioned:
			return classNoPermission, true
		}
		// DCGM treats everything from the int64 blank up as blank. The int32
		// family is matched exactly above: a large counter (energy in mJ)
		// legitimately passes 0x7ffffff0.
		if s.Int >= backend.Int64Blank {
			return classBlank, true
		}
	case backend.TypeDouble:
		switch f := s.Float; {
		case math.IsNaN(f) || math.IsInf(f, 0):
			return classError, false
		case f == backend.FP64NotFound:
			return classNotFound, true
		case f == backend.FP64NotSupported:
			return classNotSupported, true
		case f == backend.FP64NotPermissioned:
			return classNoPermission, true
		case f >= backend.FP64Blank:
			return classBlank, true
		}
	case backend.TypeString:
		switch s.Str {
		case backend.StrBlank:
			return classBlank, true
		case backend.StrNotFound:
			return classNotFound, true
		case backend.StrNotSupported:
			return classNotSupported, true
		case backend.StrNotPermissioned:
			return classNoPermission, true
		}
	}
	return classValid, false
}

// numeric returns the sample's value as a number, if it has one.
func numeric(s backend.Sample) (float64, bool) {
	switch s.Type {
	case backend.TypeInt64, backend.TypeTimestamp:
		return float64(s.Int), true
	case backend.TypeDouble:
		return s.Float, true
	}
	return 0, false
}

// acc accumulates what polling saw for one field on one entity.
type acc struct {
	watchStart time.Time

	polls   int
	valid   int
	nonzero int
	min     float64
	max     float64
	hasNum  bool
	first   time.Duration
	hasTime bool
	ts      []int64 // distinct sample timestamps, in the order seen
	str     string  // last valid string value

	counts   [numClasses]int
	sentinel [numClasses]bool // the class was seen as a sentinel inside a value
	code     [numClasses]int  // last non-zero DCGM code seen for the class
	msg      string           // last read error message
}

// observe records one sample read at time at.
func (a *acc) observe(s backend.Sample, at time.Time) {
	a.polls++
	if s.TS != 0 && (len(a.ts) == 0 || a.ts[len(a.ts)-1] != s.TS) {
		a.ts = append(a.ts, s.TS)
	}
	c, bySentinel := sampleClass(s)
	a.counts[c]++
	a.sentinel[c] = a.sentinel[c] || bySentinel
	if s.Status != backend.CodeOK {
		a.code[c] = s.Status
	}
	if c != classValid {
		return
	}
	a.valid++
	if !a.hasTime {
		a.first, a.hasTime = at.Sub(a.watchStart), true
	}
	if v, ok := numeric(s); ok {
		if !a.hasNum || v < a.min {
			a.min = v
		}
		if !a.hasNum || v > a.max {
			a.max = v
		}
		a.hasNum = true
		if v != 0 {
			a.nonzero++
		}
		return
	}
	a.str = s.Str
	a.nonzero++ // a string or blob has no zero
}

// observeError records a failed read of the whole entity.
func (a *acc) observeError(code int, msg string) {
	a.polls++
	status := code
	if status == backend.CodeOK { // a message that maps to no code
		status = backend.CodeGenericError
	}
	c, _ := sampleClass(backend.Sample{Status: status})
	a.counts[c]++
	if code != backend.CodeOK {
		a.code[c] = code
	}
	a.msg = msg
}

// verdict turns what was seen into a status, code and detail.
func (a *acc) verdict(f Field) (report.Status, int, string) {
	switch {
	case a.valid > 0 && a.nonzero == 0:
		return report.StatusAvailableZero, 0, ""
	case a.valid > 0:
		return report.StatusAvailable, 0, ""
	case a.counts[classNoPermission] > 0:
		return report.StatusNoPermission, a.code[classNoPermission], a.why(classNoPermission, "NOT_PERMISSIONED")
	case a.counts[classNotSupported] > 0:
		return report.StatusNotSupported, a.code[classNotSupported], a.why(classNotSupported, "NOT_SUPPORTED")
	case a.counts[classNotFound] > 0:
		return report.StatusNotSupported, a.code[classNotFound], a.why(classNotFound, "NOT_FOUND")
	}
	st := report.StatusBlank
	if f.Kind == Event {
		st = report.StatusEventNoEvent
	}
	switch {
	case a.polls == 0:
		return st, 0, "not polled in the window"
	case a.counts[classBlank] > 0:
		return st, a.code[classBlank], a.why(classBlank, "BLANK")
	}
	detail := "read failed"
	if a.msg != "" {
		detail += ": " + a.msg
	}
	return st, a.code[classError], detail
}

func (a *acc) why(c valueClass, sentinel string) string {
	if a.sentinel[c] {
		return "value is the " + sentinel + " sentinel"
	}
	return ""
}

// samples summarises the accumulator for the report.
func (a *acc) samples() *report.Samples {
	s := &report.Samples{Polls: a.polls, Distinct: len(a.ts), Valid: a.valid}
	if a.hasNum {
		s.Min, s.Max = ptr(a.min), ptr(a.max)
	}
	if a.hasTime {
		s.FirstValidMS = ptr(ms(a.first))
	}
	if iv, ok := a.interval(); ok {
		s.IntervalMS = ptr(iv)
	}
	return s
}

// interval is the median gap between distinct timestamps, in ms.
func (a *acc) interval() (float64, bool) {
	if len(a.ts) < 2 {
		return 0, false
	}
	gaps := make([]float64, 0, len(a.ts)-1)
	for i := 1; i < len(a.ts); i++ {
		gaps = append(gaps, float64(a.ts[i]-a.ts[i-1])/1000)
	}
	slices.Sort(gaps)
	return round3(gaps[(len(gaps)-1)/2]), true
}

// dist summarises values with nearest-rank percentiles.
func dist(vs []float64) report.Dist {
	if len(vs) == 0 {
		return report.Dist{}
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(vs)))) - 1
		return vs[max(i, 0)]
	}
	return report.Dist{Count: len(vs), P50: rank(0.50), P95: rank(0.95), Max: vs[len(vs)-1]}
}

// ms converts to milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func ptr[T any](v T) *T { return &v }
