#!/usr/bin/env bash
# bench.sh measures aiobs as a user runs it and prints Markdown tables:
#
#   1. whole process (bin/aiobs under GNU time), at each size of a
#      synthetic organisation (internal/synth, 20 workloads per team, every
#      workload in dev, staging and prod) and on the bundled example:
#        render into an empty directory (everything rendered and written),
#        render over an unchanged tree (every unit reused),
#        render after one workload's model changed (the pre-commit case),
#        render --check on an unchanged tree, with the stat cache and
#        without it (AIOBS_CACHE=off: a fresh CI clone, every file hashed),
#        validate, remembered ("cached") and with --fresh;
#      median wall time, median peak RSS, CPU time;
#   2. how time and memory grow from one size to the next (the issue's
#      "10x the workloads costs at most 11x" check), for render into an
#      empty directory and over an unchanged tree;
#   3. what the rendered rules cost Prometheus and Loki (rulecost);
#   4. with GOBENCH=1, the Go benchmarks of every stage (go test -bench),
#      one row per benchmark with the median of COUNT runs.
#
# Usage: scripts/bench.sh [SIZE...]        (default sizes: 10 100 1000)
#
# Environment:
#   REPEAT=5        runs per measurement (the median is reported)
#   REPEAT_BIG=1    runs per measurement at 1,000 workloads and more
#   VALIDATE=example  inputs validate runs on: "example", "all", or "none"
#   GOBENCH=0       1 also runs the Go benchmarks of every stage
#   GOBENCH_SIZES=10,100  synthetic sizes of the Go benchmarks (minutes per size)
#   COUNT=5         go test -count for GOBENCH
#   BENCH_DIR=.aiobs-bench  where organisations, outputs, the cache and raw
#                           results go
#
# Timings on a shared machine are noisy: compare medians and CPU time, and
# ratios rather than absolute numbers. Nothing here asserts a target.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
REPEAT=${REPEAT:-5}
REPEAT_BIG=${REPEAT_BIG:-1}
VALIDATE=${VALIDATE:-example}
GOBENCH=${GOBENCH:-0}
COUNT=${COUNT:-5}
BENCH_DIR=${BENCH_DIR:-.aiobs-bench}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10 100 1000)

TIME=/usr/bin/time
if ! "$TIME" -f %e true 2>/dev/null; then
  echo "bench.sh: GNU time is needed at $TIME (apt-get install time)" >&2
  exit 3
fi

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
# A cache of its own, so that what the user's renders left does not count.
export AIOBS_CACHE=$BENCH_DIR/cache
BIN=$PWD/bin/aiobs
$GO build -o "$BIN" ./cmd/aiobs

# median prints the median of its numeric arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print m}'; }

# measure LABEL PREPARE CMD... runs PREPARE then CMD under GNU time REPEAT
# times and appends a table row. PREPARE runs untimed before each run.
ROWS=()
measure() {
  local label=$1 prepare=$2; shift 2
  local walls=() rss=() cpus=() code=0 i
  for ((i = 0; i < reps; i++)); do
    eval "$prepare"
    code=0
    "$TIME" -f '%e %M %U %S' -o "$BENCH_DIR/time.txt" "$@" >"$BENCH_DIR/last.out" 2>&1 || code=$?
    if [ "$code" -ne 0 ]; then
      echo "bench.sh: $label: exit $code:" >&2
      tail -5 "$BENCH_DIR/last.out" >&2
      exit 1
    fi
    read -r wall kb user sys <"$BENCH_DIR/time.txt"
    walls+=("$wall")
    rss+=("$(awk -v k="$kb" 'BEGIN {printf "%.0f", k/1024}')")
    cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {print u+s}')")
  done
  ROWS+=("| $label | $(median "${walls[@]}") | $(median "${rss[@]}") | $(median "${cpus[@]}") | $reps |")
  printf '%s\n' "${ROWS[-1]}" >&2
}

# flip toggles a -b suffix on the first model a decision file names, so each
# run of a measurement sees one workload changed.
flip() { perl -0pi -e 's/(model:\s*")([^"]*?)(-b)?"/$1.$2.($3?"":"-b")."\""/e' "$1"; }

# describe DIR prints "files, MB" of a rendered tree.
describe() { find "$1" -type f | wc -l | tr -d ' '; du -sm "$1" | cut -f1; }

# The largest organisations write more than render's default --max-bytes
# (4 GiB), a guard against runaway decisions rather than a limit of aiobs.
INPUTS=(example)
for n in "${SIZES[@]}"; do INPUTS+=("$n"); done

declare -A WALL RSS UWALL URSS
SHAPES=()
for input in "${INPUTS[@]}"; do
  decisions=$BENCH_DIR/org-$input
  rm -rf "$decisions" "$AIOBS_CACHE"
  if [ "$input" = example ]; then
    cp -r examples "$decisions"
    name=example
    changed=$decisions/assistants.cue
  else
    name="workloads=$input"
    $GO run ./internal/synth/cmd/synth -workloads "$input" -out "$decisions"
    teams=("$decisions"/team-*.cue)
    changed=${teams[0]}
  fi
  out=$BENCH_DIR/out-$input
  reps=$REPEAT
  if [ "$input" != example ] && [ "$input" -ge 1000 ]; then reps=$REPEAT_BIG; fi
  measure "$name | render (empty dir)" "rm -rf '$out'" "$BIN" render --max-bytes 0 --decisions "$decisions" --out "$out"
  WALL[$input]=$(echo "${ROWS[-1]}" | awk -F'|' '{print $4}')
  RSS[$input]=$(echo "${ROWS[-1]}" | awk -F'|' '{print $5}')
  # The stat cache leaves out files written in the last two seconds; a
  # first unchanged render records the rest.
  sleep 2.1
  "$BIN" render --max-bytes 0 --decisions "$decisions" --out "$out" >/dev/null
  measure "$name | render (unchanged)" ":" "$BIN" render --max-bytes 0 --decisions "$decisions" --out "$out"
  UWALL[$input]=$(echo "${ROWS[-1]}" | awk -F'|' '{print $4}')
  URSS[$input]=$(echo "${ROWS[-1]}" | awk -F'|' '{print $5}')
  measure "$name | render (one workload changed)" "flip '$changed'" "$BIN" render --max-bytes 0 --decisions "$decisions" --out "$out"
  if (( reps % 2 )); then flip "$changed"; fi
  sleep 2.1
  "$BIN" render --max-bytes 0 --decisions "$decisions" --out "$out" >/dev/null
  measure "$name | render --check (unchanged)" ":" "$BIN" render --check --max-bytes 0 --decisions "$decisions" --out "$out"
  measure "$name | render --check (unchanged, no cache)" ":" env AIOBS_CACHE=off "$BIN" render --check --max-bytes 0 --decisions "$decisions" --out "$out"
  if [ "$VALIDATE" = all ] || { [ "$VALIDATE" = example ] && [ "$input" = example ]; }; then
    "$BIN" validate --decisions "$decisions" --out "$out" >/dev/null
    measure "$name | validate (cached)" ":" "$BIN" validate --decisions "$decisions" --out "$out"
    measure "$name | validate --fresh" ":" "$BIN" validate --fresh --decisions "$decisions" --out "$out"
  fi
  read -r files mb < <(describe "$out" | paste -sd' ')
  SHAPES+=("| $name | $files | $mb |")
done

echo
echo "### Whole process (median of the runs; $(nproc) CPUs; $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty'))"
echo
echo "| input | command | wall s | max RSS MiB | CPU s (user+sys) | runs |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
printf '%s\n' "${ROWS[@]}"
echo
echo "| input | output files | output MiB |"
echo "| --- | ---: | ---: |"
printf '%s\n' "${SHAPES[@]}"

# growth TITLE WALLS RSSES prints how cost grows from one size to the next.
growth() {
  local -n walls=$2 rsses=$3
  echo
  echo "### Growth of $1: cost ratio per workload ratio (linear = 1.00)"
  echo
  echo "| from | to | workloads × | wall × | RSS × | wall × per workload × |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
  local prev= n
  for n in "${SIZES[@]}"; do
    if [ -n "$prev" ]; then
      awk -v a="$prev" -v b="$n" -v wa="${walls[$prev]}" -v wb="${walls[$n]}" -v ra="${rsses[$prev]}" -v rb="${rsses[$n]}" \
        'BEGIN {k=b/a; printf "| %d | %d | %.1f | %.2f | %.2f | %.2f |\n", a, b, k, wb/wa, rb/ra, (wb/wa)/k}'
    fi
    prev=$n
  done
}
if [ ${#SIZES[@]} -gt 1 ]; then
  growth "render (empty dir)" WALL RSS
  growth "render (unchanged)" UWALL URSS
fi

echo
echo "### What the rules cost (example)"
echo
$GO run ./internal/synth/cmd/rulecost "$BENCH_DIR/out-example"
last=${SIZES[-1]}
echo
echo "### What the rules cost (workloads=$last)"
echo
$GO run ./internal/synth/cmd/rulecost "$BENCH_DIR/out-$last"

if [ "$GOBENCH" = 1 ]; then
  sizes=${GOBENCH_SIZES:-10,100}
  raw=$BENCH_DIR/gobench.txt
  AIOBS_BENCH_SIZES=$sizes $GO test -run '^$' -bench . -benchmem -count "$COUNT" -timeout 0 ./... | tee "$raw" >&2
  echo
  echo "### Go benchmarks (median of $COUNT; sizes $sizes)"
  echo
  echo "| benchmark | ns/op | cpu-ns/op | B/op | allocs/op |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  awk '
    /^Benchmark/ {
      name = $1; sub(/-[0-9]+$/, "", name)
      if (!(name in seen)) { seen[name] = 1; order[++n] = name }
      for (i = 3; i < NF; i += 2) { k = name SUBSEP $(i+1); v[k] = v[k] " " $i }
    }
    function med(s,   a, m, i, j, t) {
      m = split(s, a, " "); if (m == 0) return "-"
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    function num(x) { return (x == "-") ? "-" : sprintf("%.0f", x) }
    END {
      for (i = 1; i <= n; i++) {
        b = order[i]
        printf "| %s | %s | %s | %s | %s |\n", b, num(med(v[b SUBSEP "ns/op"])), num(med(v[b SUBSEP "cpu-ns/op"])), num(med(v[b SUBSEP "B/op"])), num(med(v[b SUBSEP "allocs/op"]))
      }
    }' "$raw"
  echo
  echo "Compare two runs with benchstat: go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da old.txt $raw"
fi
