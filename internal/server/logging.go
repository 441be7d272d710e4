package server

import (
	"io"
	"log"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// NewLogger builds the process logger from log_level and log_format, with
// timestamps. Invalid values fall back to info and JSON (Validate reports
// them first).
func NewLogger(cfg *Config, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil || cfg.LogLevel == "" {
		level = zerolog.InfoLevel
	}
	if cfg.LogFormat == "text" {
		w = zerolog.ConsoleWriter{Out: w, NoColor: true, TimeFormat: time.RFC3339}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// newStdLogger routes net/http's own complaints (TLS handshakes, broken
// connections) into the structured log.
func newStdLogger(l zerolog.Logger) *log.Logger {
	return log.New(stdWriter{l}, "", 0)
}

type stdWriter struct{ l zerolog.Logger }

func (s stdWriter) Write(p []byte) (int, error) {
	s.l.Warn().Str("component", "http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
