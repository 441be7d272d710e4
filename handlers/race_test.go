//go:build race

package handlers_test

// raceEnabled: allocation figures differ under the race detector (sync.Pool
// drops items on purpose), so memory tests skip their bounds.
const raceEnabled = true
