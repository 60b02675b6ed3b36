/* tracer/kfilter.c - the in-kernel filter of attach mode's machine-wide events
 * (tracer/kfilter.h): a BPF hash map keyed by thread-group id, and a program of
 * a dozen instructions, written with the kernel's own uapi definitions, that
 * looks the current thread-group up in it. A tracepoint's perf event records
 * only when its BPF program returns non-zero, and the kernel runs the program
 * before it builds the sample (no stack is copied for other processes).
 *
 * The kernel keeps one list of BPF programs per tracepoint and records only
 * when all of them say yes: two vmleak runs with maps of their own would
 * filter out each other's processes. So every vmleak shares one map (found by
 * its name, created under a lock by the first), each adds and removes only the
 * processes it follows, and each drops the other runs' records as strays. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "decoder/grow.h"
#include "tracer/kfilter.h"

#define KFILTER_MAX_PROCESSES 65536
#define KFILTER_MAP_NAME      "vmleak_tgids"
#define KFILTER_PROG_NAME     "vmleak_filter"
#define KFILTER_LOCK	      "/run/lock/vmleak-kfilter.lock"

struct kfilter {
	int map_fd;
	int prog_fd;
	pid_t *added; /* ours, taken out of the shared map at the end */
	size_t nadded, capadded;
};

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int create_map(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = sizeof(uint32_t);
	a.value_size = 1;
	a.max_entries = KFILTER_MAX_PROCESSES;
	a.map_flags = BPF_F_NO_PREALLOC; /* memory as processes are added */
	memcpy(a.map_name, KFILTER_MAP_NAME, sizeof(KFILTER_MAP_NAME));
	return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

static bool is_our_map(int fd)
{
	struct bpf_map_info info;
	union bpf_attr a;

	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uint64_t)(uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a))
		return false;
	return info.type == BPF_MAP_TYPE_HASH && info.key_size == sizeof(uint32_t) &&
	       info.value_size == 1 && info.max_entries == KFILTER_MAX_PROCESSES &&
	       !strncmp(info.name, KFILTER_MAP_NAME, sizeof(info.name));
}

/* The map of another vmleak run, or -1. */
static int find_shared_map(void)
{
	union bpf_attr a;
	uint32_t id = 0;

	for (;;) {
		memset(&a, 0, sizeof(a));
		a.start_id = id;
		if (sys_bpf(BPF_MAP_GET_NEXT_ID, &a))
			return -1;
		id = a.next_id;
		memset(&a, 0, sizeof(a));
		a.map_id = id;
		int fd = (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
		if (fd < 0)
			continue; /* gone meanwhile */
		if (is_our_map(fd))
			return fd;
		close(fd);
	}
}

/* Another run's map, else a new one; under a lock so that two runs starting
 * together do not make one each. */
static int shared_map(void)
{
	int lock = open(KFILTER_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int fd;

	if (lock >= 0)
		flock(lock, LOCK_EX);
	fd = find_shared_map();
	if (fd < 0)
		fd = create_map();
	if (lock >= 0)
		close(lock); /* the lock goes with it */
	return fd;
}

/* return map_lookup(&map, bpf_get_current_pid_tgid() >> 32) != NULL */
static int load_program(int map_fd)
{
	const struct bpf_insn prog[] = {
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid),
		INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 32),
		INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_0, -4, 0),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
		INSN(0, 0, 0, 0, 0), /* the upper half of the 64-bit immediate */
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_TRACEPOINT;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	/* read by the kernel only to allow GPL-only helpers; these two are not */
	a.license = (uint64_t)(uintptr_t) "";
	memcpy(a.prog_name, KFILTER_PROG_NAME, sizeof(KFILTER_PROG_NAME));
	return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

struct kfilter *kfilter_new(bool program, char *why, size_t whylen)
{
	struct kfilter *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	f->prog_fd = -1;
	f->map_fd = shared_map();
	if (f->map_fd < 0) {
		snprintf(why, whylen, "bpf(BPF_MAP_CREATE): %s", strerror(errno));
		goto fail;
	}
	if (!program)
		return f;
	f->prog_fd = load_program(f->map_fd);
	if (f->prog_fd < 0) {
		snprintf(why, whylen, "bpf(BPF_PROG_LOAD): %s", strerror(errno));
		goto fail;
	}
	return f;
fail:
	kfilter_free(f);
	return NULL;
}

int kfilter_attach(struct kfilter *f, int perf_fd)
{
	return ioctl(perf_fd, PERF_EVENT_IOC_SET_BPF, f->prog_fd) ? -errno : 0;
}

static int map_add(struct kfilter *f, pid_t tgid)
{
	uint32_t key = (uint32_t)tgid;
	uint8_t one = 1;
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)f->map_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)&one;
	a.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a) ? -errno : 0;
}

static int map_remove(struct kfilter *f, pid_t tgid)
{
	uint32_t key = (uint32_t)tgid;
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)f->map_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	return sys_bpf(BPF_MAP_DELETE_ELEM, &a) ? -errno : 0;
}

/* The key after prev (the first: prev = 0). 0, or -errno (-ENOENT: none). */
static int map_next(struct kfilter *f, pid_t prev, pid_t *next)
{
	uint32_t key = (uint32_t)prev, out = 0;
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)f->map_fd;
	a.key = prev ? (uint64_t)(uintptr_t)&key : 0; /* NULL: the first key */
	a.next_key = (uint64_t)(uintptr_t)&out;
	if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a))
		return -errno;
	*next = (pid_t)out;
	return 0;
}

/* The map is full: take out the processes that no longer exist, whichever
 * run added them. */
static void forget_dead(struct kfilter *f)
{
	pid_t *keys = NULL, key = 0;
	size_t n = 0, cap = 0;

	/* bounded: a key another run deletes meanwhile restarts the walk */
	while (n < KFILTER_MAX_PROCESSES && map_next(f, key, &key) == 0) {
		pid_t *v = grow_array(keys, &cap, n + 1, sizeof(*keys), 1024);

		if (!v)
			break;
		keys = v;
		keys[n++] = key;
	}
	for (size_t i = 0; i < n; i++)
		if (kill(keys[i], 0) && errno == ESRCH)
			map_remove(f, keys[i]);
	free(keys);
}

int kfilter_add(struct kfilter *f, pid_t tgid)
{
	pid_t *v = grow_array(f->added, &f->capadded, f->nadded + 1, sizeof(*v), 64);
	int err;

	if (!v)
		return -ENOMEM;
	f->added = v;
	err = map_add(f, tgid);
	if (err == -E2BIG) {
		forget_dead(f);
		err = map_add(f, tgid);
	}
	if (!err)
		f->added[f->nadded++] = tgid;
	return err;
}

static bool prog_name(uint32_t id, char *name, size_t len)
{
	struct bpf_prog_info info;
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uint64_t)(uintptr_t)&info;
	bool ok = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0;
	close(fd);
	if (ok)
		snprintf(name, len, "%.*s", (int)sizeof(info.name), info.name);
	return ok;
}

bool kfilter_foreign(int perf_fd, char *name, size_t len)
{
	struct {
		struct perf_event_query_bpf q;
		uint32_t ids[64];
	} buf;

	memset(&buf, 0, sizeof(buf));
	buf.q.ids_len = 64;
	if (ioctl(perf_fd, PERF_EVENT_IOC_QUERY_BPF, &buf))
		return false;
	for (uint32_t i = 0; i < buf.q.prog_cnt && i < 64; i++) {
		char n[BPF_OBJ_NAME_LEN + 1] = "";

		if (!prog_name(buf.ids[i], n, sizeof(n)))
			snprintf(n, sizeof(n), "?");
		if (strcmp(n, KFILTER_PROG_NAME)) {
			snprintf(name, len, "%s (id %u)", n[0] ? n : "unnamed", buf.ids[i]);
			return true;
		}
	}
	return false;
}

void kfilter_free(struct kfilter *f)
{
	if (!f)
		return;
	if (f->prog_fd >= 0)
		close(f->prog_fd);
	if (f->map_fd >= 0) {
		for (size_t i = 0; i < f->nadded; i++)
			map_remove(f, f->added[i]);
		close(f->map_fd);
	}
	free(f->added);
	free(f);
}
