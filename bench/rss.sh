#!/usr/bin/env bash
# bench/rss.sh [N] - vmleak's own memory with N live regions (default 1,000,000):
# peak RSS of vmleak tracing bench/workloads/million_regions, against the issue's
# bound of 64 bytes per live region plus a fixed few MiB. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
if [ ! -x /usr/bin/time ]; then
	echo "rss: n/a (needs /usr/bin/time: apt-get install time)"
	exit 0
fi
BUILD=${VMLEAK_BENCH_BUILD:-build-bench}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMLEAK_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target vmleak million_regions >/dev/null

# kernel VMAs: alternating prot keeps them apart, so raise the map count limit
need=$((N + 65536))
if [ "$(cat /proc/sys/vm/max_map_count)" -lt "$need" ]; then
	echo "rss: raising vm.max_map_count to $need (was $(cat /proc/sys/vm/max_map_count))"
	sysctl -q -w vm.max_map_count="$need"
fi

bare_kib=$(/usr/bin/time -f %M "$BUILD"/bench/million_regions 1000 2>&1 >/dev/null | tail -1)
for depth in 0 32; do
	out=$(mktemp)
	/usr/bin/time -f "%M %e" -o "$out.time" "$BUILD"/vmleak -q --depth "$depth" -j -o "$out" \
		-- "$BUILD"/bench/million_regions "$N"
	read -r kib secs <"$out.time"
	regions=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['totals']['regions'])" "$out")
	bound_kib=$(( (64 * N) / 1024 + 8 * 1024 ))
	echo "rss: depth $depth: $regions regions reported, vmleak peak RSS $kib KiB" \
		"($(( kib * 1024 / N )) bytes/region), bound $bound_kib KiB, $secs s"
	rm -f "$out" "$out.time"
done
echo "rss: (a small program alone: $bare_kib KiB)"
