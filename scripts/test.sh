#!/usr/bin/env bash
# scripts/test.sh - the test command: install what is missing, build with
# ASan+UBSan and -Werror, and run the whole suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
BUILD=${VMLEAK_TEST_BUILD:-build-test}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DVMLEAK_SANITIZE=ON -DVMLEAK_WERROR=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
# LeakSanitizer stops the world with ptrace; that is fine for the unit tests.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD"
ctest --output-on-failure -j2 "$@"
