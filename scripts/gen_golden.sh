#!/bin/sh
# scripts/gen_golden.sh [BUILD_DIR] - regenerates tests/golden/memcalls.{strace,raw}.
#
# Runs tests/progs/memcalls under strace once. memcalls makes its memory syscalls between
# two getppid() markers and records the raw inputs of each (number, six arguments, return
# value) in memcalls.raw; strace's lines between the markers go to memcalls.strace. Line N
# of one file is the same call as line N of the other. tests/check_format.c decodes and
# formats each raw line and must reproduce strace's line byte for byte.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
prog=$build/tests/progs/memcalls
golden=$src/tests/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$prog" ]; then
	echo "gen_golden: $prog not built (cmake --build $build --target prog_memcalls)" >&2
	exit 1
fi
strace -V | head -n 1 >&2
strace -o "$tmp/trace" -e trace=%memory,shmat,shmdt,getppid "$prog" "$tmp/raw" >/dev/null

# the lines strictly between the two getppid() markers
awk '/^getppid\(/ { m++; next } m == 1' "$tmp/trace" >"$tmp/strace"
n_strace=$(wc -l <"$tmp/strace")
n_raw=$(wc -l <"$tmp/raw")
if [ "$n_strace" -ne "$n_raw" ] || [ "$n_raw" -eq 0 ]; then
	echo "gen_golden: strace saw $n_strace calls, memcalls recorded $n_raw" >&2
	exit 1
fi
{
	echo "# memcalls raw calls: audit_arch nr a0 a1 a2 a3 a4 a5 rval is_error [addr:memory] (hex)"
	cat "$tmp/raw"
} >"$golden/memcalls.raw"
cp "$tmp/strace" "$golden/memcalls.strace"
echo "gen_golden: $n_raw calls written to $golden/memcalls.{strace,raw}" >&2
