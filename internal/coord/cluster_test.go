package coord_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/redistest"
)

// The suite against a Redis Cluster of three masters started by the test:
// the keys one command or script touches together share a hash tag and so
// live on one node, and the client follows the slots to the others.
func TestRedisCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	r := redisAt(c.URL())
	for _, tc := range []struct {
		name string
		test func(*testing.T, replicas)
	}{
		{"Deliveries", testDeliveries}, {"Locks", testLocks}, {"Limits", testLimits},
		{"Budgets", testBudgets}, {"Slots", testSlots}, {"Deferred", testDeferred},
		{"QueueAdmission", testQueueAdmission}, {"QueuePriority", testQueuePriority},
		{"QueuePopWaits", testQueuePopWaits}, {"Leader", testLeader},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, r) })
	}
	t.Run("QueueReclaim", func(t *testing.T) { testReclaim(t, c.URL()) })
	t.Run("QueuePrune", func(t *testing.T) { testPrune(t, c.URL()) })

	// The suite's keys were spread over the nodes, not all on one.
	holding := 0
	for _, n := range c.Nodes {
		cl := redis.NewClient(&redis.Options{Addr: n.Addr()})
		keys, err := cl.DBSize(context.Background()).Result()
		cl.Close()
		must(t, err)
		if keys > 0 {
			holding++
		}
	}
	if holding < 2 {
		t.Errorf("the suite's keys are on %d of 3 nodes: the cluster's routing was not exercised", holding)
	}
}

func TestParseRedisClusterURL(t *testing.T) {
	o, err := coord.ParseRedisURL("redis+cluster://:pw@10.0.0.1:7000,10.0.0.2,10.0.0.3:7002")
	must(t, err)
	if !o.IsClusterMode || len(o.Addrs) != 3 || o.Addrs[1] != "10.0.0.2:6379" || o.Password != "pw" || o.TLSConfig != nil {
		t.Errorf("options %+v", o)
	}
	if o, err := coord.ParseRedisURL("rediss+cluster://node:7000"); err != nil || !o.IsClusterMode || o.TLSConfig == nil {
		t.Errorf("rediss+cluster: %+v, %v", o, err)
	}
	if _, err := coord.ParseRedisURL("redis+cluster://node:7000/2"); err == nil {
		t.Error("a database number was accepted for a cluster")
	}
}
