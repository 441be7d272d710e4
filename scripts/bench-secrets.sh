#!/usr/bin/env bash
# Benchmarks Housekeeper's secrets engine against gitleaks v8.30.1:
#   1. speed and peak RSS on a plain-directory copy of $(go env GOROOT)/src,
#      both tools run alternately RUNS times (default 3), median wall time;
#   2. the worst cases for speed: keyword-dense code (4.5 MB of lines like
#      `token_value = os.getenv("TOKEN_1")  # the token for service 1`) and a
#      findings-dense file (1.9 MB, 60,000 lines of `password: '…'` with
#      varied high-entropy values), same runs and medians;
#   3. recall and precision of both on the generated labeled corpus
#      (internal/secrets/cmd/gencorpus), matching findings by file and line.
# It ends with the three speed ratios (gitleaks wall / ours), same machine,
# same run.
# Usage: scripts/bench-secrets.sh   (RUNS=5 scripts/bench-secrets.sh;
#        SECTIONS=dense scripts/bench-secrets.sh for the worst cases only)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
SECTIONS=${SECTIONS:-tree,dense,corpus}
GITLEAKS_VERSION=v8.30.1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"

if [ ! -x /usr/bin/time ]; then
	echo "installing GNU time for peak RSS"
	apt-get install -y time >/dev/null
fi

# gitleaks: $GITLEAKS if set (a binary of the pinned version), else
# installed from source (`go install` builds report no version, so one on
# PATH cannot be checked).
GITLEAKS=${GITLEAKS:-}
if [ -z "$GITLEAKS" ]; then
	echo "installing gitleaks $GITLEAKS_VERSION into a temporary GOBIN"
	mkdir -p "$WORK/bin"
	(cd "$WORK" && GOBIN="$WORK/bin" GOFLAGS=-mod=mod go install "github.com/zricethezav/gitleaks/v8@$GITLEAKS_VERSION")
	GITLEAKS="$WORK/bin/gitleaks"
fi

# ours: the CLI when it has `check --only secrets`, else the engine's
# bench command (same engine, same parallel tree scan).
mkdir -p "$WORK/bin"
OURS_FORMAT=housekeeper
if go build -o "$WORK/bin/housekeeper" ./cmd/housekeeper 2>/dev/null &&
	"$WORK/bin/housekeeper" check --help 2>&1 | grep -q -- '--only'; then
	printf '#!/bin/sh\nexec "%s" check --only secrets --format json "$1"\n' "$WORK/bin/housekeeper" >"$WORK/bin/ours"
	echo "ours: housekeeper check --only secrets --format json"
else
	go build -o "$WORK/bin/scantree" ./internal/secrets/cmd/scantree
	printf '#!/bin/sh\nexec "%s" "$1"\n' "$WORK/bin/scantree" >"$WORK/bin/ours"
	OURS_FORMAT=scantree
	echo "ours: internal/secrets/cmd/scantree (the CLI's 'check --only secrets' is not wired yet; same engine)"
fi
chmod +x "$WORK/bin/ours"
go build -o "$WORK/bin/eval-secrets" ./scripts/eval-secrets
go build -o "$WORK/bin/gencorpus" ./internal/secrets/cmd/gencorpus

# run TOOL OUTFILE: prints "wall_seconds max_rss_kb cpu_seconds" (cpu: user
# + system); exit 1 (findings) is fine.
measure() {
	local name=$1 out=$2
	shift 2
	local rc=0
	/usr/bin/time -f '%e %M %U %S' -o "$WORK/$name.time" "$@" >"$out" 2>"$WORK/$name.stderr" || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		echo "$name failed with exit $rc:" >&2
		tail -5 "$WORK/$name.stderr" >&2
		exit 1
	fi
	# GNU time prefixes "Command exited with non-zero status 1" on exit 1.
	grep -E '^[0-9]' "$WORK/$name.time" | tail -1 | awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# compare LABEL DIR: both tools RUNS times alternately on DIR; prints the
# medians and keeps "LABEL ratio" in $WORK/ratios.
compare() {
	local label=$1 dir=$2
	local bytes
	bytes=$(find "$dir" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
	: >"$WORK/gl.runs"
	: >"$WORK/hk.runs"
	for i in $(seq "$RUNS"); do
		measure gitleaks /dev/null "$GITLEAKS" dir --no-banner --report-format json --report-path "$WORK/gl.json" "$dir" >>"$WORK/gl.runs"
		measure ours "$WORK/hk.json" "$WORK/bin/ours" "$dir" >>"$WORK/hk.runs"
		echo "$label run $i: gitleaks $(tail -1 "$WORK/gl.runs") · ours $(tail -1 "$WORK/hk.runs")  (wall seconds, peak RSS KB, CPU seconds)"
	done
	local glw hkw glr hkr glc hkc
	glw=$(awk '{print $1}' "$WORK/gl.runs" | median)
	hkw=$(awk '{print $1}' "$WORK/hk.runs" | median)
	glc=$(awk '{print $3}' "$WORK/gl.runs" | median)
	hkc=$(awk '{print $3}' "$WORK/hk.runs" | median)
	glr=$(awk '{print $2}' "$WORK/gl.runs" | sort -n | tail -1)
	hkr=$(awk '{print $2}' "$WORK/hk.runs" | sort -n | tail -1)
	awk -v l="$label" -v b="$bytes" -v g="$glw" -v h="$hkw" -v gr="$glr" -v hr="$hkr" -v gc="$glc" -v hc="$hkc" 'BEGIN {
		if (h <= 0) h = 0.005  # below the resolution of time(1)
		if (hc <= 0) hc = 0.005
		printf "\n%s (%d bytes)\n%-10s %12s %14s %14s %12s\n", l, b, "tool", "median wall", "throughput", "peak RSS", "median CPU"
		printf "%-10s %11.2fs %10.1f MB/s %11.1f MB %11.2fs\n", "gitleaks", g, b/g/1e6, gr/1024, gc
		printf "%-10s %11.2fs %10.1f MB/s %11.1f MB %11.2fs\n", "ours", h, b/h/1e6, hr/1024, hc
		printf "speed ratio (gitleaks wall / ours): %.1fx (CPU time: %.1fx); RSS ratio (ours / gitleaks): %.2f\n\n", g/h, gc/hc, hr/gr
	}'
	awk -v l="$label" -v g="$glw" -v h="$hkw" -v gr="$glr" -v hr="$hkr" -v gc="$glc" -v hc="$hkc" 'BEGIN { if (h <= 0) h = 0.005; if (hc <= 0) hc = 0.005; printf "%-22s %6.1fx wall   %6.1fx CPU   (RSS ours/gitleaks %.2f)\n", l, g/h, gc/hc, hr/gr }' >>"$WORK/ratios"
}
: >"$WORK/ratios"

case ",$SECTIONS," in *,tree,*)
	SRC="$WORK/src"
	cp -R "$(go env GOROOT)/src" "$SRC" # -R copies symlinks as symlinks
	FILES=$(find "$SRC" -type f | wc -l)
	echo "tree: $SRC, $FILES regular files"
	compare "Go source tree" "$SRC"
	rm -rf "$SRC"
	;;
esac

case ",$SECTIONS," in *,dense,*)
	# Keyword-dense code: every line holds "token" three times and an
	# assignment, none a secret.
	mkdir -p "$WORK/kw" "$WORK/fd"
	awk 'BEGIN { n = 0; while (n < 4500000) { i++; l = sprintf("token_value = os.getenv(\"TOKEN_%d\")  # the token for service %d\n", i, i); printf "%s", l; n += length(l) } }' >"$WORK/kw/settings.py"
	# Findings-dense: 60,000 generic passwords with varied high-entropy
	# values (a fixed seed, so every run scans the same bytes).
	awk 'BEGIN { srand(42); c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"; for (i = 0; i < 60000; i++) { v = ""; for (j = 0; j < 20; j++) v = v substr(c, int(rand() * 62) + 1, 1); printf "password: '"'"'%s'"'"'\n", v } }' >"$WORK/fd/users.yml"
	compare "keyword-dense code" "$WORK/kw"
	compare "findings-dense file" "$WORK/fd"
	;;
esac

case ",$SECTIONS," in *,corpus,*) ;; *)
	echo "speed ratios (gitleaks / ours, medians of $RUNS runs; goals: keyword-dense >= 20x, findings-dense >= 5x, Go tree >= 50x;"
	echo "on a loaded machine the wall ratio mostly measures waiting for a CPU, the CPU ratio the work):"
	cat "$WORK/ratios"
	exit 0
	;;
esac
echo
echo "labeled corpus (matched by file and line):"
"$WORK/bin/gencorpus" -out "$WORK/corpus" -labels "$WORK/labels.json" >/dev/null
rc=0
"$GITLEAKS" dir --no-banner --report-format json --report-path "$WORK/gl-corpus.json" "$WORK/corpus" >/dev/null 2>&1 || rc=$?
[ "$rc" -le 1 ] || { echo "gitleaks failed on the corpus (exit $rc)" >&2; exit 1; }
rc=0
"$WORK/bin/ours" "$WORK/corpus" >"$WORK/hk-corpus.json" || rc=$?
[ "$rc" -le 1 ] || { echo "ours failed on the corpus (exit $rc)" >&2; exit 1; }
"$WORK/bin/eval-secrets" -name gitleaks -format gitleaks -labels "$WORK/labels.json" -root "$WORK/corpus" -report "$WORK/gl-corpus.json"
"$WORK/bin/eval-secrets" -name ours -format "$OURS_FORMAT" -labels "$WORK/labels.json" -root "$WORK/corpus" -report "$WORK/hk-corpus.json"
echo
echo "speed ratios (gitleaks / ours, medians of $RUNS runs; goals: keyword-dense >= 20x, findings-dense >= 5x, Go tree >= 50x;"
echo "on a loaded machine the wall ratio mostly measures waiting for a CPU, the CPU ratio the work):"
cat "$WORK/ratios"
