package secrets

// VendorExample is a credential-shaped value that a vendor publishes
// itself, in its SDKs' tests and samples or its documentation, as
// AWS publishes AKIAIOSFODNN7EXAMPLE. Whoever vendors that SDK or copies
// that page carries the value; it is public by the vendor's own hand and
// is not a leak.
type VendorExample struct {
	Value  string
	Vendor string
	Source string // where the vendor publishes it
}

// vendorExamples lists each value checked, one by one, to appear in the
// vendor's own public material (not merely in another scanner's allow
// list). Only a finding whose whole value is one of them is dropped; a
// value that merely contains one is still reported.
var vendorExamples = []VendorExample{
	{"AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ", "Google (Firebase)", "Firebase JS SDK installations precondition-checks tests; Firebase Android SDK installations tests (testApiKeyCheck)"},
	{"AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM", "Google (Firebase)", "Firebase JS SDK installations precondition-checks tests; Firebase Android SDK installations tests (testApiKeyCheck)"},
	{"AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY", "Google (Firebase)", "Firebase JS SDK installations precondition-checks tests; Firebase Android SDK installations tests (testApiKeyCheck)"},
	{"AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4", "Google (Firebase)", "Firebase JS SDK installations precondition-checks tests; Firebase Android SDK installations tests (testApiKeyCheck)"},
	{"AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c", "Google (Firebase)", "Firebase JS SDK installations precondition-checks tests; Firebase Android SDK installations tests (testApiKeyCheck)"},
	{"AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs", "Google (Firebase)", "Firebase JS SDK installations precondition-checks tests; Firebase Android SDK installations tests (testApiKeyCheck)"},
	{"AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM", "Google (Firebase)", "Firebase Android SDK storage tests (TestUtil)"},
	{"AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU", "Google (Firebase)", "Firebase Android SDK storage instrumented tests (StorageRegistrarTest)"},
	{"AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0", "Google (Firebase)", "Firebase Android SDK common tests (FirebaseOptionsTest)"},
	{"AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g", "Google (Firebase)", "Firebase Android SDK messaging test helper (MessagingTestHelper)"},
	{"AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU", "Google (Firebase)", "Firebase Android SDK messaging test helper (FirebaseIidRoboTestHelper)"},
	{"AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw", "Google (Firebase)", "Firebase Android SDK performance tests (FirebasePerformanceTest)"},
	{"33f!!lloppa", "Microsoft (NuGet)", `NuGet docs, "nuget.config reference", packageSourceCredentials example with unencrypted passwords`},
	{"hal+9ooo_da!sY", "Microsoft (NuGet)", `NuGet docs, "nuget.config reference", packageSourceCredentials example with unencrypted passwords`},
	{"6fe4476ee5a1832882e326b506d14126", "Yarn", "Yarn CLI source (yarnpkg/berry plugin-interactive-tools, algolia.ts): the public search-only key of the npm-search index"},
	{"gho_16C7e42F292c6912E7710c838347Ae178B4a", "GitHub", `GitHub Docs, "Authorizing OAuth apps" (docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps; github/docs content/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps.md): the access_token of every sample response, web and device flow`},
	{"ghu_16C7e42F292c6912E7710c838347Ae178B4a", "GitHub", `GitHub Docs, "Identifying and authorizing users for GitHub Apps" (github/docs content/developers/apps/building-github-apps/identifying-and-authorizing-users-for-github-apps.md): the access_token of the sample user-to-server token response`},
	{"ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498", "GitHub", `GitHub Docs, "Identifying and authorizing users for GitHub Apps": the refresh_token of the same sample response`},
	{"6a174c20-f6de-a53c-74d2-6018fcceff64", "HashiCorp (Vault)", `Vault docs, "AppRole auth method" (developer.hashicorp.com/vault/docs/auth/approle; hashicorp/vault website/content/docs/auth/approle/index.mdx): the secret_id of the CLI login and secret-id examples`},
	{"37b74931-c4cd-d49a-9246-ccc62d682a25", "HashiCorp (Vault)", `Vault docs, "AppRole auth method": the secret_id of the API secret-id response example`},
	{"D1fficultP%40ssw0rd", "MongoDB", `MongoDB Manual, "Connection String Examples" (mongodb.com/docs/manual/reference/connection-string-self-managed-examples): the password of every sample URI, mongodb+srv://myDatabaseUser:…@mongodb0.example.com`},
}

var vendorExampleSet = func() map[string]bool {
	m := make(map[string]bool, len(vendorExamples))
	for _, e := range vendorExamples {
		m[e.Value] = true
	}
	return m
}()

// vendorExample reports whether v is exactly a vendor's published example.
func vendorExample(v string) bool { return vendorExampleSet[v] }

// VendorExamples returns the vendors' published example values that are
// never reported (a copy).
func VendorExamples() []VendorExample { return append([]VendorExample(nil), vendorExamples...) }
