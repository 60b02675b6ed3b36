#!/usr/bin/env bash
# bench/attach.sh - what attaching costs a busy server: redis-server and nginx
# on 127.0.0.1 under a bounded load (redis-benchmark, wrk), throughput bare,
# with vmleak attached (default depth; --events auto, i.e. kernel events when
# allowed), with vmleak --events ptrace (syscall stops) and with strace -p
# (-e trace=%memory). Rounds are interleaved; medians are printed as a
# Markdown table on standard output (progress on standard error). Then the
# per-mapping cost on mmap_storm and mmap_threads: bare, vmleak launch mode,
# vmleak attached (kernel events where allowed).
#
# usage: bench/attach.sh [--rounds N] [--build-dir DIR] [--no-build]
#   --rounds N       interleaved rounds (default 5)
#   --build-dir DIR  a build without sanitizers (default <source>/build-bench,
#                    configured RelWithDebInfo)
#   --requests N     redis-benchmark requests per test (default 50000)
#   --seconds S      wrk duration (default 5)
#   --no-servers     only the mmap_storm / mmap_threads part
# Needs root (or CAP_PERFMON + CAP_SYS_ADMIN) for the kernel events row to
# measure kernel events; scripts/bootstrap.sh installs redis, nginx and wrk.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-bench"
rounds=5
requests=50000
seconds=5
do_build=1
servers=1
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=$2; shift 2 ;;
	--build-dir) build=$2; shift 2 ;;
	--requests) requests=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--no-build) do_build=0; shift ;;
	--no-servers) servers=0; shift ;;
	*) echo "bench/attach.sh: unknown option $1" >&2; exit 1 ;;
	esac
done
for tool in redis-server redis-benchmark nginx wrk strace; do
	if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
		echo "bench/attach.sh: $tool is missing (scripts/bootstrap.sh installs it)" >&2
		exit 1
	fi
done
if [ "$do_build" = 1 ]; then
	if [ ! -f "$build/CMakeCache.txt" ]; then
		cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DVMLEAK_SANITIZE=OFF >&2
	fi
	cmake --build "$build" -j"$(nproc)" --target vmleak mmap_storm mmap_threads >&2
fi
vmleak="$build/vmleak"
storm="$build/bench/mmap_storm"
[ -x "$storm" ] || storm=$(find "$build" -name mmap_storm -type f -perm -u+x | head -1)
tmp=$(mktemp -d)
server_pids=()
cleanup() {
	for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }

if [ "$servers" = 1 ]; then
# ---- servers ----
redis_port=$((20000 + RANDOM % 20000))
nginx_port=$((redis_port + 1))
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
	--daemonize no --logfile "$tmp/redis.log" &
server_pids+=($!)
redis_pid=$!
mkdir -p "$tmp/www"
head -c 4096 /dev/urandom | base64 > "$tmp/www/index.html"
cat > "$tmp/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $tmp;
	proxy_temp_path $tmp;
	fastcgi_temp_path $tmp;
	uwsgi_temp_path $tmp;
	scgi_temp_path $tmp;
	server {
		listen 127.0.0.1:$nginx_port;
		root $tmp/www;
	}
}
EOF
"$NGINX" -c "$tmp/nginx.conf" -p "$tmp" &
server_pids+=($!)
nginx_master=$!
sleep 1
nginx_pids() {
	echo "$nginx_master $(pgrep -P "$nginx_master" | tr '\n' ' ')"
}

# ---- one measurement ----
load_redis() {
	redis-benchmark -h 127.0.0.1 -p "$redis_port" -n "$requests" -c 20 \
		-t set,get,lpush -q 2>/dev/null | tr '\r' '\n' |
		awk '/requests per second/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) { s += $i; n++; break } }
		     END { if (n) printf "%.0f\n", s / n; else print 0 }'
}
load_nginx() {
	wrk -t1 -c20 -d"${seconds}s" "http://127.0.0.1:$nginx_port/" 2>/dev/null |
		awk '/Requests\/sec/ { printf "%.0f\n", $2 }'
}
# attach a tracer to the pids, wait until each is traced, run the load, detach
traced() {
	local what=$1 load=$2 pids=$3 tracer_pid args=() p
	case "$what" in
	bare) $load; return ;;
	vmleak) args=("$vmleak" -q -o "$tmp/report.txt") ;;
	vmleak-ptrace) args=("$vmleak" -q --events ptrace -o "$tmp/report.txt") ;;
	strace) args=(strace -qq -f -e trace=%memory -o /dev/null) ;;
	esac
	for p in $pids; do args+=(-p "$p"); done
	"${args[@]}" 2>>"$tmp/tracer.err" &
	tracer_pid=$!
	for p in $pids; do
		for _ in $(seq 200); do
			[ "$(awk '/TracerPid/ { print $2 }' "/proc/$p/status")" != 0 ] && break
			sleep 0.02
		done
	done
	sleep 0.3
	$load
	kill -INT "$tracer_pid"
	wait "$tracer_pid" 2>/dev/null || true
}


modes=(bare vmleak vmleak-ptrace strace)
echo "bench/attach.sh: $rounds rounds; $(nproc) CPUs; load: $(uptime | sed 's/.*load average/load average/')" >&2
for r in $(seq "$rounds"); do
	for m in "${modes[@]}"; do
		v=$(traced "$m" load_redis "$redis_pid")
		echo "$v" >> "$tmp/redis.$m"
		echo "round $r redis $m: $v req/s" >&2
		v=$(traced "$m" load_nginx "$(nginx_pids)")
		echo "$v" >> "$tmp/nginx.$m"
		echo "round $r nginx $m: $v req/s" >&2
	done
done

echo "| server (load) | bare | vmleak attached | vmleak --events ptrace | strace -p |"
echo "| --- | --- | --- | --- | --- |"
for s in redis nginx; do
	b=$(median < "$tmp/$s.bare")
	row="| $s"
	[ "$s" = redis ] && row="$row (redis-benchmark -n $requests -c 20 -t set,get,lpush)"
	[ "$s" = nginx ] && row="$row (wrk -t1 -c20 -d${seconds}s, 2 workers)"
	row="$row | $b req/s"
	for m in vmleak vmleak-ptrace strace; do
		v=$(median < "$tmp/$s.$m")
		row="$row | $v req/s ($(awk -v v="$v" -v b="$b" 'BEGIN { printf "%.0f", b ? 100 * v / b : 0 }') %)"
	done
	echo "$row |"
done
if grep -q "kernel events unavailable" "$tmp/tracer.err" 2>/dev/null; then
	echo ""
	echo "Note: vmleak attached fell back to ptrace stops: $(grep -m1 'kernel events unavailable' "$tmp/tracer.err")"
fi

fi # servers

# ---- mmap_storm / mmap_threads: per mapping call, launch vs attach ----
n=50000
storm_run() {
	local what=$1 prog=$2 start end sh_pid tracer_pid
	case "$what" in
	bare)
		start=$(date +%s.%N); "$prog" "$n" 2>/dev/null; end=$(date +%s.%N) ;;
	launch)
		start=$(date +%s.%N); "$vmleak" -q -o /dev/null -- "$prog" "$n" 2>/dev/null
		end=$(date +%s.%N) ;;
	attach)
		# a shell waits for a line, then execs the workload: vmleak follows
		# the exec; the time ends when the program has exited, i.e. after
		# vmleak applied its last events at its exit stop
		mkfifo "$tmp/go"
		sh -c "read x < '$tmp/go'; exec '$prog' $n" 2>/dev/null &
		sh_pid=$!
		"$vmleak" -q -o /dev/null -p "$sh_pid" 2>/dev/null &
		tracer_pid=$!
		for _ in $(seq 200); do
			[ "$(awk '/TracerPid/ { print $2 }' "/proc/$sh_pid/status")" != 0 ] && break
			sleep 0.02
		done
		sleep 0.2
		start=$(date +%s.%N); echo go > "$tmp/go"
		wait "$sh_pid" || true; end=$(date +%s.%N)
		wait "$tracer_pid" || true
		rm -f "$tmp/go" ;;
	esac
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}
threads="$(dirname "$storm")/mmap_threads"
for r in $(seq "$rounds"); do
	for w in storm threads; do
		p=$storm
		[ "$w" = threads ] && p=$threads
		[ -x "$p" ] || continue
		for m in bare launch attach; do
			v=$(storm_run "$m" "$p")
			echo "$v" >> "$tmp/$w.$m"
			echo "round $r $(basename "$p") $n $m: $v s" >&2
		done
	done
done
calls=$((n + n - n / 100))
echo ""
echo "| $calls memory calls (N = $n) | bare | vmleak launch | vmleak attached |"
echo "| --- | --- | --- | --- |"
for w in storm threads; do
	[ -f "$tmp/$w.bare" ] || continue
	b=$(median < "$tmp/$w.bare")
	row="| mmap_$w: wall time (µs per memory call over bare) | $b s"
	[ "$w" = storm ] && row="| mmap_storm: wall time (µs per memory call over bare) | $b s"
	[ "$w" = threads ] && row="| mmap_threads (4 threads): wall time (µs per memory call over bare) | $b s"
	for m in launch attach; do
		v=$(median < "$tmp/$w.$m")
		row="$row | $v s ($(awk -v v="$v" -v b="$b" -v c="$calls" 'BEGIN { printf "%.1f µs", (v - b) * 1e6 / c }'))"
	done
	echo "$row |"
done
echo "bench/attach.sh: done; load: $(uptime | sed 's/.*load average/load average/')" >&2
