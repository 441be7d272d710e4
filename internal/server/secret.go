package server

import (
	"fmt"
	"log/slog"

	"github.com/rs/zerolog"
)

const redacted = "REDACTED"

// Secret is a credential (the App's private key, the webhook secret). Every
// way of printing or encoding it gives REDACTED, so a config dump, a log
// line or an error message cannot leak it; Bytes is the one way out.
type Secret struct {
	b []byte
}

// NewSecret wraps b; the caller must not modify b afterwards.
func NewSecret(b []byte) Secret { return Secret{b: b} }

// IsSet reports whether the secret has a non-empty value.
func (s Secret) IsSet() bool { return len(s.b) > 0 }

// Bytes returns a copy of the secret's value.
func (s Secret) Bytes() []byte { return append([]byte(nil), s.b...) }

// String, GoString, Format and the marshalers all print REDACTED.
func (s Secret) String() string { return redacted }

// GoString covers %#v.
func (s Secret) GoString() string { return redacted }

// Format covers every fmt verb (%x, %q, %+v …), which would otherwise reach
// the bytes behind String.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON covers encoding/json and zerolog's Interface.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText covers encoders that prefer text (YAML, map keys).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalZerologObject covers zerolog's Object.
func (s Secret) MarshalZerologObject(e *zerolog.Event) { e.Str("value", redacted) }

// LogValue covers log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
