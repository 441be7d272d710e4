//go:build race

package main

// raceEnabled: the race detector makes sync.Pool drop items and slows
// large inputs, so memory tests use smaller inputs and skip allocation
// bounds under it.
const raceEnabled = true
