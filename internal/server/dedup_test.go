package server

import (
	"testing"
	"time"
)

func TestDeliveryLog(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newDeliveryLog(time.Hour, 3)
	l.now = func() time.Time { return now }

	claim := func(id string) bool { ok, _ := l.claim(id); return ok }
	if !claim("a") || claim("a") {
		t.Fatal("a second claim of an accepted GUID must fail")
	}
	if _, completed := l.claim("a"); completed {
		t.Error("a is not completed yet")
	}
	l.complete("a")
	if _, completed := l.claim("a"); !completed {
		t.Error("a should report completed")
	}
	l.forget("a")
	if !claim("a") {
		t.Error("a forgotten GUID can be claimed again")
	}

	// Bounded: the oldest entry goes first.
	claim("b")
	claim("c")
	claim("d") // evicts a
	if !claim("a") {
		t.Error("a should have been evicted by capacity")
	}

	// Expiry.
	now = now.Add(2 * time.Hour)
	for _, id := range []string{"b", "c", "d"} {
		if !claim(id) {
			t.Errorf("%s should have expired", id)
		}
	}

	// No GUID, an absurd GUID, or a disabled log: never de-duplicated.
	if !claim("") || !claim("") {
		t.Error("empty GUIDs are never de-duplicated")
	}
	var off *deliveryLog = newDeliveryLog(0, 10)
	if ok, _ := off.claim("x"); !ok {
		t.Error("disabled log must accept")
	}
	if ok, _ := off.claim("x"); !ok {
		t.Error("disabled log must accept again")
	}
	off.complete("x")
	off.forget("x")
}
