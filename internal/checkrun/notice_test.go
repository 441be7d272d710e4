package checkrun

import "testing"

// TestNoticeText: notices about imported rule files name repository paths
// and rule ids; they reach the check run as one inert quoted line.
func TestNoticeText(t *testing.T) {
	in := "rules/<b>x</b>.toml:3: rule \"a`b\": @org/team\n> injected"
	want := "rules/&lt;b&gt;x&lt;/b&gt;.toml:3: rule \"a'b\": @\u200borg/team &gt; injected"
	if got := noticeText(in); got != want {
		t.Errorf("noticeText = %q, want %q", got, want)
	}
}
