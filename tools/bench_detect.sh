# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# ./spterace bench detect: time and executions to the first detection of
# each mutant, per engine, over N independent runs.  Sourced by ./spterace,
# which provides die, say, setup, cli, bazel_quiet, libfuzzer_bin, median
# and TARGETS.
#
# Engines:
#   libfuzzer  the harness under libFuzzer (ASan + UBSan), from the seed
#              corpus (--from seeds), an empty one (--from empty) or corpus
#              directories (--from DIR[,DIR...]: run i starts from a copy of
#              the ((i - 1) mod k)-th, such as the corpora of earlier
#              campaigns on the faithful model: how fast a carried corpus
#              catches a regression), with
#              the interleaving feedback on or off (--feedback) and the
#              structure-aware mutator on or off (--mutator)
#   random     the same harness on uniformly random inputs, no feedback
#   stress     mmu/spte.c on real threads and memory (baseline/stress.c),
#              for the mutants of the writer and reader protocol; it gets
#              every CPU (a writer and a reader must run in parallel)
#
# --protocol FILE.c[,FILE.c...] measures plugged protocols (docs/your-protocol.md)
# instead of the built-in mutants: each file is a row, named by its base
# name, run on the faithful model with the file's primitives (libfuzzer and
# random; stress runs mmu/spte.c only, so its rows are n/a).
#
# Each run is pinned to one CPU (--cpu) and capped at --time seconds.  The
# raw results go to DIR/detect.csv (one line per run), the summary to
# DIR/detect.md (also printed) and a plot to DIR/detect.png (gnuplot).
# Until every run is done, each finished run's line is in DIR/runs/N (N:
# the run's place in the order of detect.csv; empty while it runs), so a
# benchmark stopped early keeps what it measured.

# Flags of every libFuzzer run of ./spterace (fuzz, campaigns, bench
# detect and speed), which sources this file; fuzz/*_fuzz.options has the
# same for OSS-Fuzz (checked by //tools:oss_fuzz_build_test).  Entropic
# counts a feature as rare while it was hit at most 4 times (libFuzzer's
# default: 255).  The interleaving feedback makes thousands of features,
# and libFuzzer searches its rare list for each of them on every run: 4
# instead of 255 runs the mmu harness 1.5x faster (507 -> 793 exec/s,
# docs/results.md).
LIBFUZZER_FLAGS=(-entropic_feature_frequency_threshold=4)

# The small-scope knobs (fuzz/program.c's knob_names), for --knobs here and
# in ./spterace fuzz: knobs_valid LIST succeeds when LIST is none or a
# comma-separated list of them.
KNOB_NAMES="narrow-count, force-slow, volatile, lazy-drains"
knobs_valid() {
	local k="(${KNOB_NAMES//, /|})"
	[[ "$1" =~ ^(none|$k(,$k)*)$ ]]
}

bench_detect() {
	local runs=5 time=120 only="" target=spte core=0 engine=all from=seeds out="" feedback=on protos=""
	local mm="" sched="" knobs="" mutator=on near=on
	declare -A proto_so=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--target) [ $# -ge 2 ] || die "--target needs a value"; target=$2; shift 2 ;;
		--cpu) [ $# -ge 2 ] || die "--cpu needs a value"; core=$2; shift 2 ;;
		--runs) [ $# -ge 2 ] || die "--runs needs a value"; runs=$2; shift 2 ;;
		--time) [ $# -ge 2 ] || die "--time needs a value"; time=$2; shift 2 ;;
		--mutant) [ $# -ge 2 ] || die "--mutant needs a value"; only=$2; shift 2 ;;
		--engine) [ $# -ge 2 ] || die "--engine needs a value"; engine=$2; shift 2 ;;
		--from) [ $# -ge 2 ] || die "--from needs a value"; from=$2; shift 2 ;;
		--feedback) [ $# -ge 2 ] || die "--feedback needs a value"; feedback=$2; shift 2 ;;
		--mutator) [ $# -ge 2 ] || die "--mutator needs a value"; mutator=$2; shift 2 ;;
		--near-misses) [ $# -ge 2 ] || die "--near-misses needs a value"; near=$2; shift 2 ;;
		--out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
		--protocol) [ $# -ge 2 ] || die "--protocol needs a file"; protos=$2; shift 2 ;;
		--mm) [ $# -ge 2 ] || die "--mm needs a value"; mm=$2; shift 2 ;;
		--sched) [ $# -ge 2 ] || die "--sched needs a value"; sched=$2; shift 2 ;;
		--knobs) [ $# -ge 2 ] || die "--knobs needs a value"; knobs=$2; shift 2 ;;
		*) die "bench detect: unknown option '$1'" ;;
		esac
	done
	[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive number"
	[[ "$time" =~ ^[1-9][0-9]*$ ]] || die "--time must be a positive number of seconds"
	local c cores=()
	for c in ${core//,/ }; do
		[[ "$c" =~ ^[0-9]+$ ]] && [ "$c" -lt "$(nproc)" ] ||
			die "--cpu must be CPU numbers below $(nproc), separated by commas"
		cores+=("$c")
	done
	[ ${#cores[@]} -gt 0 ] || die "--cpu must be CPU numbers below $(nproc), separated by commas"
	case " ${TARGETS[*]} " in *" $target "*) ;; *) die "unknown target '$target' (targets: ${TARGETS[*]})" ;; esac
	local engines
	case "$engine" in
	all) engines="libfuzzer random stress" ;;
	libfuzzer | random | stress) engines=$engine ;;
	*) die "--engine must be libfuzzer, random, stress or all" ;;
	esac
	local from_dirs=() from_label="the $from" d abs
	case "$from" in
	seeds | empty) ;;
	*)
		local parts=()
		# Leading, doubled and trailing commas (read drops a trailing empty field).
		[[ ! "$from" =~ (^|,)(,|$) ]] || die "--from: an empty directory name in '$from'"
		IFS=, read -r -a parts <<<"$from"
		for d in "${parts[@]}"; do
			abs=$(cd "$CALLER" && cd -- "$d" 2>/dev/null && pwd) ||
				die "--from must be seeds, empty or corpus directories: no directory '$d'"
			[ -n "$(ls -A -- "$abs")" ] || die "--from $d: the directory is empty"
			from_dirs+=("$abs")
		done
		from_label="${#from_dirs[@]} corpus director$([ ${#from_dirs[@]} -eq 1 ] && echo y || echo ies)"
		;;
	esac
	case "$feedback" in on | off) ;; *) die "--feedback must be on or off" ;; esac
	case "$mutator" in on | off) ;; *) die "--mutator must be on or off" ;; esac
	case "$near" in on | off) ;; *) die "--near-misses must be on or off" ;; esac
	case "$mm" in "" | sc | tso | relaxed) ;; *) die "--mm must be sc, tso or relaxed" ;; esac
	[ "$mm" != relaxed ] || [ "$target" = spte ] || die "--mm relaxed is for the spte target only"
	case "$sched" in "" | preempt | bytes | pct) ;; *) die "--sched must be preempt, bytes or pct" ;; esac
	[ -z "$knobs" ] || knobs_valid "$knobs" ||
		die "--knobs is none or a comma-separated list of $KNOB_NAMES"
	# The overrides reach every engine's harness through the environment;
	# stress runs the spte functions on the host, which has none of them.
	if [ -n "$mm" ]; then export SPTERACE_MM=$mm; else unset SPTERACE_MM; fi
	if [ -n "$sched" ]; then export SPTERACE_SCHED=$sched; else unset SPTERACE_SCHED; fi
	if [ -n "$knobs" ]; then export SPTERACE_KNOBS=$knobs; else unset SPTERACE_KNOBS; fi
	setup
	local mutants
	mutants=$(cli mutants | awk '{print $1}') || exit 2
	[ -z "$protos" ] || [ -z "$only" ] || die "--protocol and --mutant do not go together"
	if [ -n "$protos" ]; then
		mutants=""
	elif [ -n "$only" ]; then
		local want
		for want in ${only//,/ }; do
			echo "$mutants" | grep -qx -- "$want" ||
				die "unknown mutant '$want' (see: ./spterace mutants)"
		done
		mutants=${only//,/ }
	fi
	[ -n "$out" ] || out="out/bench/detect-$target-$(date +%Y%m%d-%H%M%S)-$$"
	out=$(cd "$CALLER" && mkdir -p -- "$out" && cd -- "$out" && pwd) || die "cannot create $out"
	[ -e "$out/detect.csv" ] && die "$out/detect.csv exists: choose another --out"
	local pf pname
	for pf in ${protos//,/ }; do
		pname=$(basename "$pf" .c)
		[ -z "${proto_so[$pname]:-}" ] || die "two protocol files named $pname"
		local pabs
		pabs=$(cd "$CALLER" && readlink -f -- "$pf" 2>/dev/null)
		[ -n "$pabs" ] && [ -f "$pabs" ] || die "$pf: no such file"
		mkdir -p "$out/protocol"
		"$ROOT/tools/protocol_build.sh" "$pabs" "$out/protocol/$pname.so" "$pf" || exit 2
		proto_so[$pname]=$out/protocol/$pname.so
		mutants="$mutants $pname"
	done

	# Copies of the binaries: a build during a long benchmark must not change them.
	local snap lf_bin="" rnd_bin=""
	snap=$(mktemp -d)
	trap "rm -rf '$snap'" EXIT
	if [[ " $engines " == *" libfuzzer "* ]]; then
		lf_bin=$(libfuzzer_bin "$target") || exit 2
		cp "$lf_bin" "$snap/libfuzzer" || die "cannot copy $lf_bin"
	fi
	if [[ " $engines " == *" stress "* ]]; then
		bazel_quiet build //baseline:stress || die "build of //baseline:stress failed"
		cp bazel-bin/baseline/stress "$snap/stress" || die "cannot copy the stress binary"
	fi
	if [[ " $engines " == *" random "* ]]; then
		bazel_quiet build --config=libfuzzer "//fuzz:${target}_random" ||
			die "build of //fuzz:${target}_random failed"
		cp "$(bazel info --config=libfuzzer bazel-bin 2>/dev/null)/fuzz/${target}_random" \
			"$snap/random" || die "cannot copy the random driver"
	fi

	# Mutants the target cannot express get n/a rows, not runs.
	local expressible
	expressible=$(cli mutants --target "$target") || exit 2
	say "$target: $runs runs of at most ${time}s per mutant and engine ($engines), libFuzzer from $from_label, on CPU ${cores[*]}; results in $(show "$out")"
	echo "engine,mutant,run,detected,seconds,execs,phase" >"$out/detect.csv"
	# Runs go one per CPU of --cpu at a time, each pinned to its CPU; their
	# lines (DIR/runs/N) are collected in the order of the runs.  stress
	# runs use every CPU (a writer and a reader in parallel), so they run
	# alone.
	local m e i n=0 busy=() lines
	lines=$out/runs
	mkdir -p "$lines"
	for m in $mutants; do
		for e in $engines; do
			for i in $(seq 1 "$runs"); do
				n=$((n + 1))
				if [ -n "${proto_so[$m]:-}" ] && [ "$e" = stress ]; then
					echo "$e,$m,$i,na,,," >"$lines/$n"
					continue
				fi
				if [ -z "${proto_so[$m]:-}" ] && ! echo "$expressible" | grep -qx -- "$m"; then
					echo "$e,$m,$i,na,,," >"$lines/$n"
					continue
				fi
				if [ "$e" = stress ]; then
					wait
					busy=()
					bench_detect_run "$e" "$m" "$i" "${cores[0]}" >"$lines/$n"
					continue
				fi
				# The first CPU with no run on it, else wait for one.
				local slot=""
				while [ -z "$slot" ]; do
					for c in "${!cores[@]}"; do
						if [ -z "${busy[$c]:-}" ] || ! kill -0 "${busy[$c]}" 2>/dev/null; then
							slot=$c
							break
						fi
					done
					[ -n "$slot" ] || wait -n 2>/dev/null || sleep 0.2
				done
				bench_detect_run "$e" "$m" "$i" "${cores[$slot]}" >"$lines/$n" &
				busy[$slot]=$!
			done
		done
	done
	wait
	for i in $(seq 1 "$n"); do
		cat "$lines/$i" >>"$out/detect.csv"
	done
	rm -rf "$lines"
	bench_detect_summary "$out/detect.csv" "$time" >"$out/detect.md"
	{
		echo
		echo "Machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), clang-14; one run per CPU at a time, on CPU ${cores[*]}."
		echo "Command: ./spterace bench detect --target $target --runs $runs --time $time --engine $engine --from $from --feedback $feedback --mutator $mutator --near-misses $near${mm:+ --mm $mm}${sched:+ --sched $sched}${knobs:+ --knobs $knobs}${only:+ --mutant $only}${protos:+ --protocol $protos}"
		echo "Binary: commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ', with local changes')."
	} >>"$out/detect.md"
	cat "$out/detect.md"
	bench_detect_plot "$out" "$time" && echo "plot: $(show "$out")/detect.png"
}

# One run on CPU $4: prints its CSV line.  Uses target, time, from, from_dirs, snap.
bench_detect_run() {
	local e=$1 m=$2 i=$3 core=$4 dir start end log secs execs found=0 phase=""
	# A plugged protocol runs on the faithful model with its primitives.
	if [ -n "${proto_so[$m]:-}" ]; then
		export SPTERACE_PROTOCOL=${proto_so[$m]}
		m=none
	else
		unset SPTERACE_PROTOCOL
	fi
	dir=$(mktemp -d)
	mkdir "$dir/corpus" "$dir/art"
	case "$e" in
	libfuzzer)
		if [ "$from" = seeds ]; then
			cp corpus/"$target"/* "$dir/corpus/"
		elif [ ${#from_dirs[@]} -gt 0 ]; then
			cp -- "${from_dirs[$(((i - 1) % ${#from_dirs[@]}))]}"/* "$dir/corpus/"
		fi
		start=$(date +%s.%N)
		log=$(taskset -c "$core" "$snap/libfuzzer" --mutant="$m" --feedback="$feedback" --mutator="$mutator" --near-misses="$near" "${LIBFUZZER_FLAGS[@]}" \
			-seed="$i" -max_total_time="$time" -artifact_prefix="$dir/art/" "$dir/corpus" 2>&1)
		end=$(date +%s.%N)
		ls "$dir"/art/crash-* >/dev/null 2>&1 && found=1
		# Before INITED: an input of the starting corpus diverged as it was loaded.
		[ $found -eq 1 ] && phase=fuzz && ! echo "$log" | grep -qE '^#[0-9]+[[:space:]]+INITED' && phase=replay
		secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
		execs=$(echo "$log" | grep -o '^#[0-9]*' | tail -1 | tr -d '#')
		;;
	random | stress)
		if [ "$e" = random ]; then
			log=$(taskset -c "$core" "$snap/random" --mutant="$m" --seed="$i" --time="$time" \
				--artifact="$dir/art/crash" 2>&1)
		else
			log=$("$snap/stress" --mutant="$m" --seed="$i" --time="$time" \
				--artifact="$dir/art/crash" 2>&1)
			if [ $? -eq 3 ]; then
				rm -rf "$dir"
				echo "$e,$m,$i,na,,,"
				return
			fi
		fi
		if [ -e "$dir/art/crash" ]; then
			found=1
			secs=$(echo "$log" | sed -n 's/^[a-z]*: divergence after [0-9]* executions, \([0-9]*\) ms.*/\1/p' |
				awk '{ printf "%.2f", $1 / 1000 }')
			execs=$(echo "$log" | sed -n 's/^[a-z]*: divergence after \([0-9]*\) executions.*/\1/p')
		else
			secs=$time
			execs=$(echo "$log" | sed -n 's/^[a-z]*: no divergence in \([0-9]*\) executions.*/\1/p')
		fi
		;;
	esac
	rm -rf "$dir"
	echo "$e,$2,$i,$found,${secs:-$time},${execs:-0},$phase"
}

# The Markdown table: per mutant and engine, the detection rate and the
# median, minimum and maximum time and median executions of the detecting
# runs; then the mutants an input of the starting corpus exposed on replay.
bench_detect_summary() {
	local csv=$1 cap=$2
	echo "| mutant | engine | detected | median s | min s | max s | median execs |"
	echo "|---|---|---|---|---|---|---|"
	local m e
	for m in $(tail -n +2 "$csv" | cut -d, -f2 | awk '!seen[$0]++'); do
		for e in $(tail -n +2 "$csv" | awk -F, -v m="$m" '$2 == m { print $1 }' | awk '!seen[$0]++'); do
			local rows n found
			rows=$(awk -F, -v m="$m" -v e="$e" '$1 == e && $2 == m' "$csv")
			n=$(echo "$rows" | grep -c .)
			if echo "$rows" | grep -q ',na,'; then
				printf '| %s | %s | n/a | - | - | - | - |\n' "$m" "$e"
				continue
			fi
			found=$(echo "$rows" | awk -F, '$4 == 1' | grep -c .)
			if [ "$found" -eq 0 ]; then
				printf '| %s | %s | 0/%d | > %s | - | - | - |\n' "$m" "$e" "$n" "$cap"
				continue
			fi
			local det
			det=$(echo "$rows" | awk -F, '$4 == 1')
			printf '| %s | %s | %d/%d | %.2f | %.2f | %.2f | %.0f |\n' "$m" "$e" "$found" "$n" \
				"$(echo "$det" | cut -d, -f5 | median)" \
				"$(echo "$det" | cut -d, -f5 | sort -n | head -1)" \
				"$(echo "$det" | cut -d, -f5 | sort -n | tail -1)" \
				"$(echo "$det" | cut -d, -f6 | median)"
		done
	done
	# Detections by an input of the starting corpus, before any fuzzing.
	local replayed
	replayed=$(tail -n +2 "$csv" | awk -F, '$7 == "replay" {
		if (!($2 in n)) order[++k] = $2
		n[$2]++
	} END { for (i = 1; i <= k; i++) printf "%s%s (%d)", (i > 1 ? ", " : ""), order[i], n[order[i]] }')
	if [ -n "$replayed" ]; then
		echo
		echo "Found while libFuzzer replayed the starting corpus, before any mutation (runs): $replayed."
	fi
}

# detect.png: median seconds to detection per mutant and engine, log scale;
# a mutant an engine never found is drawn at the time cap, and a mutant
# outside an engine's reach (n/a) is not drawn.
bench_detect_plot() {
	local out=$1 cap=$2
	command -v gnuplot >/dev/null || { say "gnuplot not installed: no plot"; return 1; }
	awk -F'|' -v cap="$cap" 'NR > 2 && NF > 7 {
		gsub(/ /, "", $2); gsub(/ /, "", $3); gsub(/ /, "", $4); gsub(/ /, "", $5)
		if (!($2 in row)) { order[++n] = $2; row[$2] = 1 }
		if (!($3 in engines)) { engines[$3] = 1; en[++k] = $3 }
		if ($4 != "n/a")
			val[$2, $3] = ($5 ~ /^>/) ? cap : ($5 < 0.001 ? 0.001 : $5)   # log scale
	} END {
		printf "mutant"; for (j = 1; j <= k; j++) printf " %s", en[j]; printf "\n"
		for (i = 1; i <= n; i++) {
			printf "%s", order[i]
			for (j = 1; j <= k; j++) printf " %s", ((order[i], en[j]) in val) ? val[order[i], en[j]] : "?"
			printf "\n"
		}
	}' "$out/detect.md" >"$out/detect.dat"
	local cols
	cols=$(head -1 "$out/detect.dat" | awk '{ print NF }')
	gnuplot <<EOF 2>/dev/null || { say "gnuplot failed: no plot"; return 1; }
set terminal pngcairo size 1300,600 noenhanced
set output "$out/detect.png"
set title "median time to first detection (capped at ${cap} s; undetected drawn at the cap)"
set datafile missing "?"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.0005:$((cap * 2))]
set ylabel "seconds"
set xtics rotate by -35 scale 0
set key outside top right autotitle columnhead
plot for [c=2:$cols] "$out/detect.dat" using c:xtic(1)
EOF
}

# ./spterace bench results: docs/results.md (and docs/results-*.png), the
# latest speed and detection tables with the commands and machine that
# produced them.  Options go to bench detect (--runs, --time, --cpu,
# --engine, --from, --feedback); --speed-time S is bench speed's time per
# measurement.  Benchmarks that already ran can be used instead of running
# them again: --use DIR (repeatable) takes the table and plot of a bench
# detect --out DIR, each under the command that made it, and --speed FILE
# the output of a bench speed.
bench_results() {
	local speed_time=30 args=() core=0 uses=() speed_file=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--speed-time) [ $# -ge 2 ] || die "--speed-time needs a value"; speed_time=$2; shift 2 ;;
		--cpu) [ $# -ge 2 ] || die "--cpu needs a value"; core=$2; args+=("$1" "$2"); shift 2 ;;
		--runs | --time | --engine | --from | --feedback)
			[ $# -ge 2 ] || die "$1 needs a value"; args+=("$1" "$2"); shift 2 ;;
		--use) [ $# -ge 2 ] || die "--use needs a directory"
			[ -f "$CALLER/$2/detect.md" ] || [ -f "$2/detect.md" ] ||
				die "--use $2: no detect.md there (the --out of a bench detect)"
			uses+=("$(cd "$CALLER" && cd -- "$2" && pwd)"); shift 2 ;;
		--speed) [ $# -ge 2 ] || die "--speed needs a file"
			speed_file=$(cd "$CALLER" && readlink -f -- "$2") && [ -s "$speed_file" ] ||
				die "--speed $2: no such file (the output of a bench speed)"
			shift 2 ;;
		*) die "bench results: unknown option '$1'" ;;
		esac
	done
	[[ "$speed_time" =~ ^[1-9][0-9]*$ ]] || die "--speed-time must be a positive number of seconds"
	local work t d i=0
	work=$(mktemp -d "$ROOT/out/results.XXXXXX" 2>/dev/null) ||
		{ mkdir -p "$ROOT/out" && work=$(mktemp -d "$ROOT/out/results.XXXXXX"); } ||
		die "cannot create a work directory under out/"
	if [ -n "$speed_file" ]; then
		cp "$speed_file" "$work/speed.md"
	else
		(bench_speed --time "$speed_time" --cpu "${core%%,*}") >"$work/speed.md" || die "bench speed failed"
	fi
	if [ ${#uses[@]} -eq 0 ]; then
		for t in "${TARGETS[@]}"; do
			(bench_detect --target "$t" "${args[@]}" --out "$work/$t") >/dev/null ||
				die "bench detect --target $t failed"
			uses+=("$work/$t")
		done
	fi
	{
		echo "# Results"
		echo
		local how="./spterace bench results${args[*]:+ ${args[*]}}"
		[ -n "$speed_file" ] && how="$how --speed $(show "$speed_file")" || how="$how --speed-time $speed_time"
		for d in "${uses[@]}"; do
			case "$d" in "$work"/*) ;; *) how="$how --use $(show "$d")" ;; esac
		done
		echo "Generated by \`$how\` on $(date -u +%Y-%m-%d),"
		echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
		echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
		echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), clang-14, Bazel $(cat .bazelversion)."
		echo
		echo "## Speed"
		echo
		cat "$work/speed.md"
		for d in "${uses[@]}"; do
			i=$((i + 1))
			t=$(sed -n 's/^Command: .*--target \([a-z]*\).*/\1/p' "$d/detect.md")
			local e fb
			e=$(sed -n 's/^Command: .*--engine \([a-z]*\).*/\1/p' "$d/detect.md")
			fb=$(sed -n 's/^Command: .*--feedback \([a-z]*\).*/\1/p' "$d/detect.md")
			local dmm dsched
			dmm=$(sed -n 's/^Command: .*--mm \([a-z]*\).*/\1/p' "$d/detect.md")
			dsched=$(sed -n 's/^Command: .*--sched \([a-z]*\).*/\1/p' "$d/detect.md")
			local dknobs dmut dnear
			dknobs=$(sed -n 's/^Command: .*--knobs \([a-z,-]*\).*/\1/p' "$d/detect.md")
			# Runs from before the structure-aware mutator had libFuzzer's only.
			dmut=$(sed -n 's/^Command: .*--mutator \([a-z]*\).*/\1/p' "$d/detect.md")
			# ... and none before the near-miss pool (--near-misses).
			dnear=$(sed -n 's/^Command: .*--near-misses \([a-z]*\).*/\1/p' "$d/detect.md")
			echo
			echo "## Detection, ${t:-?} target, engines: ${e:-?}${fb:+, interleaving feedback $fb}, structure-aware mutator ${dmut:-off}${dnear:+, near misses $dnear}${dsched:+, schedule $dsched}${dmm:+, memory $dmm}${dknobs:+, knobs $dknobs}"
			echo
			cat "$d/detect.md"
			if [ -e "$d/detect.png" ]; then
				cp "$d/detect.png" "$work/results-$i.png"
				echo
				echo "![median time to detection, ${t:-?} target](results-$i.png)"
			fi
		done
		echo
		echo "Engines: libfuzzer is the platform (libFuzzer, ASan + UBSan); random runs the same"
		echo "harness on uniformly random inputs; stress runs mmu/spte.c on real threads and memory"
		echo "(n/a: a mutant it cannot express). Times are wall-clock to the first crash file; a"
		echo "run that found nothing counts as undetected, and \"> T\" means no run found it."
	} >"$work/results.md"
	mkdir -p docs
	rm -f docs/results-*.png
	cp "$work"/results-*.png docs/ 2>/dev/null
	mv "$work/results.md" docs/results.md || die "cannot write docs/results.md"
	say "wrote docs/results.md (raw data in $(show "$work"))"
}
