package checkrun

import (
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
)

// RuleMeta describes a rule for SARIF's tool.driver.rules.
type RuleMeta struct {
	ID          string
	Description string
	Tier        string
	Help        string
}

// dirsRules describe the dirs check's kinds as SARIF rules.
var dirsRules = map[string]string{
	"unregistered":       "A new directory is not registered in the directory map.",
	"stale":              "A directory map entry names a directory that does not exist.",
	"realised":           "A planned directory map entry now exists.",
	"incomplete":         "A directory map entry lacks a required annotation.",
	"invalid-annotation": "A directory map entry has an annotation value the config does not declare.",
	"namespace-drift":    "A manifest deploys into another namespace than its directory map entry says.",
	"malformed-map":      "A directory map line cannot be used.",
	"missing-map":        "The directory map is missing.",
}

// secretsKinds describe the secrets check's findings that are not a
// rule's match.
var secretsKinds = map[string]string{
	KindNotScanned: "A file's content was not scanned (too large, unreadable, cut by the deadline, or binary).",
	KindCapped:     "More matches of a rule in one file than are listed.",
}

// WriteSARIF prints the report as SARIF 2.1.0, as GitHub code scanning
// accepts it: one run, rule metadata, a location and partial fingerprints
// per result. Suppressed secret findings carry a SARIF suppression.
func WriteSARIF(w io.Writer, r Report, rules []RuleMeta, version string) error {
	type msg struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID               string            `json:"id"`
		Name             string            `json:"name"`
		ShortDescription msg               `json:"shortDescription"`
		FullDescription  msg               `json:"fullDescription"`
		Help             msg               `json:"help"`
		Properties       map[string]any    `json:"properties,omitempty"`
		DefaultConfig    map[string]string `json:"defaultConfiguration"`
	}
	type region struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	type physical struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region region `json:"region"`
	}
	type location struct {
		PhysicalLocation physical `json:"physicalLocation"`
	}
	type suppression struct {
		Kind          string `json:"kind"`
		Justification string `json:"justification,omitempty"`
	}
	type result struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             msg               `json:"message"`
		Locations           []location        `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]any    `json:"properties,omitempty"`
		Suppressions        []suppression     `json:"suppressions,omitempty"`
	}
	var ruleList []rule
	index := map[string]int{}
	addRule := func(id, desc, help string, props map[string]any, level string) {
		if _, ok := index[id]; ok {
			return
		}
		index[id] = len(ruleList)
		ruleList = append(ruleList, rule{ID: id, Name: sarifName(id), ShortDescription: msg{desc}, FullDescription: msg{desc},
			Help: msg{help}, Properties: props, DefaultConfig: map[string]string{"level": level}})
	}
	for _, c := range r.Checks {
		if c.Name == NameDirs {
			kinds := make([]string, 0, len(dirsRules))
			for k := range dirsRules {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			for _, k := range kinds {
				addRule("dirs/"+k, dirsRules[k], "Register directories in the directory map (docs/dirmap.md).", map[string]any{"tags": []string{"maintainability"}}, "error")
			}
		}
		if c.Name == NameSecrets {
			for _, m := range rules {
				addRule(m.ID, m.Description, m.Help, map[string]any{"tags": []string{"security", "secret", m.Tier}, "security-severity": severity(m.Tier)}, "error")
			}
		}
	}
	results := []result{}
	seenFP := map[string]int{}
	for _, c := range r.Checks {
		for _, f := range c.Findings {
			id := "dirs/" + f.Kind
			if c.Name == NameSecrets && f.Secret == nil {
				// not-scanned, capped: about the scan, not a rule's match
				id = "secrets/" + f.Kind
				if _, ok := index[id]; !ok {
					addRule(id, secretsKinds[f.Kind], "Keep every file scannable: see docs/secrets.md (limits).", map[string]any{"tags": []string{"security"}}, "error")
				}
			}
			fp := map[string]string{"housekeeper/v1": f.Kind + ":" + f.Path}
			props := map[string]any{}
			if f.Secret != nil {
				id = f.Rule
				fp = map[string]string{"housekeeper/v1": f.Fingerprint}
				props["tier"] = f.Tier
				if f.Commit != "" {
					props["commit"] = f.Commit
				}
				if _, ok := index[id]; !ok {
					addRule(id, id, "", nil, "error")
				}
			}
			file := f.File
			if file == "" {
				file = f.Path
			}
			// Code scanning merges results that share a fingerprint: the
			// second and later copies of a value (or finding kind) in a
			// file are told apart by their order, which stays stable
			// while the copies do.
			seenFP[fp["housekeeper/v1"]]++
			if n := seenFP[fp["housekeeper/v1"]]; n > 1 {
				fp["housekeeper/v1"] += "#" + strconv.Itoa(n)
			}
			var loc location
			loc.PhysicalLocation.ArtifactLocation.URI = file
			loc.PhysicalLocation.Region = region{StartLine: max(f.Line, 1)}
			if f.Secret != nil && f.Column > 0 {
				loc.PhysicalLocation.Region.StartColumn = f.Column
			}
			res := result{RuleID: id, RuleIndex: index[id], Level: sarifLevel(f.Level), Message: msg{f.Message},
				Locations: []location{loc}, PartialFingerprints: fp}
			if len(props) > 0 {
				res.Properties = props
			}
			if f.Secret != nil && f.Suppressed {
				res.Suppressions = []suppression{{Kind: "external", Justification: f.SuppressedBy}}
			}
			results = append(results, res)
		}
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool": map[string]any{"driver": map[string]any{
				"name": "housekeeper", "version": version, "informationUri": "https://github.com/housekeeper-app/housekeeper",
				"rules": ruleList,
			}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func sarifLevel(l string) string {
	switch l {
	case LevelFailure:
		return "error"
	case LevelWarning:
		return "warning"
	}
	return "note"
}

// severity feeds code scanning's security-severity (CVSS-like, 0–10).
func severity(tier string) string {
	if tier == "bootstrap" {
		return "9.0"
	}
	return "7.5"
}

func sarifName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		if r == '-' || r == '/' || r == '_' {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}
