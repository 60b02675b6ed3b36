#!/usr/bin/env bash
# scripts/demo.sh - install what is missing, build, and run vmleak on the seed's
# example: a loop that mmaps a 40 KiB clone() stack and never unmaps it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
BUILD=${VMLEAK_BUILD:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)"

echo
echo "== examples/clone_stack_leak: VSZ as the program runs (like pidstat -r) =="
"$BUILD"/examples/clone_stack_leak 20 --slow &
pid=$!
for _ in $(seq 1 6); do
	if [ -r /proc/$pid/status ]; then
		awk -v p=$pid '/^VmSize/ { printf "pid %s VSZ %s %s\n", p, $2, $3 }' /proc/$pid/status || true
	fi
	sleep 0.2
done
wait $pid || true

echo
echo "== vmleak -- examples/clone_stack_leak 20 =="
"$BUILD"/vmleak -- "$BUILD"/examples/clone_stack_leak 20
