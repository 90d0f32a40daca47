# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Fuzzing campaigns: ./spterace fuzz --jobs N --engine libfuzzer|afl|both
# --time T --out DIR [--target T] [--mutant M], and ./spterace fuzz
# --resume DIR.  Sourced by ./spterace, which defines campaign_prepare
# (install, build, set the CAMPAIGN_* binaries below); //tools:campaign_test
# sources it with stand-in engines.  Needs bash, coreutils, sha1sum, awk
# and (for the plot) gnuplot.
#
# Set by campaign_prepare TARGET ENGINE:
#   CAMPAIGN_CLI       the spterace CLI (signature, minimize, mutants)
#   CAMPAIGN_LF        the target's libFuzzer binary (also merges the corpus)
#   CAMPAIGN_AFL       the target's AFL++ binary (engines afl and both)
#   CAMPAIGN_SEEDS     the seed corpus directory
# Optional: CAMPAIGN_AFL_MUTATOR (AFL++'s custom mutator library: the
# structure-aware mutator), CAMPAIGN_AFL_FUZZ (default afl-fuzz), CAMPAIGN_TICK (seconds
# between statistics samples, default 10), CAMPAIGN_PROGRESS (seconds
# between progress lines on stderr, default 60), CAMPAIGN_CWD (where
# relative paths start, default $PWD).
#
# DIR holds:
#   campaign.conf      target, mutant, engine, jobs, time, mm, sched, knobs: what --resume reads
#   elapsed            seconds fuzzed so far (kept up to date while running)
#   corpus -> corpus.N the shared corpus (libFuzzer jobs fuzz it with
#                      -reload=1; AFL++'s main instance imports it with -F;
#                      AFL++ queue entries are copied into it); merged and
#                      swapped for a fresh, minimized one at the end
#   afl/               AFL++'s sync directory (instances main, s1, s2, ...)
#   jobs/NAME/         each job's engine logs (run-K.log) and pid files
#   inbox/             raw crash files (KIND-<sha1> and a sidecar) waiting
#                      for deduplication; removed only once processed
#   crashes/           one minimized reproducer per signature,
#                      crash-<sha1> with its .txt sidecar
#   divergences.tsv    signature id, signature, file, first found, hits
#   stats.jsonl        one JSON line per sample; stats.png its plot
#   state/             what has been processed and imported (resume)
#
# Every artifact is written under a temporary name in its own directory
# and then linked or renamed into place (mv -n, ln): a reader never sees
# half a file and nothing is overwritten.  The runner tolerates kill -9 at
# any point: --resume finds the raw crash files not yet deduplicated in
# inbox/ and in the jobs' artifact directories and processes them.

CAMPAIGN_TICK=${CAMPAIGN_TICK:-10}
CAMPAIGN_PROGRESS=${CAMPAIGN_PROGRESS:-60}
CAMPAIGN_AFL_FUZZ=${CAMPAIGN_AFL_FUZZ:-afl-fuzz}

cj_die() { echo "spterace: $*" >&2; exit 2; }
cj_say() { echo "spterace: $*" >&2; }
cj_now() { date +%s; }

# A value of DIR/campaign.conf.  $1 dir, $2 key.
cj_conf() { sed -n "s/^$2=//p" "$1/campaign.conf" | head -1; }

# Write $2 (text) to file $1 atomically (temporary file in the same
# directory, then rename).
cj_write() {
	local tmp
	tmp="$1.tmp.$BASHPID"
	printf '%s' "$2" >"$tmp" && mv -f "$tmp" "$1"
}

# Place file $1 at $2 without ever replacing an existing $2 (link(2)
# fails on an existing name); $1 is removed.  Returns 1 if $2 existed with
# other content.
cj_place() {
	local src=$1 dest=$2
	if ln "$src" "$dest" 2>/dev/null; then
		rm -f "$src"
		return 0
	fi
	if [ -e "$dest" ] && cmp -s "$src" "$dest"; then
		rm -f "$src"
		return 0
	fi
	rm -f "$src"
	return 1
}

# The sidecar of a raw crash file: $1 file, $2 target, $3 mutant, $4
# engine, $5 the schedule source its job forced ("" for none).  The memory
# model and knobs the whole campaign forced come from the environment.
cj_raw_sidecar() {
	local f=$1 fmt=2
	case "$(head -c1 "$f" | od -An -tu1 | tr -d ' ')" in 1) fmt=1 ;; 3) fmt=3 ;; esac
	printf 'target: %s\nmutant: %s\nformat: %s\nsize: %s\nexpect: divergence\nengine: %s\nfound: %s by ./spterace fuzz (%s)\n' \
		"$2" "$3" "$fmt" "$(stat -c %s "$f")" "$4" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$4"
	[ -n "${5:-}" ] && echo "sched: $5"
	[ -n "${SPTERACE_MM:-}" ] && echo "mm: $SPTERACE_MM"
	[ -n "${SPTERACE_KNOBS:-}" ] && [ "$SPTERACE_KNOBS" != none ] && echo "knobs: $SPTERACE_KNOBS"
	return 0
}

# The schedule source of libFuzzer job $2 (lfN): the campaign's --sched if
# it forced one, else a portfolio: lf0, lf3, ... the inputs' own choice
# (preemption list or byte stream), lf1, lf4, ... PCT, lf2, lf5, ... the
# byte stream.  AFL++ jobs keep the campaign's.  $1 dir.
cj_job_sched() {
	local forced n
	forced=$(cj_conf "$1" sched)
	if [ -n "$forced" ]; then
		echo "$forced"
		return
	fi
	n=${2#lf}
	case $((n % 3)) in 1) echo pct ;; 2) echo bytes ;; *) echo "" ;; esac
}

# Copy crash file $1 into DIR's inbox as KIND-<sha1> with its sidecar.
# $1 file, $2 dir, $3 engine, $4 kind (crash, timeout, oom, leak), $5 the
# job's schedule source.
cj_to_inbox() {
	local f=$1 dir=$2 engine=$3 kind=${4:-crash} sched=${5:-} sha dest tmp
	sha=$(sha1sum "$f" | cut -d' ' -f1)
	dest="$dir/inbox/$kind-$sha"
	[ -e "$dest" ] && return 0
	tmp="$dir/tmp/inbox.$BASHPID"
	cj_raw_sidecar "$f" "$(cj_conf "$dir" target)" "$(cj_conf "$dir" mutant)" "$engine" "$sched" \
		>"$tmp.txt" && mv -n "$tmp.txt" "$dest.txt"
	rm -f "$tmp.txt"
	cp "$f" "$tmp" && mv -n "$tmp" "$dest"
	rm -f "$tmp"
}

# Move a libFuzzer job's artifacts (complete: libFuzzer writes one and
# exits) into the inbox.  $1 dir, $2 job directory.
cj_collect_artifacts() {
	local dir=$1 jd=$2 f base kind
	for f in "$jd"/artifacts/*; do
		[ -f "$f" ] || continue
		base=${f##*/}
		kind=${base%%-*}
		case "$kind" in crash | timeout | oom | leak) ;; *) kind=crash ;; esac
		# An input that crashes never stays in the shared corpus: a
		# restarted job would crash on it again before fuzzing.
		find -L "$dir/corpus/" -maxdepth 1 -type f -size "$(stat -c %s "$f")c" \
			-exec cmp -s "$f" {} \; -delete 2>/dev/null
		cj_to_inbox "$f" "$dir" libFuzzer "$kind" "$(cat "$jd/sched" 2>/dev/null)" && rm -f "$f"
	done
}

# Copy AFL++'s new crash files into the inbox (they stay in afl/ too).
# Hangs are kept as timeouts.  Files are known by content: a resumed
# AFL++ renames crashes/ to crashes.DATE/ and numbers its files anew.
# $1 dir, $2 "all" to take files however recent (the engines are stopped).
cj_import_afl_crashes() {
	local dir=$1 all=${2:-} f now list kind sha
	list="$dir/state/afl-crashes"
	mkdir -p "$dir/state"
	now=$(cj_now)
	touch "$list"
	for f in "$dir"/afl/*/crashes*/id:* "$dir"/afl/*/hangs*/id:*; do
		[ -f "$f" ] || continue
		# A file AFL++ may still be writing waits for the next round.
		[ -z "$all" ] && [ $((now - $(stat -c %Y "$f"))) -lt 2 ] && continue
		sha=$(sha1sum "$f" | cut -d' ' -f1)
		grep -q "^$sha " "$list" && continue
		kind=crash
		case "$f" in */hangs*/*) kind=timeout ;; esac
		cj_to_inbox "$f" "$dir" AFL++ "$kind" && echo "$sha $f" >>"$list"
	done
}

# Corpus exchange from AFL++ to libFuzzer: new queue entries are copied
# into the shared corpus (content-named, atomically).  libFuzzer re-reads
# it (-reload=1); AFL++'s main instance imports libFuzzer's units itself
# (-F).  $1 dir.
cj_exchange() {
	local dir=$1 list f sha new
	list="$dir/state/afl-queue"
	new="$dir/tmp/queue.new"
	touch "$list"
	ls -d "$dir"/afl/*/queue/id:* 2>/dev/null | grep -v ',sync:' | sort >"$new.all"
	comm -13 "$list" "$new.all" >"$new"
	while IFS= read -r f; do
		[ -f "$f" ] || continue
		sha=$(sha1sum "$f" | cut -d' ' -f1)
		[ -e "$dir/corpus/$sha" ] && continue
		cp "$f" "$dir/tmp/unit.$BASHPID" && mv -n "$dir/tmp/unit.$BASHPID" "$dir/corpus/$sha"
		rm -f "$dir/tmp/unit.$BASHPID"
	done <"$new"
	[ -s "$new" ] && sort -m "$list" "$new" >"$list.tmp" && mv -f "$list.tmp" "$list"
	rm -f "$new" "$new.all"
}

# The signature of a raw crash file (one line), from the CLI's replay.
# A crash whose replay does not diverge (a sanitizer report) and the other
# artifact kinds are named by their kind.  $1 file, $2 kind, $3 dir.
cj_signature() {
	local f=$1 kind=$2 dir=$3 sig rc
	if [ "$kind" != crash ]; then
		echo "$(cj_conf "$dir" target) $(cj_conf "$dir" mutant) $kind"
		return
	fi
	sig=$("$CAMPAIGN_CLI" signature "$f" 2>/dev/null)
	rc=$?
	case $rc in
	1) echo "$sig" ;;
	0) echo "$(cj_conf "$dir" target) $(cj_conf "$dir" mutant) crash/no-divergence-on-replay" ;;
	*) echo "$(cj_conf "$dir" target) $(cj_conf "$dir" mutant) crash/unreadable" ;;
	esac
}

cj_sig_id() { printf '%s' "$1" | sha1sum | cut -c1-12; }

# Keep a reproducer for a new signature: minimize it (a divergence),
# content-name it, link it into crashes/ with its sidecar, then record the
# signature.  $1 dir, $2 raw file, $3 signature, $4 id, $5 kind, $6 engine.
# Prints the signature id it was kept under (the minimized file's own
# signature when minimizing changed it to one already kept).
cj_keep_new() {
	local dir=$1 f=$2 sig=$3 id=$4 kind=$5 engine=$6 tmp sha dest
	tmp="$dir/tmp/min.$BASHPID"
	local sig2 id2
	rm -f "$tmp" "$tmp.txt"
	# minimize exits 1 when it wrote the smaller input (and a sidecar).
	if [ "$kind" = crash ] && [[ "$sig" != *" crash/"* ]]; then
		"$CAMPAIGN_CLI" minimize "$f" -o "$tmp" >/dev/null 2>&1
	fi
	if [ -s "$tmp" ]; then
		sig2=$(cj_signature "$tmp" crash "$dir")
		id2=$(cj_sig_id "$sig2")
		if [ "$id2" != "$id" ]; then
			# The minimizer keeps the verdict and class; the sites
			# may narrow.  Name the kept file by what it shows.
			if [ -e "$dir/state/sigs/$id2" ]; then
				rm -f "$tmp" "$tmp.txt"
				echo "$id2"
				return 0
			fi
			sig=$sig2
			id=$id2
		fi
	else
		rm -f "$tmp.txt"
		cp "$f" "$tmp" || return 1
	fi
	sha=$(sha1sum "$tmp" | cut -d' ' -f1)
	case "$kind" in crash) dest="$dir/crashes/crash-$sha" ;; *) dest="$dir/crashes/$kind-$sha" ;; esac
	{
		cj_raw_sidecar "$tmp" "$(cj_conf "$dir" target)" "$(cj_conf "$dir" mutant)" "$engine" \
			"$(sed -n 's/^sched: //p' "$f.txt" 2>/dev/null | head -1)"
		echo "signature: $sig"
		echo "raw: $(sed -n 's/^size: //p' "$f.txt" 2>/dev/null || stat -c %s "$f") bytes before minimizing"
	} >"$tmp.side"
	rm -f "$tmp.txt"
	cj_place "$tmp" "$dest" || { rm -f "$tmp.side"; cj_say "$dest: exists with other content"; return 1; }
	[ -e "$dest.txt" ] || mv -n "$tmp.side" "$dest.txt"
	rm -f "$tmp.side"
	cj_write "$dir/state/sigs/$id" "$(printf '%s\t%s\t%s\t%s\n' "${dest##*/}" "$sig" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(cj_elapsed "$dir")")"
	echo "$id"
}

# Deduplicate every raw crash file of the inbox.  A raw file is removed
# only after its signature's reproducer is in crashes/ and the hit is
# recorded in state/processed; a raw file already recorded (the runner
# was killed between the two) is just removed.  $1 dir.
cj_process_inbox() {
	local dir=$1 f base kind sha sig id engine changed=""
	mkdir -p "$dir/state/sigs" "$dir/state/alias" "$dir/tmp" "$dir/crashes"
	touch "$dir/state/processed"
	for f in "$dir"/inbox/*; do
		[ -f "$f" ] || continue
		case "$f" in *.txt | *.tmp*) continue ;; esac
		base=${f##*/}
		kind=${base%%-*}
		sha=${base#*-}
		if grep -q "^$sha	" "$dir/state/processed" 2>/dev/null; then
			rm -f "$f" "$f.txt"
			continue
		fi
		[ -e "$f.txt" ] || cj_raw_sidecar "$f" "$(cj_conf "$dir" target)" "$(cj_conf "$dir" mutant)" \
			unknown >"$f.txt"
		engine=$(sed -n 's/^engine: //p' "$f.txt" | head -1)
		sig=$(cj_signature "$f" "$kind" "$dir")
		id=$(cj_sig_id "$sig")
		[ -e "$dir/state/alias/$id" ] && id=$(cat "$dir/state/alias/$id")
		if [ ! -e "$dir/state/sigs/$id" ]; then
			local kept
			kept=$(cj_keep_new "$dir" "$f" "$sig" "$id" "$kind" "${engine:-unknown}") || continue
			[ "$kept" != "$id" ] && cj_write "$dir/state/alias/$id" "$kept"
			id=$kept
		fi
		printf '%s\t%s\t%s\t%s\n' "$sha" "$id" "$(cj_elapsed "$dir")" "${engine:-unknown}" \
			>>"$dir/state/processed"
		rm -f "$f" "$f.txt"
		changed=1
	done
	[ -n "$changed" ] || [ ! -e "$dir/divergences.tsv" ] && cj_index "$dir"
	return 0
}

# DIR/divergences.tsv from state/: one line per signature.
cj_index() {
	local dir=$1 id file sig first firsts hits engines out
	out=$(printf '# id\tsignature\tfile\tfirst_found\tfirst_found_s\thits\tengines\n')
	for id in $(ls "$dir/state/sigs" 2>/dev/null); do
		IFS=$'\t' read -r file sig first firsts <"$dir/state/sigs/$id"
		hits=$(awk -F'\t' -v id="$id" '$2 == id' "$dir/state/processed" 2>/dev/null | wc -l)
		engines=$(awk -F'\t' -v id="$id" '$2 == id {print $4}' "$dir/state/processed" 2>/dev/null |
			sort -u | paste -sd, -)
		out+=$(printf '\n%s\t%s\tcrashes/%s\t%s\t%s\t%s\t%s' "$id" "$sig" "$file" "$first" \
			"$firsts" "$hits" "${engines:--}")
	done
	cj_write "$dir/divergences.tsv" "$out"$'\n'
}

cj_elapsed() { cat "$1/elapsed" 2>/dev/null || echo 0; }

# ---- statistics ----------------------------------------------------------

# libFuzzer: executions over every run of every job (each run's last
# status line), the sum of the jobs' current exec/s (their latest run's
# last status line) and the best cov/ft.  Prints "execs exec_s cov ft".
cj_lf_numbers() {
	local dir=$1 jd logs=() latest=()
	for jd in "$dir"/jobs/lf*; do
		[ -d "$jd" ] || continue
		local f last=""
		for f in "$jd"/run-*.log; do
			[ -f "$f" ] && logs+=("$f")
		done
		last=$(ls "$jd" | sed -n 's/^run-\([0-9]*\)\.log$/\1/p' | sort -n | tail -1)
		[ -n "$last" ] && latest+=("$jd/run-$last.log")
	done
	if [ ${#logs[@]} -eq 0 ]; then
		echo "0 0 0 0"
		return
	fi
	awk -v latest=" ${latest[*]} " '
		FNR == 1 { if (prev != "") { execs += last; if (index(latest, " " prev " ")) rate += lrate }
			   prev = FILENAME; last = 0; lrate = 0 }
		/^#[0-9]+/ {
			last = substr($1, 2) + 0
			for (i = 2; i < NF; i++) {
				if ($i == "cov:" && $(i+1) + 0 > cov) cov = $(i+1) + 0
				if ($i == "ft:" && $(i+1) + 0 > ft) ft = $(i+1) + 0
				if ($i == "exec/s:") lrate = $(i+1) + 0
			}
		}
		/^stat::number_of_executed_units:/ { last = $2 + 0 }
		END { execs += last; if (index(latest, " " prev " ")) rate += lrate
		      printf "%d %d %d %d\n", execs, rate, cov, ft }
	' "${logs[@]}"
}

# AFL++: executions, exec/s, edges, map coverage and queue size over its
# instances, as of their last fuzzer_stats or plot_data update (AFL++
# 4.04c writes fuzzer_stats every 60 s).  Prints
# "execs exec_s edges bitmap_cvg queue".
cj_afl_numbers() {
	local dir=$1 inst execs=0 rate=0 edges=0 cvg=0 corpus=0 e r d c q
	for inst in "$dir"/afl/*/; do
		[ -d "$inst" ] || continue
		e=0 r=0 d=0 c=0 q=0
		if [ -f "$inst/fuzzer_stats" ]; then
			e=$(sed -n 's/^execs_done *: *//p' "$inst/fuzzer_stats")
			r=$(sed -n 's/^execs_per_sec *: *//p' "$inst/fuzzer_stats")
			d=$(sed -n 's/^edges_found *: *//p' "$inst/fuzzer_stats")
			c=$(sed -n 's/^bitmap_cvg *: *//p' "$inst/fuzzer_stats" | tr -d '%')
			q=$(sed -n 's/^corpus_count *: *//p' "$inst/fuzzer_stats")
		fi
		if [ -f "$inst/plot_data" ]; then
			# relative_time, cycles_done, cur_item, corpus_count,
			# pending_total, pending_favs, map_size, saved_crashes,
			# saved_hangs, max_depth, execs_per_sec, total_execs, edges_found
			read -r e r d c q < <(awk -F', *' -v e="${e:-0}" -v r="${r:-0}" -v d="${d:-0}" \
				-v c="${c:-0}" -v q="${q:-0}" '
				!/^#/ && NF >= 13 { le = $12; lr = $11; ld = $13; lc = $7; lq = $4 }
				END { sub(/%/, "", lc)
				      if (le + 0 > e + 0) { e = le; r = lr; d = ld; c = lc; q = lq }
				      print e + 0, int(r + 0), d + 0, c + 0, q + 0 }' "$inst/plot_data")
		fi
		# AFL++ may write "inf" or "-nan" before its first measurements.
		[[ "$e" =~ ^[0-9]+$ ]] || e=0
		r=${r%%.*}
		[[ "$r" =~ ^[0-9]+$ ]] || r=0
		[[ "$d" =~ ^[0-9]+$ ]] || d=0
		[[ "$c" =~ ^[0-9]+(\.[0-9]+)?$ ]] || c=0
		[[ "$q" =~ ^[0-9]+$ ]] || q=0
		execs=$((execs + ${e:-0}))
		rate=$((rate + ${r:-0}))
		[ "${d:-0}" -gt "$edges" ] && edges=$d
		awk -v a="${c:-0}" -v b="$cvg" 'BEGIN { exit !(a + 0 > b + 0) }' && cvg=${c:-0}
		[ "${q:-0}" -gt "$corpus" ] && corpus=$q
	done
	echo "$execs $rate $edges $cvg $corpus"
}

# One sample: a JSON line in DIR/stats.jsonl and a row of state/stats.dat
# (for gnuplot).  $1 dir, $2 seconds fuzzed.
cj_sample() {
	local dir=$1 t=$2 lf afl lexec lrate lcov lft aexec arate aedges acvg aq corpus sigs hits
	read -r lexec lrate lcov lft <<<"$(cj_lf_numbers "$dir")"
	read -r aexec arate aedges acvg aq <<<"$(cj_afl_numbers "$dir")"
	corpus=$(find -L "$dir/corpus" -maxdepth 1 -type f | wc -l)
	sigs=$(ls "$dir/state/sigs" 2>/dev/null | wc -l)
	hits=$(cat "$dir/state/processed" 2>/dev/null | wc -l)
	lf="\"libfuzzer\": {\"jobs\": $cj_nlf, \"execs\": $lexec, \"exec_s\": $lrate, \"cov\": $lcov, \"ft\": $lft}"
	afl="\"afl\": {\"jobs\": $cj_nafl, \"execs\": $aexec, \"exec_s\": $arate, \"edges\": $aedges, \"bitmap_cvg\": $acvg, \"queue\": $aq}"
	printf '{"time": %d, "unix": %d, "execs": %d, "exec_s": %d, "corpus": %d, "divergences": %d, "crashes": %d, %s, %s}\n' \
		"$t" "$(cj_now)" $((lexec + aexec)) $((lrate + arate)) "$corpus" "$sigs" "$hits" "$lf" "$afl" \
		>>"$dir/stats.jsonl"
	echo "$t $((lexec + aexec)) $lexec $aexec $lcov $aedges $corpus $sigs $((lrate + arate))" >>"$dir/state/stats.dat"
	cj_last_line="[${t}s/$(cj_conf "$dir" time)s] execs $((lexec + aexec)) ($((lrate + arate))/s), corpus $corpus, divergences $sigs ($hits crash files)"
	[ "$cj_nlf" -gt 0 ] && cj_last_line+=", libFuzzer cov $lcov ft $lft"
	[ "$cj_nafl" -gt 0 ] && cj_last_line+=", AFL++ edges $aedges (${acvg}% of the map)"
}

# DIR/stats.png: executions, coverage and corpus size over time.
cj_plot() {
	local dir=$1
	command -v gnuplot >/dev/null || { cj_say "gnuplot is not installed: no stats.png"; return 1; }
	[ -s "$dir/state/stats.dat" ] || return 1
	gnuplot 2>"$dir/tmp/gnuplot.err" <<EOF || { cj_say "gnuplot failed: $(head -1 "$dir/tmp/gnuplot.err")"; return 1; }
set terminal png size 900,1000
set output "$dir/tmp/stats.png.tmp"
set multiplot layout 3,1 title "spterace campaign: $(cj_conf "$dir" target), mutant $(cj_conf "$dir" mutant), engine $(cj_conf "$dir" engine), $(cj_conf "$dir" jobs) jobs"
set xlabel "seconds"
set key left top
set grid
set title "executions"
plot "$dir/state/stats.dat" using 1:2 with lines lw 2 title "total", \
     "" using 1:3 with lines title "libFuzzer", \
     "" using 1:4 with lines title "AFL++"
set title "coverage"
plot "$dir/state/stats.dat" using 1:5 with lines lw 2 title "libFuzzer cov (edges)", \
     "" using 1:6 with lines lw 2 title "AFL++ edges"
set title "corpus size and divergences"
set y2tics
plot "$dir/state/stats.dat" using 1:7 with lines lw 2 title "corpus inputs", \
     "" using 1:8 axes x1y2 with steps title "signatures (right axis)"
unset multiplot
EOF
	mv -f "$dir/tmp/stats.png.tmp" "$dir/stats.png"
}

# ---- jobs ------------------------------------------------------------------

# Run one engine process in the background and watch it: stop it when the
# runner is gone (kill -9) or when this job is told to stop.  Sets cj_rc.
cj_watch() {
	local jd=$1
	shift
	"$@" &
	cj_epid=$!
	echo "$cj_epid" >"$jd/engine.pid"
	while kill -0 "$cj_epid" 2>/dev/null; do
		if [ -n "$cj_job_stop" ] || ! kill -0 "$cj_runner" 2>/dev/null; then
			kill -TERM "$cj_epid" 2>/dev/null
			cj_job_stop=1
		fi
		sleep 1
	done
	wait "$cj_epid"
	cj_rc=$?
	rm -f "$jd/engine.pid"
}

# A libFuzzer job: fuzz the shared corpus until the deadline, restarting
# after each crash (libFuzzer stops at the first), so one campaign finds
# several divergences.  $1 dir, $2 job name.
cj_job_libfuzzer() {
	local dir=$1 name=$2 jd="$1/jobs/$2" run left fails=0 mutant sched
	mutant=$(cj_conf "$dir" mutant)
	cj_job_stop=""
	trap 'cj_job_stop=1' TERM INT
	mkdir -p "$jd/artifacts"
	echo "$BASHPID" >"$jd/pid"
	sched=$(cj_job_sched "$dir" "$name")
	printf '%s\n' "$sched" >"$jd/sched"
	if [ -n "$sched" ]; then export SPTERACE_SCHED=$sched; else unset SPTERACE_SCHED; fi
	local dict=() d
	d=$(cj_dict "$dir") && dict=(-dict="$d")
	run=$(ls "$jd" | sed -n 's/^run-\([0-9]*\)\.log$/\1/p' | sort -n | tail -1)
	while [ -z "$cj_job_stop" ]; do
		left=$((cj_deadline - $(cj_now)))
		[ "$left" -gt 0 ] || break
		run=$((${run:-0} + 1))
		cj_watch "$jd" nice -n 10 "$CAMPAIGN_LF" --mutant="$mutant" "${LIBFUZZER_FLAGS[@]}" -max_total_time="$left" \
			"${dict[@]}" -reload=1 -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
			-artifact_prefix="$jd/artifacts/" "$dir/corpus/" >"$jd/run-$run.log" 2>&1
		cj_collect_artifacts "$dir" "$jd"
		[ -n "$cj_job_stop" ] && break
		grep -q "Test unit written to" "$jd/run-$run.log" && { fails=0; continue; }
		[ "$cj_rc" -eq 0 ] && break
		# No artifact and an error: retry a few times, then give up.
		fails=$((fails + 1))
		if [ "$fails" -ge 3 ]; then
			echo "libFuzzer failed 3 times (status $cj_rc); see $jd/run-$run.log" >"$jd/failed"
			break
		fi
		sleep 1
	done
	rm -f "$jd/pid"
}

# The harness's dictionary (fuzz/<target>_fuzz.dict), if there is one.  $1 dir.
cj_dict() {
	local d
	d="${ROOT:-.}/fuzz/$(cj_conf "$1" target)_fuzz.dict"
	[ -f "$d" ] && echo "$d"
}

# An AFL++ instance: main (-M, imports the libFuzzer corpus with -F when
# libFuzzer jobs run) or a secondary (-S).  AFL++ keeps going after a
# crash; it is restarted only if it stops early.  $1 dir, $2 name.
cj_job_afl() {
	local dir=$1 name=$2 jd="$1/jobs/afl-$2" left fails=0 run input role mutant
	mutant=$(cj_conf "$dir" mutant)
	cj_job_stop=""
	trap 'cj_job_stop=1' TERM INT
	mkdir -p "$jd"
	echo "$BASHPID" >"$jd/pid"
	run=$(ls "$jd" | sed -n 's/^run-\([0-9]*\)\.log$/\1/p' | sort -n | tail -1)
	role=(-S "$name")
	if [ "$name" = main ]; then
		role=(-M main)
		[ "$cj_nlf" -gt 0 ] && role+=(-F "$dir/corpus")
	fi
	local d
	d=$(cj_dict "$dir") && role+=(-x "$d")
	while [ -z "$cj_job_stop" ]; do
		left=$((cj_deadline - $(cj_now)))
		[ "$left" -gt 0 ] || break
		run=$((${run:-0} + 1))
		input="$dir/seeds"
		[ -d "$dir/afl/$name/queue" ] && input=-
		cj_watch "$jd" env AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
			AFL_NO_AFFINITY=1 AFL_AUTORESUME=1 AFL_IMPORT_FIRST=1 SPTERACE_MUTANT="$mutant" \
			SPTERACE_TARGET="$(cj_conf "$dir" target)" \
			${CAMPAIGN_AFL_MUTATOR:+AFL_CUSTOM_MUTATOR_LIBRARY="$CAMPAIGN_AFL_MUTATOR"} \
			nice -n 10 "$CAMPAIGN_AFL_FUZZ" -i "$input" -o "$dir/afl" "${role[@]}" -V "$left" \
			-- "$CAMPAIGN_AFL" >"$jd/run-$run.log" 2>&1
		[ -n "$cj_job_stop" ] && break
		[ $((cj_deadline - $(cj_now))) -le 1 ] && break
		fails=$((fails + 1))
		if [ "$fails" -ge 3 ]; then
			echo "afl-fuzz stopped early 3 times (status $cj_rc); see $jd/run-$run.log" >"$jd/failed"
			break
		fi
		sleep 1
	done
	rm -f "$jd/pid"
}

# ---- the runner --------------------------------------------------------------

# Wait for the jobs of a killed runner to go away (they watch the runner
# and stop their engine within a second); engines still alive after 10 s
# are killed, if their command line names this campaign.  $1 dir.
cj_reap_stale() {
	local dir=$1 f pid i
	for i in $(seq 20); do
		local alive=""
		for f in "$dir"/jobs/*/pid "$dir"/jobs/*/engine.pid; do
			[ -f "$f" ] || continue
			pid=$(cat "$f")
			if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
				alive=1
			else
				rm -f "$f"
			fi
		done
		[ -z "$alive" ] && return 0
		[ "$i" -eq 1 ] && cj_say "waiting for the jobs of the previous runner to stop"
		sleep 0.5
	done
	for f in "$dir"/jobs/*/engine.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir" && kill -KILL "$pid" 2>/dev/null
		rm -f "$f"
	done
}

# Bring DIR to a consistent state after any stop: temporary files go,
# raw crash files of stopped jobs move to the inbox and are processed.
cj_recover() {
	local dir=$1 jd
	rm -rf "$dir/tmp"
	mkdir -p "$dir/tmp"
	find "$dir/inbox" "$dir/crashes" "$dir/state" -maxdepth 2 -name '*.tmp.*' -delete 2>/dev/null
	# An interrupted merge: the corpus link still names the old corpus.
	local cur
	cur=$(readlink "$dir/corpus")
	for jd in "$dir"/corpus.*; do
		[ -d "$jd" ] && [ "${jd##*/}" != "$cur" ] && rm -rf "$jd"
	done
	for jd in "$dir"/jobs/lf*; do
		[ -d "$jd" ] && cj_collect_artifacts "$dir" "$jd"
	done
	cj_import_afl_crashes "$dir" all
	cj_process_inbox "$dir"
}

# libFuzzer's merge of the corpus into a fresh directory, which replaces
# it by an atomic rename of the corpus link.  $1 dir.
cj_merge() {
	local dir=$1 cur next n before after
	cur=$(readlink "$dir/corpus")
	n=${cur#corpus.}
	next="corpus.$((n + 1))"
	rm -rf "${dir:?}/$next"
	mkdir -p "$dir/$next"
	before=$(find -L "$dir/corpus" -maxdepth 1 -type f | wc -l)
	if ! nice -n 10 "$CAMPAIGN_LF" --mutant="$(cj_conf "$dir" mutant)" -merge=1 -timeout=25 \
		-rss_limit_mb=2560 -merge_control_file="$dir/tmp/merge.ctl" -artifact_prefix="$dir/tmp/" \
		"$dir/$next" "$dir/$cur" >"$dir/merge.log" 2>&1 ||
		[ "$(find "$dir/$next" -maxdepth 1 -type f | wc -l)" -eq 0 ]; then
		rm -rf "${dir:?}/$next"
		cj_say "corpus merge failed (see $dir/merge.log); the corpus is kept as it was"
		return 1
	fi
	ln -sfn "$next" "$dir/tmp/corpus.link" && mv -T "$dir/tmp/corpus.link" "$dir/corpus"
	rm -rf "${dir:?}/$cur"
	after=$(find -L "$dir/corpus" -maxdepth 1 -type f | wc -l)
	cj_merged="$before -> $after inputs"
	echo "$cj_merged" >"$dir/state/merged"
}

# A path as the user typed it, relative to where they are.
cj_show() {
	case "$1" in
	"$CAMPAIGN_CWD"/*) echo "${1#"$CAMPAIGN_CWD"/}" ;;
	*) echo "$1" ;;
	esac
}

# Stop every job: ask, wait up to 15 s, then kill the process groups.
cj_stop_jobs() {
	local pid i
	for pid in "${cj_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for i in $(seq 30); do
		local alive=""
		for pid in "${cj_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ -z "$alive" ] && break
		sleep 0.5
	done
	for pid in "${cj_pids[@]}"; do
		kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}

# Run (or continue) the campaign in DIR; prints the summary; returns 0
# (nothing found), 1 (divergences kept in DIR/crashes) or 2.
cj_run() {
	local dir=$1 target mutant engine jobs time elapsed left start i sig="" f
	target=$(cj_conf "$dir" target)
	mutant=$(cj_conf "$dir" mutant)
	engine=$(cj_conf "$dir" engine)
	jobs=$(cj_conf "$dir" jobs)
	time=$(cj_conf "$dir" time)
	# What the campaign forced (--mm, --sched, --knobs), for every job.
	local v
	v=$(cj_conf "$dir" mm); if [ -n "$v" ]; then export SPTERACE_MM=$v; else unset SPTERACE_MM; fi
	v=$(cj_conf "$dir" sched); if [ -n "$v" ]; then export SPTERACE_SCHED=$v; else unset SPTERACE_SCHED; fi
	v=$(cj_conf "$dir" knobs); if [ -n "$v" ]; then export SPTERACE_KNOBS=$v; else unset SPTERACE_KNOBS; fi
	if [ -f "$dir/runner.pid" ]; then
		local other
		other=$(cat "$dir/runner.pid")
		[ -n "$other" ] && [ "$other" != "$$" ] && kill -0 "$other" 2>/dev/null &&
			cj_die "campaign $dir is running (pid $other)"
	fi
	echo "$$" >"$dir/runner.pid"
	cj_runner=$$
	cj_reap_stale "$dir"
	mkdir -p "$dir/inbox" "$dir/crashes" "$dir/jobs" "$dir/state/sigs" "$dir/state/alias"
	touch "$dir/state/processed"
	cj_recover "$dir"

	case "$engine" in
	libfuzzer) cj_nlf=$jobs cj_nafl=0 ;;
	afl) cj_nlf=0 cj_nafl=$jobs ;;
	both) cj_nafl=$((jobs / 2)) cj_nlf=$((jobs - jobs / 2)) ;;
	esac
	elapsed=$(cj_elapsed "$dir")
	left=$((time - elapsed))
	start=$(cj_now)
	cj_deadline=$((start + left))
	cj_pids=()
	cj_last_line=""
	if [ "$left" -gt 0 ]; then
		cj_say "campaign in $(cj_show "$dir"): '$target', mutant $mutant, $cj_nlf libFuzzer and $cj_nafl AFL++ jobs, ${left}s left of ${time}s"
		# Each job in its own process group, so a terminal's ^C reaches
		# the runner only, which stops the jobs in order.
		set -m
		for ((i = 0; i < cj_nlf; i++)); do
			cj_job_libfuzzer "$dir" "lf$i" </dev/null &
			cj_pids+=($!)
		done
		for ((i = 0; i < cj_nafl; i++)); do
			local inst=main
			[ "$i" -gt 0 ] && inst="s$i"
			cj_job_afl "$dir" "$inst" </dev/null &
			cj_pids+=($!)
		done
		set +m
		trap 'sig=SIGINT' INT
		trap 'sig=SIGTERM' TERM
		local next_tick=$start next_progress=$((start + CAMPAIGN_PROGRESS)) now running t
		cj_sample "$dir" "$elapsed"
		while :; do
			now=$(cj_now)
			t=$((elapsed + now - start))
			cj_write "$dir/elapsed" "$t"
			[ -n "$sig" ] && break
			[ "$now" -ge "$cj_deadline" ] && break
			running=""
			for f in "${cj_pids[@]}"; do kill -0 "$f" 2>/dev/null && running=1; done
			[ -z "$running" ] && break
			if [ "$now" -ge "$next_tick" ]; then
				next_tick=$((now + CAMPAIGN_TICK))
				cj_exchange "$dir"
				cj_import_afl_crashes "$dir"
				cj_process_inbox "$dir"
				cj_sample "$dir" "$t"
				if [ "$now" -ge "$next_progress" ]; then
					next_progress=$((now + CAMPAIGN_PROGRESS))
					cj_say "$cj_last_line"
				fi
			fi
			sleep 1
		done
		if [ -n "$sig" ]; then
			cj_say "$sig: stopping the jobs"
		else
			# At the deadline the engines stop by themselves; give them
			# a few seconds to write their final statistics.
			for i in $(seq 10); do
				running=""
				for f in "${cj_pids[@]}"; do kill -0 "$f" 2>/dev/null && running=1; done
				[ -z "$running" ] && break
				sleep 0.5
			done
		fi
		cj_stop_jobs
		now=$(cj_now)
		t=$((elapsed + now - start))
		[ "$t" -gt "$time" ] && t=$time
		[ -z "$sig" ] && [ "$now" -ge "$cj_deadline" ] && t=$time
		cj_write "$dir/elapsed" "$t"
	fi
	# Collect everything the stopped jobs left, then deduplicate.
	for f in "$dir"/jobs/lf*; do
		[ -d "$f" ] && cj_collect_artifacts "$dir" "$f"
	done
	cj_import_afl_crashes "$dir" all
	cj_exchange "$dir"
	cj_process_inbox "$dir"
	cj_sample "$dir" "$(cj_elapsed "$dir")"
	cj_merged=""
	if [ -z "$sig" ] && [ ! -e "$dir/state/merged" ]; then
		cj_merge "$dir"
	fi
	[ -z "$cj_merged" ] && [ -e "$dir/state/merged" ] && cj_merged=$(cat "$dir/state/merged")
	cj_plot "$dir"
	trap - INT TERM
	rm -f "$dir/runner.pid"
	cj_summary "$dir" "$sig"
}

cj_summary() {
	local dir=$1 sig=$2 n=0 id file sg first firsts hits engines lexec aexec e
	echo "target: $(cj_conf "$dir" target)"
	echo "mutant: $(cj_conf "$dir" mutant)"
	echo "engine: $(cj_conf "$dir" engine) ($cj_nlf libFuzzer, $cj_nafl AFL++ jobs)"
	echo "time: $(cj_elapsed "$dir")s of $(cj_conf "$dir" time)s"
	if [ -s "$dir/stats.jsonl" ]; then
		e=$(tail -1 "$dir/stats.jsonl")
		lexec=$(echo "$e" | sed -n 's/.*"libfuzzer": {[^}]*"execs": \([0-9]*\).*/\1/p')
		aexec=$(echo "$e" | sed -n 's/.*"afl": {[^}]*"execs": \([0-9]*\).*/\1/p')
		local secs
		secs=$(cj_elapsed "$dir")
		[ "$secs" -gt 0 ] || secs=1
		echo "exec/s: $(((lexec + aexec) / secs)) (executions: libFuzzer ${lexec:-0}, AFL++ ${aexec:-0})"
	fi
	[ -n "$cj_last_line" ] && echo "last sample: ${cj_last_line#*] }"
	echo "corpus: $(find -L "$dir/corpus" -maxdepth 1 -type f | wc -l) inputs${cj_merged:+ (merged: $cj_merged)}"
	echo "stats: $(cj_show "$dir/stats.jsonl")$([ -e "$dir/stats.png" ] && echo ", $(cj_show "$dir/stats.png")")"
	echo "log: $(cj_show "$dir/jobs")"
	for f in "$dir"/jobs/*/failed; do
		[ -f "$f" ] && cj_say "job ${f%/failed}: $(cat "$f")"
	done
	while IFS=$'\t' read -r id sg file first firsts hits engines; do
		case "$id" in '#'* | '') continue ;; esac
		echo "divergence: $(cj_show "$dir/$file")"
		echo "  signature: $sg (hits: $hits, first after ${firsts}s, by $engines)"
		n=$((n + 1))
	done <"$dir/divergences.tsv"
	echo "index: $(cj_show "$dir/divergences.tsv") ($n signatures)"
	if [ -n "$sig" ]; then
		echo "stopped: by $sig after $(cj_elapsed "$dir")s; continue with ./spterace fuzz --resume $(cj_show "$dir")"
	fi
	if [ "$n" -gt 0 ]; then
		echo "explain one with: ./spterace repro $(cj_show "$dir/$(awk -F'\t' '!/^#/ && NF {print $3; exit}' "$dir/divergences.tsv")")"
		return 1
	fi
	return 0
}

# ./spterace fuzz with --jobs, --engine both or --resume.
campaign_main() {
	local target=spte time=60 mutant=none out="" engine=libfuzzer jobs="" resume="" others=0
	CAMPAIGN_CWD=${CAMPAIGN_CWD:-$PWD}
	while [ $# -gt 0 ]; do
		case "$1" in
		--target | --time | --mutant | --out | --engine | --jobs | --resume)
			[ $# -ge 2 ] || cj_die "$1 needs a value"
			set -- "$1=$2" "${@:3}"
			;;
		esac
		case "$1" in
		--target=*) target=${1#*=} ;;
		--time=*) time=${1#*=} ;;
		--mutant=*) mutant=${1#*=} ;;
		--out=*) out=${1#*=} ;;
		--engine=*) engine=${1#*=} ;;
		--jobs=*) jobs=${1#*=} ;;
		--resume=*) resume=${1#*=}; others=$((others - 1)) ;;
		*) cj_die "fuzz: unknown option '$1' (options: --target, --time, --mutant, --out, --engine, --jobs, --resume)" ;;
		esac
		others=$((others + 1))
		shift
	done
	local dir
	if [ -n "$resume" ]; then
		[ "$others" -eq 0 ] || cj_die "--resume DIR takes no other option (DIR/campaign.conf has them)"
		dir=$resume
		[[ "$dir" = /* ]] || dir="$CAMPAIGN_CWD/$dir"
		[ -f "$dir/campaign.conf" ] || cj_die "$resume: not a campaign directory (no campaign.conf)"
		dir=$(cd "$dir" && pwd -P)
		campaign_prepare "$(cj_conf "$dir" target)" "$(cj_conf "$dir" engine)" || exit 2
		cj_run "$dir"
		return
	fi
	jobs=${jobs:-1}
	case "$engine" in libfuzzer | afl | both) ;; *) cj_die "unknown engine '$engine' (engines: libfuzzer, afl, both)" ;; esac
	[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || cj_die "--jobs must be a positive number, not '$jobs'"
	[ "$engine" = both ] && [ "$jobs" -lt 2 ] && cj_die "--engine both needs --jobs 2 or more"
	[[ "$time" =~ ^[1-9][0-9]*$ ]] || cj_die "--time must be a positive number of seconds, not '$time'"
	[[ "$target" =~ ^[a-z0-9]+$ ]] || cj_die "unknown target '$target'"
	[ -n "$out" ] || out="out/fuzz/$target-$mutant-campaign-$(date +%Y%m%d-%H%M%S)-$$"
	dir=$out
	[[ "$dir" = /* ]] || dir="$CAMPAIGN_CWD/$dir"
	[ -e "$dir/campaign.conf" ] && cj_die "$out holds a campaign already; continue it with --resume $out"
	campaign_prepare "$target" "$engine" || exit 2
	if [ "$mutant" != none ]; then
		"$CAMPAIGN_CLI" mutants | awk '{print $1}' | grep -qx -- "$mutant" ||
			cj_die "unknown mutant '$mutant' (see: ./spterace mutants)"
	fi
	mkdir -p "$dir/corpus.0" "$dir/seeds" "$dir/tmp" || cj_die "cannot create $out"
	dir=$(cd "$dir" && pwd -P)
	# Seeds are copied, never written to: the checked-in corpus stays clean.
	cp -n "$CAMPAIGN_SEEDS"/* "$dir/seeds/" 2>/dev/null
	# ./spterace adds the explored schedules of the canonical scenarios.
	if declare -F explore_seeds >/dev/null; then explore_seeds "$target" "$dir/seeds"; fi
	cp -n "$dir"/seeds/* "$dir/corpus.0/" 2>/dev/null
	[ -n "$(ls "$dir/seeds")" ] || printf 'seed' >"$dir/seeds/empty"
	[ -e "$dir/corpus" ] || ln -s corpus.0 "$dir/corpus"
	echo 0 >"$dir/elapsed"
	cj_write "$dir/campaign.conf" "$(printf 'target=%s\nmutant=%s\nengine=%s\njobs=%s\ntime=%s\nstarted=%s\nmm=%s\nsched=%s\nknobs=%s\n' \
		"$target" "$mutant" "$engine" "$jobs" "$time" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		"${SPTERACE_MM:-}" "${SPTERACE_SCHED:-}" "${SPTERACE_KNOBS:-}")"$'\n'
	cj_run "$dir"
}
