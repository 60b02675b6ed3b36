#!/bin/sh
# scripts/fuzz.sh SECONDS - build the ledger's libFuzzer target with clang (address and
# undefined sanitizers) and run it for SECONDS; exits non-zero on a finding.
# Build directory: $VMLEAK_FUZZ_BUILD, default <repo>/build-fuzz. Findings (crash-*)
# are written to <build>/findings.
set -eu
seconds=${1:?usage: scripts/fuzz.sh SECONDS}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${VMLEAK_FUZZ_BUILD:-$src/build-fuzz}
mkdir -p "$build/findings" "$build/corpus"
# Only what the target needs: the ledger and its test model (no other layers, so
# the fuzzer does not depend on the rest of the tree compiling).
clang -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 -I"$src" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	"$src/tests/fuzz_ledger.c" "$src/decoder/ledger.c" "$src/decoder/grow.c" \
	-o "$build/fuzz_ledger"
status=0
"$build/fuzz_ledger" -max_total_time="$seconds" -print_final_stats=1 -max_len=8192 \
	-artifact_prefix="$build/findings/" "$build/corpus" >"$build/fuzz.log" 2>&1 || status=$?
grep -E '^(#[0-9]+ +DONE|stat::|==[0-9]+==|SUMMARY)|differ after' "$build/fuzz.log" || true
if [ "$status" -ne 0 ]; then
	tail -n 40 "$build/fuzz.log"
	echo "fuzz.sh: FINDING (exit $status), see $build/findings and $build/fuzz.log"
	exit 1
fi
echo "fuzz.sh: no finding in ${seconds}s"
