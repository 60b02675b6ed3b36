#!/usr/bin/env bash
# scripts/bootstrap.sh - install the Debian packages vmleak needs to build and
# test, and only those that are missing. Idempotent; prints what it installs.
set -euo pipefail

PACKAGES=(
	cmake gcc make libc6-dev pkg-config
	libunwind-dev libdw-dev libelf-dev libdebuginfod-dev libjson-c-dev
	check libsubunit-dev
	python3 strace binutils procps util-linux
	# a real 32-bit tracee for tests/integration/test_i386.py
	gcc-multilib
	# real servers and load generators for the reliability tests
	nginx-light redis-server redis-tools wrk
	# language runtimes for tests/integration/test_runtimes.py (a nodejs
	# already installed from elsewhere counts); gcc -static uses libc6-dev's libc.a
	openjdk-17-jdk-headless nodejs golang-go
	# a real browser for the --format html test (tests/integration/test_html.py)
	chromium
	# the Debian package and its checks (tests/integration/test_package.py)
	dpkg-dev lintian bash-completion
	# a local debuginfod server and a private network for its test
	debuginfod iproute2
)
# extra packages a caller asks for (e.g. tests that need a server)
PACKAGES+=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "bootstrap: all ${#PACKAGES[@]} packages present"
	exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2
		exit 1
	fi
	SUDO=(sudo)
fi

echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The servers are for tests that start their own instances on 127.0.0.1: keep
# the packages from starting system-wide services (listening on every address).
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
	"${SUDO[@]}" chmod 755 "$policy"
	made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "bootstrap: done"
