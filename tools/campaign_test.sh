#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Goal: the campaign runner (tools/campaign.sh) loses no divergence and
# keeps each one once: crash files with one signature keep one minimized
# reproducer, different signatures keep one each; artifacts appear whole
# under content names and are never overwritten, and a raw crash file
# stays until its reproducer is written; SIGTERM stops the jobs and writes
# the summary; a runner killed with kill -9 is resumed with --resume and
# ends with every divergence kept exactly once, AFL++'s crashes included
# (a resumed afl-fuzz renames its crashes directory); AFL++'s queue reaches
# the libFuzzer corpus.
#
# The CLI is the real one (signature, minimize); the engines are stand-ins
# for libFuzzer and afl-fuzz with the same command lines and outputs, which "find"
# real witnesses of corpus/regressions/ and corpus/findings/ in order, so
# the test is fast and deterministic and needs no fuzzing build.
#
# Usage: campaign_test.sh SPTERACE_BINARY CAMPAIGN_SH CORPUS_FILE...
set -u
cli=$(readlink -f "$1")
campaign_sh=$(readlink -f "$2")
shift 2
# shellcheck source=tools/test_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"
check() { # NAME CONDITION...
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

witness="" finding="" seeds="$tmp/seeds"
mkdir -p "$seeds"
for f in "$@"; do
	case "$f" in
	*.txt) ;;
	*/regressions/spte/no-clear-count-remap-aba) witness=$(readlink -f "$f") ;;
	*/findings/spte/mmio-to-present-w1-tear) finding=$(readlink -f "$f") ;;
	*/corpus/spte/*) cp "$f" "$seeds/" ;;
	esac
done
[ -n "$witness" ] && [ -n "$finding" ] || { echo "missing witnesses among the arguments"; exit 1; }

# Crash inputs, all diverging with mutant no-clear-count: A and A2 (the
# witness with two more bytes) have one signature, B (the faithful model's
# MMIO tear) another.
crashes="$tmp/crash-inputs"
mkdir -p "$crashes"
cp "$witness" "$crashes/A"
cp "$witness" "$crashes/A2"
printf '\0\0' >>"$crashes/A2"
cp "$witness" "$crashes/A3"
printf '\1\1' >>"$crashes/A3"
cp "$finding" "$crashes/B"
sig_of() { # FILE: its signature with mutant no-clear-count
	printf 'target: spte\nmutant: no-clear-count\n' >"$1.txt"
	"$cli" signature "$1"
	rm -f "$1.txt"
}
sig_a=$(sig_of "$crashes/A")
[ "$(sig_of "$crashes/A2")" = "$sig_a" ] && [ "$(sig_of "$crashes/A3")" = "$sig_a" ] &&
	[ "$(sig_of "$crashes/B")" != "$sig_a" ] ||
	{ echo "the crash inputs do not have the expected signatures"; exit 1; }

# The stand-in engine: libFuzzer's command line; each run "finds" the next
# file of $FAKE_QUEUE (writes it as crash-<sha1> under -artifact_prefix,
# prints libFuzzer's lines, exits 1) until the queue is used up, then
# fuzzes (adds corpus units, prints status lines) until -max_total_time or
# SIGTERM.  -merge=1 NEW OLD copies OLD into NEW.
fake="$tmp/fake_libfuzzer"
cat >"$fake" <<'EOF'
#!/usr/bin/env bash
prefix="" total=60 merge="" dirs=()
for a in "$@"; do
	case "$a" in
	-artifact_prefix=*) prefix=${a#*=} ;;
	-max_total_time=*) total=${a#*=} ;;
	-merge=1) merge=1 ;;
	-* | --*) ;;
	*) dirs+=("$a") ;;
	esac
done
if [ -n "$merge" ]; then
	cp "${dirs[1]}"/* "${dirs[0]}/" && echo "MERGE-OUTER: done"
	exit
fi
echo $$ >>"$FAKE_STATE.pids"
n=$(cat "$FAKE_STATE" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$FAKE_STATE"
next=$(ls "$FAKE_QUEUE" | sort | sed -n "${n}p")
echo "#2 INITED cov: 10 ft: 20 corp: 3/30b exec/s: 0 rss: 30Mb"
if [ -n "$next" ]; then
	sha=$(sha1sum "$FAKE_QUEUE/$next" | cut -d' ' -f1)
	echo "#100 NEW cov: 11 ft: 22 corp: 4/40b exec/s: 100 rss: 30Mb"
	echo "==1== ERROR: libFuzzer: deadly signal"
	cp "$FAKE_QUEUE/$next" "$prefix.part" && mv "$prefix.part" "${prefix}crash-$sha"
	echo "artifact_prefix='$prefix'; Test unit written to ${prefix}crash-$sha"
	exit 1
fi
trap 'echo "==1== libFuzzer: run interrupted; exiting"; exit 72' TERM INT
end=$(($(date +%s) + total))
i=0
while [ "$(date +%s)" -lt "$end" ]; do
	i=$((i + 1))
	echo "#$((i * 1000)) pulse cov: 12 ft: 24 corp: 5/50b exec/s: 1000 rss: 30Mb"
	[ $((i % 5)) -eq 0 ] && printf 'unit %s %s' "$$" "$i" >"${dirs[0]}/unit-$$-$i"
	sleep 0.2
done
echo "Done $((i * 1000)) runs in $total second(s)"
echo "stat::number_of_executed_units: $((i * 1000))"
EOF
chmod +x "$fake"

# The stand-in afl-fuzz: afl-fuzz's command line and output directory; each
# run "finds" the next file of $FAKE_AFL_QUEUE as crashes/id:000000,...
# (always that name), adds queue entries and writes fuzzer_stats.  Like
# AFL++ 4.04c, a resumed run (-i -) renames crashes/ to crashes.DATE/.
fake_afl="$tmp/fake_afl_fuzz"
cat >"$fake_afl" <<'EOF'
#!/usr/bin/env bash
in="" out="" name="" total=60
while [ $# -gt 0 ]; do
	case "$1" in
	-i) in=$2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	-M | -S) name=$2; shift 2 ;;
	-V) total=$2; shift 2 ;;
	-F) shift 2 ;;
	--) break ;;
	*) shift ;;
	esac
done
echo $$ >>"$FAKE_STATE.pids"
d="$out/$name"
[ "$in" = - ] && [ -d "$d/crashes" ] && mv "$d/crashes" "$d/crashes.$(date +%s)"
mkdir -p "$d/queue" "$d/crashes"
n=$(cat "$FAKE_AFL_STATE" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$FAKE_AFL_STATE"
next=$(ls "$FAKE_AFL_QUEUE" | sort | sed -n "${n}p")
if [ -n "$next" ]; then
	cp "$FAKE_AFL_QUEUE/$next" "$d/crashes/.part" &&
		mv "$d/crashes/.part" "$d/crashes/id:000000,sig:06,src:000001,op:havoc,rep:2"
fi
trap 'exit 0' TERM INT
end=$(($(date +%s) + total))
i=0
while [ "$(date +%s)" -lt "$end" ]; do
	i=$((i + 1))
	printf 'afl unit %s %s' "$n" "$i" >"$d/queue/id:$(printf %06d "$((n * 1000 + i))"),time:$i"
	printf 'execs_done : %s\nexecs_per_sec : 500.00\nedges_found : 42\nbitmap_cvg : 1.50%%\ncorpus_count : %s\n' \
		"$((i * 100))" "$i" >"$d/fuzzer_stats"
	sleep 0.3
done
EOF
chmod +x "$fake_afl"

runner="$tmp/runner"
cat >"$runner" <<EOF
#!/usr/bin/env bash
CAMPAIGN_AFL_FUZZ="$fake_afl"
. "$campaign_sh"
campaign_prepare() {
	CAMPAIGN_CLI="$cli"
	CAMPAIGN_LF="$fake"
	CAMPAIGN_AFL=/bin/true
	CAMPAIGN_SEEDS="$seeds"
}
campaign_main "\$@"
EOF
chmod +x "$runner"

# ---- deduplication, by the runner's inbox processing ---------------------

# shellcheck source=tools/campaign.sh
. "$campaign_sh"
CAMPAIGN_CLI=$cli
dir="$tmp/dedup"
mkdir -p "$dir/inbox" "$dir/tmp"
printf 'target=spte\nmutant=no-clear-count\nengine=libfuzzer\njobs=1\ntime=60\n' >"$dir/campaign.conf"
for f in A A2 B; do cj_to_inbox "$crashes/$f" "$dir" libFuzzer crash; done
cj_process_inbox "$dir"
kept() { find "$1/crashes" -maxdepth 1 -type f ! -name '*.txt' | sort; }
rows() { grep -vc '^#' "$1/divergences.tsv"; }
hits_of() { # DIR SIGNATURE: the hit count of the signature's row
	awk -F'\t' -v s="$2" '$2 == s {print $6}' "$1/divergences.tsv"
}
check "dedup_same_signature_keeps_one_different_signatures_keep_both (2 files for 3 crashes)" \
	test "$(kept "$dir" | wc -l)" -eq 2 -a "$(rows "$dir")" -eq 2
check "dedup_counts_every_hit_of_a_signature (A, A2: 2 hits; B: 1)" \
	test "$(hits_of "$dir" "$sig_a")" = 2 -a "$(hits_of "$dir" "$(sig_of "$crashes/B")")" = 1
all_sigs_match=1
for f in $(kept "$dir"); do
	grep -q "^signature: " "$f.txt" || all_sigs_match=""
	[ "$("$cli" signature "$f")" = "$(sed -n 's/^signature: //p' "$f.txt")" ] || all_sigs_match=""
	awk -F'\t' -v f="crashes/${f##*/}" '$3 == f {found = 1} END {exit !found}' "$dir/divergences.tsv" ||
		all_sigs_match=""
done
check "dedup_kept_file_replays_with_its_indexed_signature_and_sidecar" test -n "$all_sigs_match"
a_kept=$(awk -F'\t' -v s="$sig_a" '$2 == s {print $3}' "$dir/divergences.tsv")
# What `spterace minimize` makes of A and of A2: the kept file is one of them.
is_minimized=""
for f in A A2; do
	cp "$crashes/$f" "$tmp/min-in"
	printf 'target: spte\nmutant: no-clear-count\n' >"$tmp/min-in.txt"
	"$cli" minimize "$tmp/min-in" -o "$tmp/min-out" >/dev/null 2>&1
	[ -n "$a_kept" ] && cmp -s "$tmp/min-out" "$dir/$a_kept" && is_minimized=1
done
check "dedup_keeps_the_minimized_reproducer (spterace minimize's output)" test -n "$is_minimized"
check "dedup_empties_the_inbox_once_processed" test -z "$(ls "$dir/inbox")"

# The same raw file again is not a new hit; another one of signature A is.
inode=$(stat -c %i "$dir/$a_kept")
cj_to_inbox "$crashes/A2" "$dir" libFuzzer crash
cj_to_inbox "$crashes/A3" "$dir" AFL++ crash
cj_process_inbox "$dir"
check "dedup_same_raw_file_counted_once_new_raw_file_counted (3 hits)" test "$(hits_of "$dir" "$sig_a")" = 3
check "atomic_kept_reproducer_never_rewritten (same inode)" test "$(stat -c %i "$dir/$a_kept")" = "$inode"
check "atomic_no_temporary_files_left" test -z "$(find "$dir" -name '*.tmp*' -o -name '*.part' | head -1)" \
	-a -z "$(ls "$dir/tmp")"

# cj_place never replaces an existing file.
printf 'first' >"$tmp/place-dest"
printf 'second' >"$tmp/place-src"
cj_place "$tmp/place-src" "$tmp/place-dest"
rc=$?
check "atomic_place_refuses_to_overwrite (status 1, old content)" \
	test "$rc" = 1 -a "$(cat "$tmp/place-dest")" = first
# A raw crash file stays in the inbox when its reproducer cannot be written.
dir2="$tmp/nolose"
mkdir -p "$dir2/inbox" "$dir2/tmp"
cp "$dir/campaign.conf" "$dir2/"
touch "$dir2/crashes"   # a file: nothing can be linked below it
cj_to_inbox "$crashes/B" "$dir2" libFuzzer crash
cj_process_inbox "$dir2" 2>/dev/null
check "atomic_raw_crash_kept_until_its_reproducer_is_written" \
	test "$(find "$dir2/inbox" -name 'crash-*' ! -name '*.txt' | wc -l)" -eq 1 -a ! -s "$dir2/state/processed"

# A libFuzzer artifact moves to the inbox, and its input leaves the shared
# corpus (a restarted job would crash on it before fuzzing).
dir3="$tmp/collect"
mkdir -p "$dir3/corpus.0" "$dir3/inbox" "$dir3/tmp" "$dir3/jobs/lf0/artifacts"
ln -s corpus.0 "$dir3/corpus"
cp "$dir/campaign.conf" "$dir3/"
cp "$crashes/B" "$dir3/corpus.0/some-seed"
cp "$crashes/A" "$dir3/corpus.0/other-seed"
cp "$crashes/B" "$dir3/jobs/lf0/artifacts/crash-$(sha1sum "$crashes/B" | cut -d' ' -f1)"
cj_collect_artifacts "$dir3" "$dir3/jobs/lf0"
check "collect_moves_artifacts_to_the_inbox_with_a_sidecar" \
	test -z "$(ls "$dir3/jobs/lf0/artifacts")" -a "$(ls "$dir3/inbox" | wc -l)" -eq 2 \
	-a -n "$(grep -l '^mutant: no-clear-count' "$dir3"/inbox/*.txt)"
check "collect_drops_the_crashing_input_from_the_corpus" \
	test ! -e "$dir3/corpus.0/some-seed" -a -e "$dir3/corpus.0/other-seed"

# ---- usage errors ------------------------------------------------------------

usage_error() { # NAME ARGS...: exit 2 with one line on stderr
	local name=$1
	shift
	"$runner" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]; then ok "$name"; else
		bad "$name (exit $rc: $(head -c 200 "$tmp/err"))"; fi
}
usage_error "usage_jobs_must_be_positive" --jobs 0 --out "$tmp/u1"
usage_error "usage_both_needs_two_jobs" --jobs 1 --engine both --out "$tmp/u2"
usage_error "usage_unknown_engine" --jobs 2 --engine honggfuzz --out "$tmp/u3"
usage_error "usage_unknown_mutant" --jobs 1 --mutant no-such-mutant --out "$tmp/u4"
usage_error "usage_resume_needs_a_campaign_dir" --resume "$tmp/nowhere"
usage_error "usage_resume_takes_no_other_option" --resume "$dir" --jobs 2

# ---- SIGTERM: a clean stop -----------------------------------------------------

queue1="$tmp/queue1"
mkdir -p "$queue1"
cp "$crashes/B" "$queue1/1"
export FAKE_QUEUE=$queue1 FAKE_STATE="$tmp/state1"
dir="$tmp/term"
CAMPAIGN_TICK=1 "$runner" --jobs 2 --time 60 --mutant no-clear-count --out "$dir" >"$tmp/term.out" 2>"$tmp/term.err" &
rpid=$!
for i in $(seq 100); do
	[ -s "$dir/state/processed" ] && [ "$(ls "$dir"/jobs/*/engine.pid 2>/dev/null | wc -l)" -eq 2 ] && break
	sleep 0.2
done
sleep 1
kill -TERM "$rpid"
t0=$(date +%s)
wait "$rpid"
rc=$?
t1=$(date +%s)
engines_alive=""
while read -r p; do kill -0 "$p" 2>/dev/null && engines_alive+=" $p"; done <"$FAKE_STATE.pids"
check "sigterm_exits_1_with_the_divergence_it_found (exit $rc)" test "$rc" = 1
check "sigterm_stops_within_15s ($((t1 - t0))s)" test $((t1 - t0)) -le 15
check "sigterm_leaves_no_engine_running" test -z "$engines_alive"
check "sigterm_writes_the_summary" grep -q "^stopped: by SIGTERM after" "$tmp/term.out"
check "sigterm_keeps_the_divergence" grep -q "^divergence: .*crashes/crash-" "$tmp/term.out"
check "sigterm_records_the_time_left_for_resume" \
	test "$(cat "$dir/elapsed")" -ge 1 -a "$(cat "$dir/elapsed")" -lt 60 -a ! -e "$dir/runner.pid"
check "sigterm_stats_written (stats.jsonl lines)" \
	test "$(grep -c '^{"time": [0-9]*, .*"libfuzzer": {.*"afl": {.*}}$' "$dir/stats.jsonl")" -ge 2
check "sigterm_no_temporary_files_left" test -z "$(find "$dir" -name '*.tmp*' | head -1)"

# ---- kill -9, then --resume ------------------------------------------------------

queue2="$tmp/queue2"
mkdir -p "$queue2"
cp "$crashes/A" "$queue2/1"
cp "$crashes/A2" "$queue2/2"
cp "$crashes/B" "$queue2/3"
export FAKE_QUEUE=$queue2 FAKE_STATE="$tmp/state2"
dir="$tmp/resume"
# A long tick: the raw crash files are still waiting in the inbox when the
# runner is killed.
CAMPAIGN_TICK=100 "$runner" --jobs 1 --time 14 --mutant no-clear-count --out "$dir" >/dev/null 2>"$tmp/kill.err" &
rpid=$!
for i in $(seq 100); do
	[ "$(ls "$dir/inbox" 2>/dev/null | grep -vc txt)" -ge 3 ] && break
	sleep 0.2
done
kill -KILL "$rpid"
wait "$rpid" 2>/dev/null
raw_before=$(ls "$dir/inbox" | grep -vc txt)
sleep 3
engines_alive=""
while read -r p; do kill -0 "$p" 2>/dev/null && engines_alive+=" $p"; done <"$FAKE_STATE.pids"
check "kill9_orphaned_engines_stop_by_themselves" test -z "$engines_alive"
check "kill9_leaves_raw_crashes_undeduplicated (3 in the inbox)" test "$raw_before" -eq 3
# A crash the engine wrote just before the kill, not yet collected.
cp "$crashes/A3" "$dir/jobs/lf0/artifacts/crash-$(sha1sum "$crashes/A3" | cut -d' ' -f1)"
CAMPAIGN_TICK=1 "$runner" --resume "$dir" >"$tmp/resume.out" 2>"$tmp/resume.err"
rc=$?
check "resume_exits_1 (exit $rc)" test "$rc" = 1
check "resume_keeps_every_divergence_exactly_once (2 files, 2 rows)" \
	test "$(kept "$dir" | wc -l)" -eq 2 -a "$(rows "$dir")" -eq 2 -a "$(grep -c '^divergence: ' "$tmp/resume.out")" -eq 2
check "resume_counts_every_raw_crash (A: 3 hits, B: 1)" \
	test "$(hits_of "$dir" "$sig_a")" = 3 -a "$(hits_of "$dir" "$(sig_of "$crashes/B")")" = 1
check "resume_runs_the_remaining_time_only (elapsed = 14)" test "$(cat "$dir/elapsed")" = 14
check "resume_empties_inbox_and_artifacts" \
	test -z "$(ls "$dir/inbox")" -a -z "$(ls "$dir/jobs/lf0/artifacts")"
check "resume_merges_the_corpus_into_a_fresh_dir (corpus -> corpus.1)" \
	test "$(readlink "$dir/corpus")" = corpus.1 -a ! -e "$dir/corpus.0" -a -e "$dir/state/merged"
check "resume_no_temporary_files_left" test -z "$(find "$dir" -name '*.tmp*' | head -1)"
if command -v gnuplot >/dev/null; then
	check "resume_plots_stats_png" test -s "$dir/stats.png"
fi

# ---- both engines: corpus exchange, AFL++ crashes across kill -9 and resume ----

empty_queue="$tmp/queue-empty"
queue3="$tmp/queue3"
mkdir -p "$empty_queue" "$queue3"
cp "$crashes/B" "$queue3/1"
cp "$crashes/A" "$queue3/2"
export FAKE_QUEUE=$empty_queue FAKE_STATE="$tmp/state3" FAKE_AFL_QUEUE=$queue3 FAKE_AFL_STATE="$tmp/afl-state3"
dir="$tmp/both"
CAMPAIGN_TICK=1 "$runner" --jobs 2 --engine both --time 12 --mutant no-clear-count --out "$dir" >/dev/null 2>"$tmp/both.err" &
rpid=$!
for i in $(seq 100); do
	[ "$(rows "$dir" 2>/dev/null || echo 0)" -ge 1 ] && break
	sleep 0.2
done
kill -KILL "$rpid"
wait "$rpid" 2>/dev/null
sleep 3
CAMPAIGN_TICK=1 "$runner" --resume "$dir" >"$tmp/both.out" 2>"$tmp/both.err2"
rc=$?
check "both_afl_crashes_kept_across_its_crashes_dir_rename (2 signatures, exit $rc)" \
	test "$rc" = 1 -a "$(kept "$dir" | wc -l)" -eq 2 -a "$(rows "$dir")" -eq 2 \
	-a "$(hits_of "$dir" "$sig_a")" = 1 -a -n "$(ls -d "$dir"/afl/main/crashes.* 2>/dev/null)"
check "both_exchange_copies_afl_queue_into_the_libfuzzer_corpus" \
	grep -qs "^afl unit" "$dir"/corpus.0/* "$dir"/corpus.1/*
check "both_stats_have_afl_executions" \
	grep -q '"afl": {"jobs": 1, "execs": [1-9]' "$dir/stats.jsonl"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
