package server

import (
	"container/list"
	"sync"
	"time"
)

// maxGUIDLen bounds what the delivery log stores per entry; GitHub's GUIDs
// are 36 characters.
const maxGUIDLen = 128

// deliveryLog remembers delivery GUIDs that were accepted (queued, running or
// completed) so a redelivery is acknowledged without being handled twice.
// A GUID whose handling was refused or failed is forgotten, so GitHub's
// redelivery (same GUID) is handled. Memory is bounded by max entries and a
// time window; it lives in this process only (one replica by default).
type deliveryLog struct {
	mu      sync.Mutex
	window  time.Duration
	max     int
	entries map[string]*list.Element
	order   *list.List // of *deliveryEntry, oldest first
	now     func() time.Time
}

type deliveryEntry struct {
	id   string
	at   time.Time
	done bool
}

// newDeliveryLog returns nil (de-duplication off) when window or max is 0.
func newDeliveryLog(window time.Duration, max int) *deliveryLog {
	if window <= 0 || max <= 0 {
		return nil
	}
	return &deliveryLog{window: window, max: max, entries: map[string]*list.Element{}, order: list.New(), now: time.Now}
}

// claim records id as accepted and reports true, or reports false and
// whether the earlier delivery completed when id is already remembered.
func (l *deliveryLog) claim(id string) (ok, completed bool) {
	if l == nil || id == "" || len(id) > maxGUIDLen {
		return true, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for e := l.order.Front(); e != nil && now.Sub(e.Value.(*deliveryEntry).at) > l.window; e = l.order.Front() {
		l.remove(e)
	}
	if e, seen := l.entries[id]; seen {
		return false, e.Value.(*deliveryEntry).done
	}
	if l.order.Len() >= l.max {
		l.remove(l.order.Front())
	}
	l.entries[id] = l.order.PushBack(&deliveryEntry{id: id, at: now})
	return true, false
}

// complete marks id as handled successfully.
func (l *deliveryLog) complete(id string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.entries[id]; ok {
		e.Value.(*deliveryEntry).done = true
	}
}

// forget drops id, so its next delivery is handled.
func (l *deliveryLog) forget(id string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.entries[id]; ok {
		l.remove(e)
	}
}

// remembered reports whether id is held (accepted and not forgotten).
func (l *deliveryLog) remembered(id string) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.entries[id]
	return ok
}

func (l *deliveryLog) remove(e *list.Element) {
	l.order.Remove(e)
	delete(l.entries, e.Value.(*deliveryEntry).id)
}
