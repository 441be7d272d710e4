//go:build !race

package secrets_test

const raceEnabled = false
