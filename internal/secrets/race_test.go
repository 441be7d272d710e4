//go:build race

package secrets_test

// raceEnabled: the race detector makes sync.Pool drop items on purpose, so
// allocation counts say nothing about the scanner's memory.
const raceEnabled = true
