package gpuprobe

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

func TestSampleClass(t *testing.T) {
	i := func(v int64) backend.Sample { return backend.Sample{Type: backend.TypeInt64, Int: v} }
	d := func(v float64) backend.Sample { return backend.Sample{Type: backend.TypeDouble, Float: v} }
	s := func(v string) backend.Sample { return backend.Sample{Type: backend.TypeString, Str: v} }
	st := func(code int) backend.Sample { return backend.Sample{Type: backend.TypeInt64, Status: code} }

	tests := []struct {
		name       string
		in         backend.Sample
		want       valueClass
		bySentinel bool
	}{
		{"an ordinary integer is valid", i(1980), classValid, false},
		{"zero is valid", i(0), classValid, false},
		{"an energy counter past the int32 sentinels is valid", i(backend.Int32Blank + 100), classValid, false},
		{"the int64 blank is blank", i(backend.Int64Blank), classBlank, true},
		{"the widened int32 blank is blank", i(backend.Int32Blank), classBlank, true},
		{"the int64 not-supported value users saw in Prometheus is not supported", i(9223372036854775794), classNotSupported, true},
		{"the widened int32 not-supported is not supported", i(backend.Int32NotSupported), classNotSupported, true},
		{"the int32 not-permissioned is no permission", i(backend.Int32NotPermissioned), classNoPermission, true},
		{"the int64 not-found is not found", i(backend.Int64NotFound), classNotFound, true},
		{"anything above the int64 blank is blank, as DCGM decides", i(math.MaxInt64), classBlank, true},
		{"an ordinary double is valid", d(0.42), classValid, false},
		{"the fp64 blank is blank", d(backend.FP64Blank), classBlank, true},
		{"the fp64 not-supported is not supported", d(backend.FP64NotSupported), classNotSupported, true},
		{"the fp64 not-permissioned is no permission", d(backend.FP64NotPermissioned), classNoPermission, true},
		{"a NaN double is an error", d(math.NaN()), classError, false},
		{"a string is valid", s("570.124.06"), classValid, false},
		{"the string blank is blank", s(backend.StrBlank), classBlank, true},
		{"the string not-supported is not supported", s(backend.StrNotSupported), classNotSupported, true},
		{"status not supported wins over the value", st(backend.CodeNotSupported), classNotSupported, false},
		{"status no data is blank", st(backend.CodeNoData), classBlank, false},
		{"status not watched is blank", st(backend.CodeNotWatched), classBlank, false},
		{"status no permission is no permission", st(backend.CodeNoPermission), classNoPermission, false},
		{"a missing nvml function is not supported", st(backend.CodeFunctionNotFound), classNotSupported, false},
		{"any other status is an error", st(backend.CodeGenericError), classError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bySentinel := sampleClass(tt.in)
			if got != tt.want || bySentinel != tt.bySentinel {
				t.Errorf("sampleClass = %v, %v; want %v, %v", got, bySentinel, tt.want, tt.bySentinel)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	gauge := Field{ID: 203, Type: 'i', Kind: Gauge}
	event := Field{ID: 230, Type: 'i', Kind: Event}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := start.Add(250 * time.Millisecond)
	i := func(v int64) backend.Sample { return backend.Sample{Type: backend.TypeInt64, Int: v, TS: 1} }

	type want struct {
		Status report.Status
		Code   int
		Detail string
	}
	tests := []struct {
		name    string
		field   Field
		samples []backend.Sample
		errs    []*backend.Error
		want    want
	}{
		{"one non-zero value makes a field available", gauge, []backend.Sample{i(0), i(5)}, nil,
			want{Status: report.StatusAvailable}},
		{"only zeros make it available_zero", gauge, []backend.Sample{i(0), i(0)}, nil,
			want{Status: report.StatusAvailableZero}},
		{"a valid value beats earlier blanks", gauge, []backend.Sample{i(backend.Int64Blank), i(7)}, nil,
			want{Status: report.StatusAvailable}},
		{"blank throughout is blank", gauge, []backend.Sample{i(backend.Int64Blank)}, nil,
			want{report.StatusBlank, 0, "value is the BLANK sentinel"}},
		{"blank throughout on an event field is event_no_event", event, []backend.Sample{i(backend.Int64Blank)}, nil,
			want{report.StatusEventNoEvent, 0, "value is the BLANK sentinel"}},
		{"no data on an event field is event_no_event with the code", event,
			[]backend.Sample{{Type: backend.TypeInt64, Status: backend.CodeNoData}}, nil,
			want{Status: report.StatusEventNoEvent, Code: backend.CodeNoData}},
		{"a not-supported sentinel is not_supported", gauge, []backend.Sample{i(backend.Int32NotSupported)}, nil,
			want{report.StatusNotSupported, 0, "value is the NOT_SUPPORTED sentinel"}},
		{"a not-found sentinel is not_supported too", gauge, []backend.Sample{i(backend.Int64NotFound)}, nil,
			want{report.StatusNotSupported, 0, "value is the NOT_FOUND sentinel"}},
		{"no permission outranks not supported", gauge, []backend.Sample{i(backend.Int64NotSupported), i(backend.Int64NotPermissioned)}, nil,
			want{report.StatusNoPermission, 0, "value is the NOT_PERMISSIONED sentinel"}},
		{"a failing read with a code keeps the code", gauge, nil,
			[]*backend.Error{{Op: "latest", Code: backend.CodeNotSupported, Msg: "Feature not supported"}},
			want{Status: report.StatusNotSupported, Code: backend.CodeNotSupported}},
		{"a failing read without a code is blank with the message", gauge, nil,
			[]*backend.Error{{Op: "latest", Msg: "connection reset"}},
			want{report.StatusBlank, 0, "read failed: connection reset"}},
		{"a field never polled is blank and says so", gauge, nil, nil,
			want{report.StatusBlank, 0, "not polled in the window"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &acc{watchStart: start}
			for _, s := range tt.samples {
				a.observe(s, at)
			}
			for _, e := range tt.errs {
				a.observeError(e.Code, e.Msg)
			}
			var got want
			got.Status, got.Code, got.Detail = a.verdict(tt.field)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSamplesSummary(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &acc{watchStart: start}
	// Two polls per sample period: distinct timestamps 1 s apart.
	for k, ts := range []int64{0, 0, 1_000_000, 1_000_000, 2_000_000} {
		v := int64(10 + k)
		if k == 0 {
			v = backend.Int64Blank
		}
		a.observe(backend.Sample{Type: backend.TypeInt64, Int: v, TS: 1_700_000_000_000_000 + ts},
			start.Add(time.Duration(k)*250*time.Millisecond))
	}
	got := a.samples()
	want := &report.Samples{Polls: 5, Distinct: 3, Valid: 4, Min: ptr(11.0), Max: ptr(14.0), FirstValidMS: ptr(250.0), IntervalMS: ptr(1000.0)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
}

func TestDistUsesNearestRank(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want report.Dist
	}{
		{"no values give a zero count", nil, report.Dist{}},
		{"one value is every percentile", []float64{7}, report.Dist{Count: 1, P50: 7, P95: 7, Max: 7}},
		{"twenty values pick the 10th and 19th", []float64{20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1},
			report.Dist{Count: 20, P50: 10, P95: 19, Max: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, dist(tt.in)); diff != "" {
				t.Errorf("dist (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	tests := []struct {
		name    string
		in      Options
		wantErr string
	}{
		{"the zero value probes every field", Options{}, ""},
		{"a negative window is refused", Options{Window: -time.Second}, "gpuprobe options: window -1s is negative"},
		{"a sub-millisecond interval is refused", Options{Interval: time.Microsecond}, "gpuprobe options: interval 1µs is below 1ms"},
		{"a field outside the set is refused", Options{Fields: []uint16{203, 9999}}, "gpuprobe options: field ids 9999 are not in the gpu field set"},
		{"an empty field list is refused", Options{Fields: []uint16{}}, "gpuprobe options: no fields to probe"},
		{"an unknown capability is refused", Options{Require: []string{"dcp", "tensorcores"}},
			`gpuprobe options: unknown capability "tensorcores"; want one of dcp, ecc, mig, nvlink, throttle, xid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.in.defaults()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Window != DefaultWindow || o.Interval != DefaultInterval || o.Poll != DefaultInterval/4 || len(o.Fields) != len(catalog) || o.Clock == nil {
				t.Errorf("defaults = %+v", o)
			}
		})
	}
}
