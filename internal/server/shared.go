package server

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
)

// NewBackend returns the state the replicas share: in Redis when
// redis_url is set, else in this process (one replica).
func NewBackend(cfg *Config, m *metrics.Metrics) (*coord.Backend, error) {
	if !cfg.RedisURL.IsSet() {
		return memoryBackend(cfg), nil
	}
	o := coord.RedisOptions{
		URL:         string(cfg.RedisURL.Bytes()),
		Password:    string(cfg.RedisPassword.Bytes()),
		Prefix:      cfg.RedisPrefix,
		DedupWindow: cfg.DedupWindow,
		Queue:       cfg.queueOptions(),
	}
	if cfg.RedisCAFile != "" {
		pem, err := os.ReadFile(cfg.RedisCAFile)
		if err != nil {
			return nil, fmt.Errorf("redis_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis_ca_file %s: no PEM certificate in it", cfg.RedisCAFile)
		}
		o.RootCAs = pool
	}
	if m != nil {
		o.Observe = m.RedisOp
	}
	return coord.NewRedis(o)
}

func memoryBackend(cfg *Config) *coord.Backend {
	size := cfg.DedupSize
	if cfg.DedupWindow <= 0 {
		size = 0
	}
	return coord.NewMemory(coord.MemoryOptions{DedupWindow: cfg.DedupWindow, DedupSize: size, Queue: cfg.queueOptions()})
}

func (c *Config) queueOptions() coord.QueueOptions {
	return coord.QueueOptions{Capacity: c.QueueSize, Share: c.queueShare(), ReclaimIdle: c.ReclaimIdle}
}

// queueShare is the fraction of the queue one installation may hold.
func (c *Config) queueShare() float64 {
	if c.QueueShare <= 0 {
		return 0.5
	}
	return float64(c.QueueShare) / 100
}

// consumerName names this process in the shared queue: the host (the pod)
// and a random part, since a restarted pod is another consumer.
func consumerName() string {
	host, _ := os.Hostname()
	if len(host) > 64 {
		host = host[:64]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}
