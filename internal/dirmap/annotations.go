package dirmap

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// AnnotationRule declares the values one annotation may take. Values and
// Pattern exclude each other; with neither, any value is accepted (the rule
// may still verify Namespace against the manifests).
type AnnotationRule struct {
	Key string // matched case-insensitively against the map's keys
	// Values are the accepted values, compared case-sensitively.
	Values []string
	// Pattern must match the whole value; the caller compiles it anchored.
	Pattern *regexp.Regexp
	// PatternText is the pattern as configured, for messages.
	PatternText string
	// VerifyManifests compares the entry's Namespace with the namespaces
	// the manifests under it deploy into (Namespace only).
	VerifyManifests bool
	// Level of namespace-drift findings; "" means warning.
	Level Level
}

// allows reports whether v is a declared value of the rule.
func (r *AnnotationRule) allows(v string) bool {
	switch {
	case len(r.Values) > 0:
		for _, a := range r.Values {
			if a == v {
				return true
			}
		}
		return false
	case r.Pattern != nil:
		return r.Pattern.MatchString(v)
	}
	return true
}

// expected says what the rule accepts, for messages.
func (r *AnnotationRule) expected() string {
	if len(r.Values) > 0 {
		quoted := make([]string, len(r.Values))
		for i, v := range r.Values {
			quoted[i] = strconv.Quote(v)
		}
		return "one of " + strings.Join(quoted, ", ")
	}
	return "a value matching the pattern " + strconv.Quote(r.PatternText)
}

// rule returns the declared rule for key, if any.
func (o *Options) rule(key string) *AnnotationRule {
	for i := range o.Annotations {
		if strings.EqualFold(o.Annotations[i].Key, key) {
			return &o.Annotations[i]
		}
	}
	return nil
}

// invalidAnnotations reports declared annotations whose value is outside
// what the config allows. TODO and empty values are left to incomplete.
func (c *checker) invalidAnnotations(e *Entry) {
	for i := range c.opts.Annotations {
		r := &c.opts.Annotations[i]
		if len(r.Values) == 0 && r.Pattern == nil {
			continue
		}
		v, ok := e.Annotation(r.Key)
		if !ok || isMissingValue(v) || r.allows(v) {
			continue
		}
		level := LevelWarning
		if c.changed(e) {
			level = LevelFailure
		}
		c.add(Finding{Kind: KindInvalidAnnotation, Path: e.Path, File: c.opts.MapPath, Line: e.Line, Level: level,
			Message: fmt.Sprintf("%s has %s %s, which the config does not declare: use %s (dirs.annotations.%s).", e.Path, r.Key, quoteValue(v), r.expected(), r.Key)})
	}
}

// quoteValue shows a map or manifest value in messages; the renderers
// escape messages for where they are shown.
func quoteValue(v string) string { return strconv.Quote(v) }
