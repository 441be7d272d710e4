package checkrun

import (
	"fmt"
	"io"
	"strings"
)

// WriteGitHub prints the annotations the App would post as GitHub Actions
// workflow commands (::error file=…,line=…,title=…::message), then one
// ::notice:: per check with its conclusion and title, and what the App
// would cut.
func WriteGitHub(w io.Writer, r Report) error {
	var b strings.Builder
	for _, c := range r.Checks {
		p := Post(c, r.MaxAnnotations)
		for _, a := range p.Annotations {
			fmt.Fprintf(&b, "::%s file=%s,line=%d,title=%s::%s\n", workflowLevel(a.Level),
				escapeProperty(a.Path), a.Line, escapeProperty(a.Title), escapeData(a.Message))
		}
		note := fmt.Sprintf("%s: %s — %s", c.Name, c.Conclusion, p.Title)
		if len(p.Cut) > 0 {
			note += " (on GitHub, the App's check run is shorter: " + strings.Join(p.Cut, "; ") + ")"
		}
		b.WriteString("::notice::" + escapeData(note) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func workflowLevel(level string) string {
	switch level {
	case LevelFailure:
		return "error"
	case LevelWarning:
		return "warning"
	}
	return "notice"
}

// escapeData escapes a workflow command's message as the Actions runner
// reads it back: a raw CR or LF would end the command and let the rest of
// the text start another one.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property value (file, title): also ":" and ",",
// which would end the value and start another property.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
