package compile

import (
	"math/big"
	"strings"
	"time"
)

// Factor is the burn-rate factor of a tier: the multiple of the sustainable
// error rate that spends budgetPercent of the period's budget within the long
// window. For 2% of 30 days in 1 hour it is 14.4.
func Factor(budgetPercent string, period, long time.Duration) *big.Rat {
	f, ok := new(big.Rat).SetString(budgetPercent)
	if !ok || long <= 0 {
		return new(big.Rat)
	}
	f.Quo(f, big.NewRat(100, 1))
	return f.Mul(f, new(big.Rat).SetFrac64(int64(period), int64(long)))
}

// FormatRat prints r as a plain decimal: exactly when it terminates within
// nine places (14.4, 0.005), else rounded to nine places, with trailing
// zeros dropped. No exponent, so PromQL and people read it alike.
func FormatRat(r *big.Rat) string {
	s := r.FloatString(9)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
