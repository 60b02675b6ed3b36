#!/bin/sh
# bench/run.sh - build what the benchmarks need and run them (bench/run.py does
# the timing and prints the Markdown tables on standard output; progress goes
# to standard error).
#
# usage: bench/run.sh [--quick] [--build-dir DIR] [--no-build] [run.py options]
#   --quick          2 rounds, tiny sizes (the smoke test's mode)
#   --build-dir DIR  build directory (default: <source>/build-bench, configured
#                    RelWithDebInfo without sanitizers)
#   --no-build       use DIR as it is (its targets must already be built)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-bench"
do_build=1
pass=""
while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir) build="$2"; shift 2 ;;
	--no-build) do_build=0; shift ;;
	*) pass="$pass $1"; shift ;;
	esac
done
if [ "$do_build" = 1 ]; then
	if [ ! -f "$build/CMakeCache.txt" ]; then
		cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DVMLEAK_SANITIZE=OFF >&2
	fi
	cmake --build "$build" -j"$(nproc)" --target vmleak mmap_storm mmap_threads \
		syscall_heavy malloc_mix seccomp_floor clone_stack_leak >&2
fi
# shellcheck disable=SC2086 # $pass is a list of options
exec python3 "$src/bench/run.py" --build "$build" $pass
