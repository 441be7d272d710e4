package corpus

import "strings"

// Value builders. Prefixes are assembled from pieces so that this source
// holds no literal that looks like a credential.

func (g *Rand) ghp() string { return "gh" + "p_" + g.String(Alnum, 36) }
func (g *Rand) ghs() string { return "gh" + "s_" + g.String(Alnum, 36) }
func (g *Rand) ghu() string { return "gh" + "u_" + g.String(Alnum, 36) }
func (g *Rand) gho() string { return "gh" + "o_" + g.String(Alnum, 36) }
func (g *Rand) ghr() string { return "gh" + "r_" + g.String(Alnum, 76) }
func (g *Rand) ghFine() string {
	return "github" + "_pat_" + g.String(Alnum, 22) + "_" + g.String(Alnum, 59)
}
func (g *Rand) akia() string { return "AK" + "IA" + g.String(B32, 16) }
func (g *Rand) asia() string { return "AS" + "IA" + g.String(B32, 16) }
func (g *Rand) awsSecret() string {
	return g.String(B64[:62], 20) + "/" + g.String(B64, 19)
}
func (g *Rand) doToken(kind string) string { return "do" + kind + "_v1_" + g.String(Hex, 64) }
func (g *Rand) tfcToken() string {
	return g.String(Alnum, 14) + ".atlas" + "v1." + g.String(Alnum, 67)
}
func (g *Rand) vaultToken() string  { return "hv" + "s." + g.String(Alnum, 90) }
func (g *Rand) vaultLegacy() string { return "s." + g.String(Alnum, 24) }
func (g *Rand) infisicalST() string {
	return "s" + "t." + g.String(Hex, 24) + "." + g.String(Hex, 32) + "." + g.String(Hex, 32)
}
func (g *Rand) stripeLive() string { return "sk" + "_live_" + g.String(Alnum, 24) }
func (g *Rand) stripeRK() string   { return "rk" + "_live_" + g.String(Alnum, 48) }
func (g *Rand) stripeTest() string { return "sk" + "_test_" + g.String(Alnum, 24) }
func (g *Rand) slackBot() string {
	return "xo" + "xb-" + g.String(Digits, 12) + "-" + g.String(Digits, 13) + "-" + g.String(Alnum, 24)
}
func (g *Rand) slackWebhook() string {
	return "https://hooks.slack" + ".com/services/T" + g.String(Upper, 8) + "/B" + g.String(Upper, 10) + "/" + g.String(Alnum, 24)
}
func (g *Rand) sendgrid() string {
	return "S" + "G." + g.String(B64URL, 22) + "." + g.String(B64URL, 43)
}
func (g *Rand) twilioSK() string  { return "S" + "K" + g.String(Hex, 32) }
func (g *Rand) openai() string    { return "sk-" + "proj-" + g.String(B64URL, 156) }
func (g *Rand) anthropic() string { return "sk-" + "ant-api03-" + g.String(B64URL, 93) + "AA" }
func (g *Rand) npmToken() string  { return "np" + "m_" + g.String(Alnum, 36) }
func (g *Rand) pypiToken() string {
	return "py" + "pi-AgEIcHlwaS5vcmc" + g.String(B64URL, 150)
}
func (g *Rand) jwt() string {
	return "ey" + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.ey" + "J" + g.String(B64URL, 80) + "." + g.String(B64URL, 43)
}
func (g *Rand) azureAccountKey() string { return g.String(B64, 86) + "==" }
func (g *Rand) azureClientSecret() string {
	return g.String(Alnum, 3) + "8" + "Q~" + g.String(Alnum, 34)
}
func (g *Rand) password() string { return g.String(Alnum, 14) + "!" + g.String(Digits, 2) }

// pem builds a private-key block of the given type with indent before
// every line.
func (g *Rand) pem(typ, indent string, bodyLines int) []string {
	out := []string{indent + "-----BEGIN " + typ + "-----"}
	for range bodyLines {
		out = append(out, indent+g.String(B64, 64))
	}
	out = append(out, indent+g.String(B64, 24)+"==")
	out = append(out, indent+"-----END "+typ+"-----")
	return out
}

// pemJSON is a PEM block as a JSON string (escaped newlines).
func (g *Rand) pemJSON(typ string) string {
	return strings.Join(g.pem(typ, "", 8), `\n`) + `\n`
}
