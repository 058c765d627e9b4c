//go:build !race

package slotest

const raceEnabled = false
