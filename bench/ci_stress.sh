#!/usr/bin/env bash
# The test suite on a loaded machine, as CI may be: every core kept busy by a CPU burner while the
# command runs, RUNS times in a row; exits non-zero at the first red run.
#   bash bench/ci_stress.sh [RUNS] [COMMAND...]     default: 3 runs of `make test`
# From a clean clone (what CI sees): git clone /path/to/repo /tmp/stress && cd /tmp/stress && bash bench/ci_stress.sh
set -euo pipefail
runs=${1:-3}
shift || true
command=("$@")
[ ${#command[@]} -gt 0 ] || command=(make test)

burners=()
stop_burners() { [ ${#burners[@]} -eq 0 ] || kill "${burners[@]}" 2>/dev/null || true; }
trap stop_burners EXIT
for _ in $(seq "$(nproc)"); do
    (while :; do :; done) &
    burners+=($!)
done
echo "ci_stress: $(nproc) CPU burner(s) running; ${runs} run(s) of: ${command[*]}"

for run in $(seq "$runs"); do
    started=$(date +%s)
    if "${command[@]}"; then
        echo "ci_stress: run ${run}/${runs} green in $(( $(date +%s) - started )) s"
    else
        echo "ci_stress: run ${run}/${runs} RED after $(( $(date +%s) - started )) s"
        exit 1
    fi
done
echo "ci_stress: ${runs}/${runs} green"
