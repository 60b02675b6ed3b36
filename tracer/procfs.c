/* tracer/procfs.c - reads of /proc/PID/{exe,status,stat,maps,fd} for the tracer. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decoder/grow.h"
#include "decoder/syscall.h"
#include "tracer/procfs.h"

char *procfs_exe(pid_t pid)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static long status_field(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

pid_t procfs_tgid(pid_t tid)
{
	return status_field(tid, "Tgid");
}

pid_t procfs_tracer(pid_t pid)
{
	return status_field(pid, "TracerPid");
}

/* Field n (1-based) of /proc/PID/stat, after the parenthesised comm. */
static int stat_field(pid_t pid, int n, char *out, size_t size)
{
	char path[64], buf[1024];
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	for (int field = 3; field <= n; field++) {
		while (*p == ' ')
			p++;
		size_t w = strcspn(p, " \n");
		if (field == n) {
			if (w >= size)
				w = size - 1;
			memcpy(out, p, w);
			out[w] = '\0';
			return 0;
		}
		p += w;
		if (!*p)
			break;
	}
	return -EINVAL;
}

char procfs_state(pid_t pid)
{
	char s[8];

	return stat_field(pid, 3, s, sizeof(s)) ? 0 : s[0];
}

bool procfs_is_kernel_thread(pid_t pid)
{
	char s[32];

	if (stat_field(pid, 9, s, sizeof(s)))
		return false;
	return strtoul(s, NULL, 10) & 0x00200000; /* PF_KTHREAD */
}

uint64_t procfs_start_brk(pid_t pid)
{
	char s[32];

	if (stat_field(pid, 47, s, sizeof(s)))
		return 0;
	return strtoull(s, NULL, 10);
}

int procfs_fd_path(pid_t tid, int fd, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", tid, fd);
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

long procfs_maps(pid_t pid, struct maps_entry **out)
{
	char path[64], line[4096 + 256];
	struct maps_entry *v = NULL, e;
	size_t n = 0, cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (maps_parse_line(line, &e))
			continue;
		struct maps_entry *nv = grow_array(v, &cap, n + 1, sizeof(*nv), 64);
		if (!nv) {
			free(v);
			fclose(f);
			return -ENOMEM;
		}
		v = nv;
		v[n++] = e;
	}
	fclose(f);
	*out = v;
	return n;
}

int procfs_seed_ledger(pid_t pid, struct ledger *l)
{
	struct maps_entry *e = NULL;
	uint64_t heap_end = 0;
	long n = procfs_maps(pid, &e);

	if (n < 0)
		return n;
	for (long i = 0; i < n; i++) {
		struct region r = {
			.start = e[i].start,
			.end = e[i].end,
			.prot = e[i].prot,
			.op = MEM_NONE,
			.kind = e[i].path[0] == '/' ? REGION_FILE : REGION_ANON,
			.origin = REGION_PREEXISTING,
		};
		if (!strcmp(e[i].path, "[heap]")) {
			r.kind = REGION_BRK;
			heap_end = e[i].end;
		}
		if (!strcmp(e[i].path, "[vsyscall]"))
			continue; /* above the user address range */
		if (ledger_insert(l, &r) == -ENOMEM) {
			free(e);
			return -ENOMEM;
		}
	}
	free(e);
	uint64_t start_brk = procfs_start_brk(pid);
	if (start_brk)
		ledger_set_brk(l, start_brk, heap_end > start_brk ? heap_end : start_brk);
	return 0;
}

int procfs_verify(pid_t pid, const struct ledger *l, struct maps_mismatch **out, size_t *n,
		  size_t *checked)
{
	struct maps_entry *e = NULL;
	long ne = procfs_maps(pid, &e);
	int err;

	if (ne < 0)
		return ne;
	err = maps_compare(l, e, ne, out, n, checked);
	free(e);
	return err;
}
