#!/usr/bin/env bash
# Reads a 1,000,000-entry journal from head into the null output and reports CPU seconds.
# Usage: bench/journald/run.sh [workdir] [entries]   (the journal is made once and reused)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-/tmp/logship-bench-journald}"
n="${2:-1000000}"
bin="${LOGSHIP_BIN:-$root/build/daemon/logship}"
mkdir -p "$work/journal"
if [ ! -f "$work/journal/.complete-$n" ]; then
  rm -f "$work/journal/"*.journal "$work/journal/".complete-*
  python3 "$here/make_journal.py" "$work/journal/bench.journal" "$n" 2>/dev/null
  touch "$work/journal/.complete-$n"
fi
cat > "$work/bench.yaml" <<YAML
service:
  state_dir: $work/state
  exit_when_done: true
  log_level: warn
inputs:
  j:
    type: journald
    directory: $work/journal
    read_from: head
    follow: false
outputs:
  n:
    type: "null"
YAML
for run in 1 2 3; do
  rm -rf "$work/state"
  /usr/bin/time -f "%U %S %e %M" -o "$work/time" "$bin" run -c "$work/bench.yaml"
  read -r user sys wall rss < "$work/time"
  awk -v u="$user" -v s="$sys" -v w="$wall" -v r="$rss" -v n="$n" 'BEGIN {
    cpu = u + s
    printf "run: %d entries, cpu %.2fs (user %.2f sys %.2f), wall %.2fs, ", n, cpu, u, s, w
    printf "%.0f events/s per CPU-second, max RSS %.0f MiB\n", n / cpu, r / 1024 }'
done
