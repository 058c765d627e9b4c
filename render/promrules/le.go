package promrules

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/aiobs/aiobs/compile/plan"
)

// LeRegex returns an RE2 pattern, for an le=~ matcher, that matches every
// spelling of the histogram bound v that exporters and Prometheus write:
//
//   - Go clients and Prometheus 2 keep the client's text: "0.5", "1", "1e+06";
//   - Python clients write "1.0", "2560.0", "1e+06";
//   - Prometheus 3 rewrites classic-histogram le values on ingestion to
//     its OpenMetrics float form, "1.0", "0.5", "2560.0", "1e+06".
//
// An le="…" equality matcher written from the decision's text silently
// matches nothing once one of these rewrites applies (pyrra#1611,
// LLMKube#1443). The pattern is built from the float's shortest decimal
// digits, so every alternative denotes exactly v: the plain form with any
// number of trailing zeros after the point, and the exponent form with an
// optional sign and leading zeros in the exponent. No spelling of a
// different float64 matches, so a neighbouring bucket is never counted.
func LeRegex(v float64) string {
	if math.IsInf(v, 1) {
		return `\+Inf`
	}
	neg := ""
	if v < 0 {
		neg, v = "-", -v
	}
	// 'e' with precision -1 gives the shortest digits that round-trip:
	// d.ddde±XX.
	s := strconv.FormatFloat(v, 'e', -1, 64)
	mant, expText, _ := strings.Cut(s, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expText)
	if v == 0 {
		digits, exp = "0", 0
	}

	var plain string
	switch {
	case exp >= len(digits)-1: // an integer
		plain = digits + strings.Repeat("0", exp-len(digits)+1) + `(\.0*)?`
	case exp >= 0:
		plain = digits[:exp+1] + `\.` + digits[exp+1:] + `0*`
	default:
		plain = `0\.` + strings.Repeat("0", -exp-1) + digits + `0*`
	}

	m := digits[:1] + `(\.0*)?`
	if len(digits) > 1 {
		m = digits[:1] + `\.` + digits[1:] + `0*`
	}
	sign := `\+?`
	if exp < 0 {
		sign = `-`
	}
	expForm := m + `[eE]` + sign + `0*` + strconv.Itoa(abs(exp))
	if neg != "" {
		return `-(` + plain + `|` + expForm + `)`
	}
	return plain + `|` + expForm
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// bucketBound finds the bucket of s that equals a latency threshold, in the
// series' unit, and returns it as a float. compile has already refused a
// threshold that is not a bucket bound; this re-finds it.
func bucketBound(s plan.Series, threshold string) (float64, error) {
	d, err := parseDuration(threshold)
	if err != nil {
		return 0, fmt.Errorf("latency threshold: %w", err)
	}
	unit := time.Second
	switch s.Unit {
	case "ms":
		unit = time.Millisecond
	case "µs":
		unit = time.Microsecond
	}
	want := new(big.Rat).SetFrac64(d.Nanoseconds(), unit.Nanoseconds())
	for _, b := range s.Buckets {
		r, ok := new(big.Rat).SetString(b)
		if ok && r.Cmp(want) == 0 {
			f, _ := r.Float64()
			return f, nil
		}
	}
	return 0, fmt.Errorf("%s is not a bucket bound of %s", threshold, s.Name)
}
