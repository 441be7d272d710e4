package secrets

import "slices"

// mergeNote keeps, on the candidate that won an overlap, what the loser
// knew about where the value sits: a GitHub token in Atlantis's chart
// values is reported once, under the token format's rule id (a stable
// fingerprint), with the Atlantis context in its message and the stricter
// tier of the two.
func mergeNote(winner *candidate, loser candidate) {
	if winner.note == "" && loser.note != "" {
		winner.note = loser.note
	}
	if loser.note != "" && loser.tier == Bootstrap {
		winner.tier = Bootstrap
	}
	if loser.start >= 0 {
		// A loser that had itself won over a third rule passes its
		// former fingerprints on.
		for _, f := range loser.former {
			if !slices.Contains(winner.former, f) {
				winner.former = append(winner.former, f)
			}
		}
	}
	switch {
	case loser.start < 0 || loser.rule.ID == winner.rule.ID || slices.Contains(winner.former, [2]string{loser.rule.ID, loser.value}):
	case winner.note == noteBase64 && loser.note != noteBase64:
		// The encoded value was reported under the loser's rule before
		// decoding was added: that fingerprint keeps matching ignores.
		winner.former = append(winner.former, [2]string{loser.rule.ID, loser.value})
	case loser.value == winner.value:
		// The same value under a less specific rule (a generic assignment
		// a vendor or tool rule now takes over) was that rule's finding
		// before the winner existed: an ignore of it keeps matching.
		winner.former = append(winner.former, [2]string{loser.rule.ID, loser.value})
	}
}

// atlantisNote is the message context of a literal credential in
// Atlantis's chart values: whose credential it is and where it belongs.
func atlantisNote(group, key string) string {
	what, env := "", ""
	switch group + "." + key {
	case "github.token":
		what, env = "Atlantis's GitHub token", "ATLANTIS_GH_TOKEN"
	case "github.secret":
		what, env = "Atlantis's GitHub webhook secret", "ATLANTIS_GH_WEBHOOK_SECRET"
	case "githubApp.key":
		what, env = "Atlantis's GitHub App private key", "ATLANTIS_GH_APP_KEY"
	case "githubApp.secret":
		what, env = "Atlantis's GitHub App webhook secret", "ATLANTIS_GH_WEBHOOK_SECRET"
	case "gitlab.token":
		what, env = "Atlantis's GitLab token", "ATLANTIS_GITLAB_TOKEN"
	case "gitlab.secret":
		what, env = "Atlantis's GitLab webhook secret", "ATLANTIS_GITLAB_WEBHOOK_SECRET"
	case "bitbucket.token":
		what, env = "Atlantis's Bitbucket token", "ATLANTIS_BITBUCKET_TOKEN"
	case "bitbucket.secret":
		what, env = "Atlantis's Bitbucket webhook secret", "ATLANTIS_BITBUCKET_WEBHOOK_SECRET"
	case "azuredevops.token":
		what, env = "Atlantis's Azure DevOps token", "ATLANTIS_AZUREDEVOPS_TOKEN"
	case "azuredevops.webhookPassword":
		what, env = "Atlantis's Azure DevOps webhook password", "ATLANTIS_AZUREDEVOPS_WEBHOOK_PASSWORD"
	default:
		return ""
	}
	return what + " (`" + group + "." + key + "` in the Atlantis chart's values) is a Tier 1 credential: supply it at deploy time from the Atlantis environment (" + env + "), GitHub Secrets or a Terraform variable, not from a committed values file."
}
