//go:build race

package slotest

// raceEnabled shortens the simulations under the race detector, which
// slows the PromQL engine about tenfold.
const raceEnabled = true
