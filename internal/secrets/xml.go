package secrets

import (
	"strings"
)

// Credentials in XML elements: Maven's settings.xml <password>, FileZilla's
// <Pass encoding="base64">, NuGet-style and application configs'
// <apiToken>…</apiToken>, the value on the same line or the next.

var (
	xmlElement = lazyRegexp(`<([A-Za-z][\w.:-]{0,64})(\s[^<>]{0,200})?>\s*([^<>\s][^<>]{0,512}?)\s*</([A-Za-z][\w.:-]{0,64})>`)
	// secret access key / secret key: AWS's SecretAccessKey element (STS, IAM responses)
	xmlSecret   = lazyRegexp(`(?i)(?:pass|passwd|password|passphrase|token|secret|api[_-]?key|secret[_-]?(?:access[_-]?)?key)$`)
	xmlCloudKey = lazyRegexp(`(?i)secret[_-]?access[_-]?key$`)
)

func analyseXMLElements(fs *fileScan, r *Rule) {
	data := fs.data
	for _, m := range xmlElement().FindAllSubmatchIndex(data, 1000) {
		tag := string(data[m[2]:m[3]])
		if tag != string(data[m[8]:m[9]]) || !xmlSecret().MatchString(tag) {
			continue
		}
		vs, ve := m[6], m[7]
		v := string(data[vs:ve])
		encoded := m[4] >= 0 && strings.Contains(string(data[m[4]:m[5]]), "base64")
		if len(v) < 6 || isPlaceholder(v) || templated(v) || strings.ContainsAny(v, " \t\n") ||
			(!encoded && entropy(v) < 2.5) {
			continue
		}
		tier := r.Tier
		if e := r.BootstrapIf; e != nil && (matchAny(e.Paths, fs.path, fs.base) || (r.escKey != nil && r.escKey.MatchString(fs.path))) {
			tier = Bootstrap
		}
		if xmlCloudKey().MatchString(tag) {
			tier = Bootstrap // an AWS secret access key: cloud control
		}
		ls, le := lineBounds(data, vs)
		c := candidate{
			rule: r, tier: tier, start: vs, end: ve,
			line: fs.lineAt(vs), col: vs - ls + 1, value: v,
		}
		c.allow, c.allowLine = lineAllow(data[ls:le], c.line)
		fs.cands = append(fs.cands, c)
	}
}
