/* tracer/kevents.c - attach mode's kernel event source (tracer/kevents.h).
 *
 * One perf event per CPU for each of the syscall tracepoints sys_enter_X /
 * sys_exit_X (X = mmap, munmap, mremap, brk, shmat, shmdt) and
 * task:task_newtask, for the whole machine, filtered in the kernel by a BPF
 * map of the followed processes (tracer/kfilter.c); where BPF is refused, the
 * same events per thread present at attach, inherited by the threads and
 * children it creates later. Each CPU has one ring buffer that every event of
 * that CPU writes to. The exits of mapping calls carry the user registers and a
 * copy of the top of the user stack, so the backtrace is unwound later from
 * the copy: the traced threads never stop for a memory call.
 *
 * A reader thread copies records out of the ring buffers into a queue (so the
 * kernel's buffers do not fill while the main thread unwinds); the main thread
 * merges them by timestamp (CLOCK_MONOTONIC) and applies them with the same
 * rules as syscall stops (mem_entry at sys_enter: removals; mem_exit at
 * sys_exit: creations). A record is applied only once every CPU's buffer has
 * been drained past its timestamp, so events of different threads are applied
 * in the order the kernel ran them. task_newtask (fired in the parent after the
 * child's mm was copied) is where a fork child's ledger copy is taken. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "decoder/maps.h"
#include "tracer/kevents.h"
#include "tracer/kfilter.h"
#include "tracer/procfs.h"
#include "tracer/tracer.h"
#include "tracer/unwind.h"

#ifndef CLONE_VM
#define CLONE_VM 0x00000100
#endif

#define KEV_RING_BYTES (16u << 20) /* per CPU; halved until the kernel accepts it */
#define KEV_RING_MIN   (64u << 10)
#define KEV_RING_TOTAL (64ull << 20) /* locked memory over all CPUs */
#define KEV_STACK_BYTES                                                               \
	4096u				/* user stack copied per mapping call; deeper \
					 * frames are read from the live stack */
#define KEV_QUEUE_CAP	 (256ull << 20) /* stack copies beyond this are dropped */
#define KEV_QUEUE_HIGH	 (32ull << 20)	/* hold the tracees above this... */
#define KEV_QUEUE_LOW	 (4ull << 20)	/* ...until the queue is below this */
#define KEV_MAIN_NICE	 (-5)
#define KEV_READER_NICE	 (-10)
#define KEV_APPLY_BATCH	 32	    /* back to the wait loop this often */
#define KEV_SETTLE_NS	 1000000ull /* a record this old is visible on every CPU */
#define KEV_POLL_MS	 20
#define KEV_FOLLOW_SLOTS 16384	     /* open addressing, at most half full */
#define KEV_REGS_MASK	 0xff01ffull /* AX BX CX DX SI DI BP SP IP, R8..R15 */
#define KEV_NREGS	 17

enum kev_kind {
	KEV_ENTER = 0,
	KEV_EXIT,
	KEV_NEWTASK,
};

struct kev_tp {
	const char *group, *name;
	enum kev_kind kind;
	bool stack; /* exits of calls that create a mapping: registers + stack copy */
	int id;
	int off_nr, off_ret, off_pid, off_flags;
	int off_args[6];
	int nargs;
};

static const struct kev_tp tp_template[] = {
	{.group = "syscalls", .name = "sys_enter_mmap", .kind = KEV_ENTER, .stack = false},
	{.group = "syscalls", .name = "sys_exit_mmap", .kind = KEV_EXIT, .stack = true},
	{.group = "syscalls", .name = "sys_enter_munmap", .kind = KEV_ENTER, .stack = false},
	{.group = "syscalls", .name = "sys_exit_munmap", .kind = KEV_EXIT, .stack = false},
	{.group = "syscalls", .name = "sys_enter_mremap", .kind = KEV_ENTER, .stack = false},
	{.group = "syscalls", .name = "sys_exit_mremap", .kind = KEV_EXIT, .stack = true},
	{.group = "syscalls", .name = "sys_enter_brk", .kind = KEV_ENTER, .stack = false},
	{.group = "syscalls", .name = "sys_exit_brk", .kind = KEV_EXIT, .stack = true},
	{.group = "syscalls", .name = "sys_enter_shmat", .kind = KEV_ENTER, .stack = false},
	{.group = "syscalls", .name = "sys_exit_shmat", .kind = KEV_EXIT, .stack = true},
	{.group = "syscalls", .name = "sys_enter_shmdt", .kind = KEV_ENTER, .stack = false},
	{.group = "syscalls", .name = "sys_exit_shmdt", .kind = KEV_EXIT, .stack = false},
	{.group = "task", .name = "task_newtask", .kind = KEV_NEWTASK, .stack = false},
};
#define KEV_NTP (sizeof(tp_template) / sizeof(tp_template[0]))

/* One record copied out of a ring buffer, decoded. */
struct ksample {
	uint64_t time; /* CLOCK_MONOTONIC ns */
	uint64_t seq;  /* arrival order: ties keep it */
	pid_t tid;
	enum kev_kind kind;
	int64_t nr;
	uint64_t args[6];
	int64_t ret;
	pid_t child;
	uint64_t clone_flags;
	bool has_regs;
	struct unwind_sample us;
	size_t bytes; /* what it costs in the queue */
	bool big;     /* room for a stack copy: goes back to the big pool */
	struct ksample *next_free;
	unsigned char stack[];
};

struct kev_cpu {
	int cpu;
	int fd; /* the event whose ring buffer the others write to */
	struct perf_event_mmap_page *page;
	size_t data_size;
};

struct fork_copy {
	pid_t parent, child;
	struct ledger *ledger;
	struct fork_copy *next;
};

struct sample_vec {
	struct ksample **v;
	size_t n, cap;
};

struct kevents {
	struct kev_tp tp[KEV_NTP];
	unsigned stack_bytes;
	struct kev_cpu *cpus;
	size_t ncpus;
	size_t ring_bytes;
	int *fds;
	size_t nfds, capfds;
	/* machine-wide events (one per CPU and tracepoint) filtered in the kernel
	 * by the followed thread-group ids; else per-thread inherited events */
	bool machine_wide;
	struct kfilter *filter;
	char mode_note[160];
	/* reader thread */
	pthread_t reader;
	bool reader_started;
	atomic_bool stop;
	int stop_fd, wake_fd;
	pthread_mutex_t rb_lock; /* the ring buffers' tails */
	pthread_mutex_t q_lock;	 /* queue */
	struct sample_vec queue;
	uint64_t seq;
	_Atomic uint64_t drained_ns; /* start of the last complete drain of every buffer */
	_Atomic uint64_t queued_bytes;
	_Atomic uint64_t lost;
	_Atomic uint64_t stacks_dropped;
	_Atomic int pressure; /* 1: the tracees produce faster than we consume */
	bool no_hold;	      /* VMLEAK_KEV_NO_HOLD: never hold them (tests) */
	bool reniced;	      /* our threads' priority was raised */
	pthread_t main_thread;
	int old_nice;
	size_t round_fill; /* fullest ring buffer of the current drain */
	/* sample buffers for reuse (a malloc and free per event would make the
	 * allocator give pages back and fault them in again): the reader takes
	 * from r_free, the main thread returns to m_free, both meet in pool
	 * under q_lock */
	struct ksample *pool[2], *r_free[2], *m_free[2];
	size_t npool[2], nm_free[2];
	/* main thread */
	struct sample_vec pend; /* sorted by (time, seq) from pend_head on */
	size_t pend_head;
	const struct ksample *current;
	struct fork_copy *forks, **forks_tail;
	uint64_t stray; /* records of threads we do not trace */
	/* machine-wide: the followed thread groups, for the reader to drop other
	 * vmleak runs' records early (one writer: the main thread) */
	_Atomic int32_t follow[KEV_FOLLOW_SLOTS];
	size_t nfollow;
	atomic_bool follow_full; /* then nothing is dropped early */
	_Atomic uint64_t dropped;
	bool in_apply;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int vec_push(struct sample_vec *v, struct ksample *s)
{
	if (v->n == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 1024;
		struct ksample **nv = realloc(v->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = s;
	return 0;
}

/* ---- tracefs: event ids and field offsets ---- */

static int read_int_file(const char *path, int *out)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", out) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

/* Offsets of the non-common fields of a tracepoint, in the order of its format. */
static int parse_format(const char *dir, struct kev_tp *tp)
{
	char path[PATH_MAX], line[512];
	int n = 0, err = -EINVAL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/%s/%s/format", dir, tp->group, tp->name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	tp->off_nr = tp->off_ret = tp->off_pid = tp->off_flags = -1;
	while (fgets(line, sizeof(line), f)) {
		char *field = strstr(line, "field:"), *semi, *name;
		int off = -1, size = 0;

		if (!field || strstr(line, "common_"))
			continue;
		semi = strchr(field, ';');
		if (!semi)
			continue;
		*semi = '\0';
		name = strrchr(field, ' ');
		name = name ? name + 1 : field + 6;
		if (sscanf(semi + 1, " offset:%d; size:%d;", &off, &size) != 2)
			continue;
		if (!strcmp(name, "__syscall_nr"))
			tp->off_nr = off;
		else if (!strcmp(name, "ret"))
			tp->off_ret = off;
		else if (!strcmp(name, "pid"))
			tp->off_pid = off;
		else if (!strcmp(name, "clone_flags"))
			tp->off_flags = off;
		else if (tp->kind == KEV_ENTER && n < 6 && size == 8)
			tp->off_args[n++] = off;
	}
	fclose(f);
	tp->nargs = n;
	switch (tp->kind) {
	case KEV_ENTER:
		err = tp->off_nr >= 0 ? 0 : -EINVAL;
		break;
	case KEV_EXIT:
		err = tp->off_nr >= 0 && tp->off_ret >= 0 ? 0 : -EINVAL;
		break;
	case KEV_NEWTASK:
		err = tp->off_pid >= 0 && tp->off_flags >= 0 ? 0 : -EINVAL;
		break;
	}
	return err;
}

static bool has_events(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/events/syscalls/sys_enter_mmap/id", dir);
	return access(path, R_OK) == 0;
}

/* A tracefs with the syscall events: the host's when mounted, else one mounted
 * in a mount namespace of our own (the host's mounts stay as they are). */
static int find_tracefs(const char **dir, bool *mounted, char *why, size_t whylen)
{
	static const char *const dirs[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

	*mounted = false;
	for (size_t i = 0; i < 2; i++) {
		if (has_events(dirs[i])) {
			*dir = dirs[i];
			return 0;
		}
	}
	if (unshare(CLONE_NEWNS)) {
		snprintf(why, whylen, "no tracefs mounted, and unshare(CLONE_NEWNS): %s",
			 strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tracefs", dirs[0], "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		snprintf(why, whylen, "mounting tracefs in a private mount namespace: %s",
			 strerror(errno));
		return -1;
	}
	*mounted = true;
	*dir = dirs[0];
	if (!has_events(dirs[0])) {
		snprintf(why, whylen,
			 "the kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS)");
		return -1;
	}
	return 0;
}

static int load_tracepoints(struct kevents *k, char *why, size_t whylen)
{
	const char *dir = NULL;
	bool mounted;
	int err = 0;

	if (find_tracefs(&dir, &mounted, why, whylen))
		return -1;
	for (size_t i = 0; i < KEV_NTP && !err; i++) {
		char path[PATH_MAX];
		struct kev_tp *tp = &k->tp[i];

		*tp = tp_template[i];
		snprintf(path, sizeof(path), "%s/events/%s/%s/id", dir, tp->group, tp->name);
		err = read_int_file(path, &tp->id);
		if (!err)
			err = parse_format(dir, tp);
		if (err)
			snprintf(why, whylen, "tracepoint %s:%s: %s", tp->group, tp->name,
				 strerror(-err));
	}
	if (mounted)
		umount2(dir, MNT_DETACH); /* the ids stay valid; leave nothing mounted */
	return err ? -1 : 0;
}

/* ---- CPUs and events ---- */

static int online_cpus(struct kevents *k)
{
	char buf[1024];
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	char *p, *save = NULL;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	for (p = strtok_r(buf, ",\n", &save); p; p = strtok_r(NULL, ",\n", &save)) {
		int lo, hi;

		if (sscanf(p, "%d-%d", &lo, &hi) != 2)
			hi = lo = atoi(p);
		for (int c = lo; c <= hi; c++) {
			struct kev_cpu *v = realloc(k->cpus, (k->ncpus + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			k->cpus = v;
			k->cpus[k->ncpus++] = (struct kev_cpu){.cpu = c, .fd = -1};
		}
	}
	return k->ncpus ? 0 : -EINVAL;
}

static void fill_attr(const struct kevents *k, const struct kev_tp *tp, struct perf_event_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = PERF_TYPE_TRACEPOINT;
	a->config = (uint64_t)tp->id;
	a->sample_period = 1;
	a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
	if (tp->stack && k->stack_bytes) {
		a->sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		a->sample_regs_user = KEV_REGS_MASK;
		a->sample_stack_user = k->stack_bytes;
	}
	/* per thread: inherited by the threads and children created later;
	 * machine-wide: opened disabled, enabled once the filter is attached */
	a->inherit = !k->machine_wide;
	a->disabled = k->machine_wide;
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC; /* comparable across CPUs and with ours */
	a->watermark = 1;
	a->wakeup_watermark = (uint32_t)(k->ring_bytes / 16);
}

static int add_fd(struct kevents *k, int fd)
{
	if (k->nfds == k->capfds) {
		size_t ncap = k->capfds ? k->capfds * 2 : 64;
		int *v = realloc(k->fds, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->fds = v;
		k->capfds = ncap;
	}
	k->fds[k->nfds++] = fd;
	return 0;
}

static int map_ring(struct kevents *k, struct kev_cpu *c, int fd)
{
	long page = sysconf(_SC_PAGESIZE);

	for (size_t sz = k->ring_bytes; sz >= KEV_RING_MIN; sz /= 2) {
		void *p = mmap(NULL, sz + page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (p != MAP_FAILED) {
			c->page = p;
			c->data_size = sz;
			c->fd = fd;
			k->ring_bytes = sz; /* the next CPUs start from what worked */
			return 0;
		}
		if (errno != EPERM && errno != ENOMEM)
			return -errno;
	}
	return -ENOMEM;
}

static int open_event(struct kevents *k, const struct kev_tp *tp, pid_t tid, struct kev_cpu *c)
{
	struct perf_event_attr a;
	int fd, err;

	fill_attr(k, tp, &a);
	fd = (int)syscall(SYS_perf_event_open, &a, tid, c->cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (add_fd(k, fd)) {
		close(fd);
		return -ENOMEM;
	}
	if (c->fd < 0)
		return map_ring(k, c, fd);
	err = ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, c->fd) ? -errno : 0;
	return err;
}

static size_t follow_slot(pid_t tgid)
{
	return ((uint32_t)tgid * 2654435761u) & (KEV_FOLLOW_SLOTS - 1);
}

/* Main thread, before the process runs (its records come after). */
static void follow_add(struct kevents *k, pid_t tgid)
{
	size_t i = follow_slot(tgid);

	if (atomic_load(&k->follow_full) || tgid <= 0)
		return;
	if (k->nfollow >= KEV_FOLLOW_SLOTS / 2) {
		atomic_store(&k->follow_full, true);
		return;
	}
	for (;; i = (i + 1) & (KEV_FOLLOW_SLOTS - 1)) {
		int32_t cur = atomic_load(&k->follow[i]);

		if (cur == tgid)
			return;
		if (cur == 0) {
			atomic_store(&k->follow[i], tgid);
			k->nfollow++;
			return;
		}
	}
}

/* Reader: a record of a process we follow (or cannot tell)? */
static bool follow_has(struct kevents *k, pid_t tgid)
{
	if (atomic_load(&k->follow_full))
		return true;
	for (size_t i = follow_slot(tgid);; i = (i + 1) & (KEV_FOLLOW_SLOTS - 1)) {
		int32_t cur = atomic_load(&k->follow[i]);

		if (cur == tgid)
			return true;
		if (cur == 0)
			return false;
	}
}

int kevents_open_task(struct kevents *k, pid_t tid, char *why, size_t whylen)
{
	if (k->filter) {
		pid_t tgid = procfs_tgid(tid);
		int err = tgid > 0 ? kfilter_add(k->filter, tgid) : 0;

		follow_add(k, tgid);

		if (err && k->machine_wide) {
			snprintf(why, whylen, "following pid %d in the BPF map: %s", (int)tgid,
				 strerror(-err));
			return err;
		}
		if (k->machine_wide)
			return 0;
	}
	for (size_t c = 0; c < k->ncpus; c++) {
		for (size_t i = 0; i < KEV_NTP; i++) {
			int err = open_event(k, &k->tp[i], tid, &k->cpus[c]);

			if (err == -ESRCH)
				return 0; /* the thread is gone: its death will be seen */
			if (err) {
				snprintf(why, whylen, "perf_event_open(%s:%s, tid %d, cpu %d): %s",
					 k->tp[i].group, k->tp[i].name, (int)tid, k->cpus[c].cpu,
					 strerror(-err));
				return err;
			}
		}
	}
	return 0;
}

int kevents_follow(struct tracer *t, pid_t tgid)
{
	struct kevents *k = t->kev;
	int err;

	if (!k || !k->filter)
		return 0;
	follow_add(k, tgid);
	err = kfilter_add(k->filter, tgid);
	if (err && k->machine_wide) {
		/* its calls would go unseen: stop recording rather than be wrong */
		tracer_oom(t, "kernel events filter");
		return err;
	}
	return 0;
}

/* The BPF map holds thread-group ids as the initial pid namespace numbers
 * them: vmleak must see the same numbers. */
static bool in_initial_pid_namespace(void)
{
	char line[256];
	bool nested = true;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		int a, b;

		if (strncmp(line, "NSpid:", 6))
			continue;
		nested = sscanf(line + 6, "%d %d", &a, &b) == 2;
		break;
	}
	fclose(f);
	return !nested;
}

/* Close our events; the machine-wide mode's first 13 hold the BPF filter
 * (one per tracepoint), and closing each of those waits for an RCU grace
 * period under a kernel mutex (about 40 ms here): with keep_filter they stay
 * open (disabled) for kevents_release, after the tracees are let go. */
static void close_fds(struct kevents *k, bool keep_filter)
{
	size_t from = keep_filter && k->machine_wide && k->nfds >= KEV_NTP ? KEV_NTP : 0;

	for (size_t i = from; i < k->nfds; i++)
		close(k->fds[i]);
	k->nfds = from;
	for (size_t c = 0; c < k->ncpus; c++) {
		if (k->cpus[c].page)
			munmap(k->cpus[c].page,
			       k->cpus[c].data_size + (size_t)sysconf(_SC_PAGESIZE));
		k->cpus[c].page = NULL;
		k->cpus[c].fd = -1;
	}
}

/* One event per CPU and tracepoint for the whole machine, the BPF filter on
 * each tracepoint (through its first CPU's event), then enabled. A thread of a
 * followed process costs nothing at its other system calls and context
 * switches (per-thread events cost a few per cent of a busy server's
 * throughput: bench/RESULTS.md). */
static int open_machine_wide(struct kevents *k, char *why, size_t whylen)
{
	int err = 0;

	k->filter = kfilter_new(true, why, whylen);
	if (!k->filter)
		return -1;
	k->machine_wide = true;
	for (size_t c = 0; c < k->ncpus && !err; c++) {
		for (size_t i = 0; i < KEV_NTP && !err; i++) {
			err = open_event(k, &k->tp[i], -1, &k->cpus[c]);
			if (err)
				snprintf(why, whylen, "perf_event_open(%s:%s, cpu %d): %s",
					 k->tp[i].group, k->tp[i].name, k->cpus[c].cpu,
					 strerror(-err));
			else if (c == 0 && (err = kfilter_attach(k->filter, k->fds[k->nfds - 1])))
				snprintf(why, whylen, "PERF_EVENT_IOC_SET_BPF(%s:%s): %s",
					 k->tp[i].group, k->tp[i].name, strerror(-err));
		}
	}
	for (size_t i = 0; i < k->nfds && !err; i++)
		if (ioctl(k->fds[i], PERF_EVENT_IOC_ENABLE, 0)) {
			err = -errno;
			snprintf(why, whylen, "PERF_EVENT_IOC_ENABLE: %s", strerror(errno));
		}
	if (!err)
		return 0;
	close_fds(k, false);
	kfilter_free(k->filter);
	k->filter = NULL;
	k->machine_wide = false;
	return -1;
}

/* Machine-wide filtered events where the kernel allows them, else per-thread
 * events (VMLEAK_KEV_PER_TASK forces these, for the tests). */
static void choose_mode(struct kevents *k)
{
	char why[128] = "";

	if (getenv("VMLEAK_KEV_PER_TASK"))
		snprintf(why, sizeof(why), "VMLEAK_KEV_PER_TASK");
	else if (!in_initial_pid_namespace())
		snprintf(why, sizeof(why), "vmleak runs in a nested pid namespace");
	else if (open_machine_wide(k, why, sizeof(why)) == 0)
		why[0] = '\0';
	if (!k->machine_wide && in_initial_pid_namespace()) {
		/* per-thread events are filtered too by another vmleak run's BPF
		 * program (the kernel ANDs a tracepoint's programs): our processes
		 * go in the shared map, where we may (the program stays unattached) */
		char ignored[128];
		k->filter = kfilter_new(false, ignored, sizeof(ignored));
	}
	if (k->machine_wide)
		snprintf(k->mode_note, sizeof(k->mode_note), "machine-wide, BPF-filtered");
	else
		snprintf(k->mode_note, sizeof(k->mode_note), "per thread (%s)", why);
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

struct kevents *kevents_new(unsigned depth, char *why, size_t whylen)
{
	struct kevents *k = calloc(1, sizeof(*k));
	int err;

	if (!k) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	k->stop_fd = k->wake_fd = -1;
	k->forks_tail = &k->forks;
	k->stack_bytes = depth ? KEV_STACK_BYTES : 0;
	k->ring_bytes = KEV_RING_BYTES;
	/* for the tests of the loss path: tiny rings, no back-pressure */
	const char *ring = getenv("VMLEAK_KEV_RING_KB");
	if (ring && atoi(ring) > 0) {
		size_t want = (size_t)atoi(ring) << 10;
		k->ring_bytes = KEV_RING_MIN;
		while (k->ring_bytes < want && k->ring_bytes < KEV_RING_BYTES)
			k->ring_bytes *= 2;
	}
	k->no_hold = getenv("VMLEAK_KEV_NO_HOLD") != NULL;
	pthread_mutex_init(&k->rb_lock, NULL);
	pthread_mutex_init(&k->q_lock, NULL);
#if !defined(__x86_64__)
	snprintf(why, whylen, "kernel events are implemented for x86_64 only");
	goto fail;
#endif
	if (load_tracepoints(k, why, whylen))
		goto fail;
	err = online_cpus(k);
	if (err) {
		snprintf(why, whylen, "online CPUs: %s", strerror(-err));
		goto fail;
	}
	/* at most KEV_RING_TOTAL over all CPUs, at least 1 MiB each */
	while (!ring && k->ring_bytes > (1u << 20) && k->ring_bytes * k->ncpus > KEV_RING_TOTAL)
		k->ring_bytes /= 2;
	k->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	k->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->stop_fd < 0 || k->wake_fd < 0) {
		snprintf(why, whylen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	raise_fd_limit();
	/* can we? one event on ourselves says whether perf_event_open is allowed */
	struct perf_event_attr a;
	fill_attr(k, &k->tp[1], &a);
	int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		int paranoid = 0;
		if (read_int_file("/proc/sys/kernel/perf_event_paranoid", &paranoid))
			paranoid = -99;
		snprintf(
			why, whylen,
			"perf_event_open: %s (perf_event_paranoid is %d; needs root or CAP_PERFMON)",
			strerror(e), paranoid);
		goto fail;
	}
	close(fd);
	choose_mode(k);
	return k;
fail:
	kevents_free(k);
	return NULL;
}

void kevents_warn_foreign(const struct kevents *k, FILE *out)
{
	char name[64];

	for (size_t i = 0; i < KEV_NTP && i < k->nfds; i++) {
		if (!kfilter_foreign(k->fds[i], name, sizeof(name)))
			continue;
		fprintf(out,
			"vmleak: warning: BPF program %s is on tracepoint %s:%s; the kernel "
			"records only what every program there lets through (--verify checks)\n",
			name, k->tp[i].group, k->tp[i].name);
		return;
	}
}

/* ---- the reader: ring buffers -> queue ---- */

static const struct kev_tp *tp_by_id(const struct kevents *k, int id)
{
	for (size_t i = 0; i < KEV_NTP; i++)
		if (k->tp[i].id == id)
			return &k->tp[i];
	return NULL;
}

static uint64_t raw_u64(const unsigned char *raw, uint32_t size, int off)
{
	uint64_t v = 0;

	if (off >= 0 && (uint32_t)off + 8 <= size)
		memcpy(&v, raw + off, 8);
	return v;
}

static int64_t raw_i32(const unsigned char *raw, uint32_t size, int off)
{
	int32_t v = 0;

	if (off >= 0 && (uint32_t)off + 4 <= size)
		memcpy(&v, raw + off, 4);
	return v;
}

#define KEV_POOL_MAX 2048 /* buffers kept per size (the big ones: 9 MiB) */

static struct ksample *sample_alloc(struct kevents *k, bool big)
{
	struct ksample *s = k->r_free[big];

	if (!s) {
		pthread_mutex_lock(&k->q_lock);
		k->r_free[big] = k->pool[big];
		k->pool[big] = NULL;
		k->npool[big] = 0;
		pthread_mutex_unlock(&k->q_lock);
		s = k->r_free[big];
	}
	if (s) {
		k->r_free[big] = s->next_free;
		return s;
	}
	s = malloc(sizeof(*s) + (big ? k->stack_bytes : 0));
	if (s)
		s->big = big;
	return s;
}

/* Main thread: a sample is done with. */
static void sample_free(struct kevents *k, struct ksample *s)
{
	int big = s->big;

	if (k->nm_free[big] + k->npool[big] >= KEV_POOL_MAX) {
		free(s);
		return;
	}
	s->next_free = k->m_free[big];
	k->m_free[big] = s;
	k->nm_free[big]++;
}

/* Under q_lock: hand the main thread's free buffers to the reader. */
static void pool_flush(struct kevents *k)
{
	for (int big = 0; big < 2; big++) {
		while (k->m_free[big]) {
			struct ksample *s = k->m_free[big];
			k->m_free[big] = s->next_free;
			s->next_free = k->pool[big];
			k->pool[big] = s;
			k->npool[big]++;
		}
		k->nm_free[big] = 0;
	}
}

static void free_list(struct ksample *s)
{
	while (s) {
		struct ksample *next = s->next_free;
		free(s);
		s = next;
	}
}

/* Decode one PERF_RECORD_SAMPLE; NULL when it cannot be (counted as lost). */
static struct ksample *decode_sample(struct kevents *k, const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len, *raw;
	uint32_t pid_tid[2], raw_size;
	uint64_t time, regs[KEV_NREGS] = {0}, stack_size = 0, dyn = 0;
	const unsigned char *stack = NULL;
	bool has_regs = false;
	uint16_t type;

#define NEED(n)                                      \
	do {                                         \
		if ((size_t)(end - p) < (size_t)(n)) \
			return NULL;                 \
	} while (0)
	NEED(8 + 8 + 4);
	memcpy(pid_tid, p, 8);
	memcpy(&time, p + 8, 8);
	memcpy(&raw_size, p + 16, 4);
	p += 20;
	NEED(raw_size);
	raw = p;
	p += raw_size;
	if (raw_size < 8)
		return NULL;
	memcpy(&type, raw, 2);
	const struct kev_tp *tp = tp_by_id(k, type);
	if (!tp)
		return NULL;
	if (tp->stack && k->stack_bytes) {
		uint64_t abi;

		NEED(8);
		memcpy(&abi, p, 8);
		p += 8;
		if (abi != PERF_SAMPLE_REGS_ABI_NONE) {
			NEED(8 * KEV_NREGS);
			memcpy(regs, p, 8 * KEV_NREGS);
			p += 8 * KEV_NREGS;
			has_regs = abi == PERF_SAMPLE_REGS_ABI_64;
		}
		NEED(8);
		memcpy(&stack_size, p, 8);
		p += 8;
		if (stack_size) {
			NEED(stack_size + 8);
			stack = p;
			memcpy(&dyn, p + stack_size, 8);
			if (dyn > stack_size)
				dyn = stack_size;
		}
	}
#undef NEED
	bool drop = dyn && atomic_load(&k->queued_bytes) > KEV_QUEUE_CAP;
	if (drop) {
		atomic_fetch_add(&k->stacks_dropped, 1);
		dyn = 0;
		has_regs = false;
	}
	struct ksample *s = sample_alloc(k, dyn > 0);
	if (!s)
		return NULL;
	bool big = s->big;
	memset(s, 0, sizeof(*s));
	s->big = big;
	s->time = time;
	s->tid = (pid_t)pid_tid[1];
	s->kind = tp->kind;
	switch (tp->kind) {
	case KEV_ENTER:
		s->nr = raw_i32(raw, raw_size, tp->off_nr);
		for (int i = 0; i < tp->nargs; i++)
			s->args[i] = raw_u64(raw, raw_size, tp->off_args[i]);
		break;
	case KEV_EXIT:
		s->nr = raw_i32(raw, raw_size, tp->off_nr);
		s->ret = (int64_t)raw_u64(raw, raw_size, tp->off_ret);
		break;
	case KEV_NEWTASK:
		s->child = (pid_t)raw_i32(raw, raw_size, tp->off_pid);
		s->clone_flags = raw_u64(raw, raw_size, tp->off_flags);
		break;
	}
	s->has_regs = has_regs;
	if (has_regs) {
		memcpy(s->us.regs, regs, sizeof(regs));
		if (dyn)
			memcpy(s->stack, stack, dyn);
		s->us.stack = dyn ? s->stack : NULL;
		s->us.stack_len = dyn;
	}
	s->bytes = sizeof(*s) + dyn;
	atomic_fetch_add(&k->queued_bytes, s->bytes);
	return s;
}

static void raise_pressure(struct kevents *k)
{
	uint64_t one = 1;

	if (atomic_exchange(&k->pressure, 1))
		return;
	if (write(k->wake_fd, &one, sizeof(one)) < 0) {
		/* a full counter: the main thread is awake anyway */
	}
	/* the main thread may be busy unwinding: its SIGURG handler holds the
	 * tracees at once (only the tracer thread may make ptrace requests) */
	if (k->reader_started && !k->no_hold)
		pthread_kill(k->main_thread, SIGURG);
}

static void drain_cpu(struct kevents *k, struct kev_cpu *c, struct sample_vec *out)
{
	unsigned char *data = (unsigned char *)c->page + sysconf(_SC_PAGESIZE);
	uint64_t head = __atomic_load_n(&c->page->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = c->page->data_tail;
	size_t mask = c->data_size - 1;
	unsigned char rec[65536];
	unsigned n = 0;

	if (head - tail > k->round_fill)
		k->round_fill = head - tail;

	while (tail < head) {
		struct perf_event_header h;
		size_t off = tail & mask, first;

		memcpy(&h, data + off, sizeof(h));
		if (h.size < sizeof(h) || tail + h.size > head) {
			atomic_fetch_add(&k->lost, 1); /* cannot happen: resync rather than loop */
			tail = head;
			break;
		}
		first = c->data_size - off < h.size ? c->data_size - off : h.size;
		memcpy(rec, data + off, first);
		memcpy(rec + first, data, h.size - first);
		uint32_t pid = 0;

		if (h.size >= sizeof(h) + 4)
			memcpy(&pid, rec + sizeof(h), 4); /* PERF_SAMPLE_TID comes first */
		if (h.type == PERF_RECORD_SAMPLE && k->machine_wide && !follow_has(k, (pid_t)pid)) {
			/* another vmleak run's process, let through by the shared map */
			atomic_fetch_add(&k->dropped, 1);
		} else if (h.type == PERF_RECORD_SAMPLE) {
			struct ksample *s = decode_sample(k, rec + sizeof(h), h.size - sizeof(h));

			if (!s || vec_push(out, s)) {
				free(s);
				atomic_fetch_add(&k->lost, 1);
			}
		} else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
			uint64_t n;

			memcpy(&n, rec + sizeof(h) + 8, 8);
			atomic_fetch_add(&k->lost, n);
		}
		tail += h.size;
		if (++n % 64 == 0) {
			/* give the space back as we go, and say early when it fills */
			__atomic_store_n(&c->page->data_tail, tail, __ATOMIC_RELEASE);
			uint64_t now = __atomic_load_n(&c->page->data_head, __ATOMIC_ACQUIRE);
			if ((now - tail) * 16 > c->data_size)
				raise_pressure(k);
		}
	}
	__atomic_store_n(&c->page->data_tail, tail, __ATOMIC_RELEASE);
}

/* Copy everything out of every ring buffer into the queue. */
static void drain_all(struct kevents *k)
{
	struct sample_vec got = {0};
	uint64_t start = now_ns();

	pthread_mutex_lock(&k->rb_lock);
	k->round_fill = 0;
	/* first say when a ring fills up: the main thread holds the tracees
	 * while this thread copies */
	for (size_t i = 0; i < k->ncpus; i++) {
		struct perf_event_mmap_page *pg = k->cpus[i].page;
		if (pg && (__atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE) - pg->data_tail) * 16 >
				  k->cpus[i].data_size)
			raise_pressure(k);
	}
	for (size_t i = 0; i < k->ncpus; i++)
		if (k->cpus[i].page)
			drain_cpu(k, &k->cpus[i], &got);
	atomic_store(&k->drained_ns, start);
	/* back-pressure: a ring 1/16 full, or a queue the main thread cannot
	 * unwind fast enough, and the tracees are held until it catches up */
	uint64_t queued = atomic_load(&k->queued_bytes);
	if (k->round_fill * 16 > k->ring_bytes || queued > KEV_QUEUE_HIGH)
		raise_pressure(k);
	else if (k->round_fill * 64 < k->ring_bytes && queued < KEV_QUEUE_LOW)
		atomic_store(&k->pressure, 0);
	pthread_mutex_unlock(&k->rb_lock);
	if (!got.n) {
		free(got.v);
		return;
	}
	pthread_mutex_lock(&k->q_lock);
	for (size_t i = 0; i < got.n; i++) {
		got.v[i]->seq = k->seq++;
		if (vec_push(&k->queue, got.v[i])) {
			atomic_fetch_sub(&k->queued_bytes, got.v[i]->bytes);
			free(got.v[i]);
			atomic_fetch_add(&k->lost, 1);
		}
	}
	pthread_mutex_unlock(&k->q_lock);
	free(got.v);
	uint64_t one = 1;
	if (write(k->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: the main thread is awake anyway */
	}
}

static void *reader_main(void *arg)
{
	struct kevents *k = arg;
	struct pollfd *pfd = calloc(k->ncpus + 1, sizeof(*pfd));

	if (!pfd)
		return NULL;
	if (k->reniced) /* this thread only (a thread's nice is its own on Linux) */
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), KEV_READER_NICE);
	for (size_t i = 0; i < k->ncpus; i++) {
		pfd[i].fd = k->cpus[i].fd;
		pfd[i].events = POLLIN;
	}
	pfd[k->ncpus].fd = k->stop_fd;
	pfd[k->ncpus].events = POLLIN;
	while (!atomic_load(&k->stop)) {
		poll(pfd, k->ncpus + 1, KEV_POLL_MS);
		drain_all(k);
	}
	free(pfd);
	return NULL;
}

int kevents_start(struct kevents *k)
{
	sigset_t all, old;
	int err;

	/* the reader never takes a signal: they are the main thread's */
	sigfillset(&all);
	/* When allowed (root, CAP_SYS_NICE), vmleak's own threads run at a higher
	 * priority while attached: on a loaded machine a reader or a main thread
	 * that waits for a CPU lets a ring buffer fill up. Never the program's. */
	k->main_thread = pthread_self();
	k->old_nice = getpriority(PRIO_PROCESS, 0);
	k->reniced = setpriority(PRIO_PROCESS, 0, KEV_MAIN_NICE) == 0;
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&k->reader, NULL, reader_main, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	k->reader_started = true;
	return 0;
}

/* ---- the main thread: queue -> ordered stream -> ledgers ---- */

static int cmp_sample(const void *a, const void *b)
{
	const struct ksample *x = *(struct ksample *const *)a, *y = *(struct ksample *const *)b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Move the queue into pend, keeping pend sorted. */
static int pend_reserve(struct sample_vec *v, size_t need)
{
	if (need <= v->cap)
		return 0;
	size_t ncap = v->cap ? v->cap : 1024;
	while (ncap < need)
		ncap *= 2;
	struct ksample **nv = realloc(v->v, ncap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	v->v = nv;
	v->cap = ncap;
	return 0;
}

/* Move the queue into pend, keeping pend sorted. New records are mostly later
 * than every pending one: only the overlapping tail is merged. */
static void take_queue(struct kevents *k)
{
	struct sample_vec batch, *p = &k->pend;

	pthread_mutex_lock(&k->q_lock);
	batch = k->queue;
	k->queue = (struct sample_vec){0};
	pool_flush(k);
	pthread_mutex_unlock(&k->q_lock);
	if (!batch.n) {
		free(batch.v);
		return;
	}
	qsort(batch.v, batch.n, sizeof(*batch.v), cmp_sample);
	if (k->pend_head > 4096 && k->pend_head * 2 > p->n) {
		memmove(p->v, p->v + k->pend_head, (p->n - k->pend_head) * sizeof(*p->v));
		p->n -= k->pend_head;
		k->pend_head = 0;
	}
	if (pend_reserve(p, p->n + batch.n)) {
		/* out of memory: free what cannot be kept, and say so */
		for (size_t i = 0; i < batch.n; i++) {
			atomic_fetch_sub(&k->queued_bytes, batch.v[i]->bytes);
			free(batch.v[i]);
		}
		atomic_fetch_add(&k->lost, batch.n);
		free(batch.v);
		return;
	}
	/* the first pending record later than the batch's first */
	size_t lo = k->pend_head, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_sample(&p->v[mid], &batch.v[0]) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t tail = p->n - lo, n = tail + batch.n;
	struct ksample **merged = tail ? malloc(n * sizeof(*merged)) : NULL;
	if (!tail) {
		memcpy(p->v + p->n, batch.v, batch.n * sizeof(*batch.v));
		p->n += batch.n;
		free(batch.v);
		return;
	}
	if (!merged) {
		memcpy(p->v + p->n, batch.v, batch.n * sizeof(*batch.v)); /* unsorted, kept */
		p->n += batch.n;
		free(batch.v);
		return;
	}
	size_t i = lo, j = 0, o = 0;
	while (i < p->n && j < batch.n)
		merged[o++] = cmp_sample(&p->v[i], &batch.v[j]) <= 0 ? p->v[i++] : batch.v[j++];
	while (i < p->n)
		merged[o++] = p->v[i++];
	while (j < batch.n)
		merged[o++] = batch.v[j++];
	memcpy(p->v + lo, merged, n * sizeof(*merged));
	p->n = lo + n;
	free(merged);
	free(batch.v);
}

static void push_fork_copy(struct kevents *k, pid_t parent, pid_t child, struct ledger *l)
{
	struct fork_copy *f = calloc(1, sizeof(*f));

	if (!f) {
		ledger_free(l);
		return;
	}
	f->parent = parent;
	f->child = child;
	f->ledger = l;
	*k->forks_tail = f;
	k->forks_tail = &f->next;
}

struct ledger *kevents_take_fork_copy(struct kevents *k, pid_t parent, pid_t child)
{
	struct fork_copy **pp, **hit = NULL;

	if (!k)
		return NULL;
	for (pp = &k->forks; *pp; pp = &(*pp)->next) {
		if ((*pp)->parent != parent)
			continue;
		if ((*pp)->child == child) {
			hit = pp;
			break;
		}
		if (!hit)
			hit = pp; /* pid namespaces differ: the oldest of this parent */
	}
	if (!hit)
		return NULL;
	struct fork_copy *f = *hit;
	struct ledger *l = f->ledger;
	*hit = f->next;
	if (!*hit || k->forks_tail == &f->next) {
		k->forks_tail = &k->forks;
		while (*k->forks_tail)
			k->forks_tail = &(*k->forks_tail)->next;
	}
	free(f);
	return l;
}

static bool is_error_return(int64_t ret)
{
	return ret < 0 && ret >= -4095;
}

static void apply_sample(struct tracer *t, struct kevents *k, const struct ksample *s)
{
	struct task *tk = task_find(t, s->tid);

	if (!tk || !tk->as || !tk->as->kernel_events) {
		k->stray++;
		return;
	}
	t->event_ns = s->time;
	switch (s->kind) {
	case KEV_ENTER:
		mem_entry(t, tk, AUDIT_ARCH_X86_64, (uint64_t)s->nr, s->args);
		break;
	case KEV_EXIT:
		if (!tk->in_call)
			break; /* entered before we attached */
		if (tk->call.nr != (uint64_t)s->nr) {
			mem_abandon(t, tk); /* its entry was lost */
			break;
		}
		k->current = s;
		mem_exit(t, tk, s->ret, is_error_return(s->ret));
		k->current = NULL;
		break;
	case KEV_NEWTASK:
		if (!(s->clone_flags & CLONE_VM) && !tk->as->ignored) {
			struct ledger *l = ledger_copy(tk->as->ledger);
			if (l)
				push_fork_copy(k, tk->tid, s->child, l);
		}
		break;
	}
	t->event_ns = 0;
}

/* Returns true when it stopped at the batch limit with more to apply. */
static bool apply_until(struct tracer *t, uint64_t limit, bool bounded)
{
	struct kevents *k = t->kev;
	size_t applied = 0;
	bool more = false;

	if (k->in_apply)
		return false; /* a sync from inside an applied event: the outer one continues */
	k->in_apply = true;
	take_queue(k);
	while (k->pend_head < k->pend.n) {
		struct ksample *s = k->pend.v[k->pend_head];

		if (s->time > limit)
			break;
		if (bounded && (applied == KEV_APPLY_BATCH ||
				(!t->throttled && applied && kevents_pressure(k)))) {
			more = true; /* back to the loop: it holds the tracees */
			break;
		}
		applied++;
		k->pend_head++;
		apply_sample(t, k, s);
		atomic_fetch_sub(&k->queued_bytes, s->bytes);
		sample_free(k, s);
	}
	if (k->pend_head == k->pend.n) {
		k->pend.n = 0;
		k->pend_head = 0;
	}
	k->in_apply = false;
	return more;
}

bool kevents_pending(const struct kevents *k)
{
	return k && k->pend_head < k->pend.n;
}

bool kevents_process(struct tracer *t)
{
	uint64_t drained, one;

	if (!t->kev)
		return false;
	if (read(t->kev->wake_fd, &one, sizeof(one)) < 0) {
		/* nothing new: still apply what has settled */
	}
	drained = atomic_load(&t->kev->drained_ns);
	if ((kevents_pending(t->kev) && now_ns() - drained > 2 * KEV_SETTLE_NS) ||
	    (atomic_load(&t->kev->pressure) &&
	     atomic_load(&t->kev->queued_bytes) < KEV_QUEUE_LOW)) {
		/* (and a hold ends as soon as the queue is short: a drain
		 * re-evaluates the pressure) */
		/* records wait for a drain to settle them: do not wait for the
		 * reader's next round (it sleeps while held tracees write nothing) */
		drain_all(t->kev);
		drained = atomic_load(&t->kev->drained_ns);
	}
	if (drained > KEV_SETTLE_NS)
		return apply_until(t, drained - KEV_SETTLE_NS, true);
	return false;
}

void kevents_sync(struct tracer *t)
{
	if (!t->kev)
		return;
	drain_all(t->kev);
	apply_until(t, UINT64_MAX, false);
}

bool kevents_pressure(const struct kevents *k)
{
	return k && !k->no_hold && atomic_load(&k->pressure);
}

int kevents_wake_fd(const struct kevents *k)
{
	return k ? k->wake_fd : -1;
}

const struct unwind_sample *kevents_current_sample(const struct kevents *k)
{
	if (!k || !k->current || !k->current->has_regs)
		return NULL;
	return &k->current->us;
}

uint64_t kevents_lost(const struct kevents *k)
{
	return k ? atomic_load(&k->lost) : 0;
}

uint64_t kevents_stacks_dropped(const struct kevents *k)
{
	return k ? atomic_load(&k->stacks_dropped) : 0;
}

static void stop_reader(struct kevents *k)
{
	uint64_t one = 1;

	if (!k->reader_started)
		return;
	atomic_store(&k->stop, true);
	if (write(k->stop_fd, &one, sizeof(one)) < 0) {
		/* it wakes within KEV_POLL_MS anyway */
	}
	pthread_join(k->reader, NULL);
	k->reader_started = false;
}

static void close_events(struct kevents *k)
{
	close_fds(k, false);
	kfilter_free(k->filter); /* the kernel detaches it with the events */
	k->filter = NULL;
}

void kevents_release(struct tracer *t)
{
	if (t->kev)
		close_events(t->kev);
}

void kevents_close(struct tracer *t)
{
	struct kevents *k = t->kev;

	if (!k)
		return;
	stop_reader(k);
	if (k->reniced) /* the report is not urgent */
		setpriority(PRIO_PROCESS, 0, k->old_nice);
	k->reniced = false;
	/* disabling first: closing hundreds of fds is not atomic */
	for (size_t i = 0; i < k->nfds; i++)
		ioctl(k->fds[i], PERF_EVENT_IOC_DISABLE, 0);
	drain_all(k);
	apply_until(t, UINT64_MAX, false);
	if (getenv("VMLEAK_KEV_DEBUG")) /* for benchmarks: what the engine did */
		fprintf(stderr,
			"vmleak: kernel events (%s): %llu applied, %llu held, %llu lost, "
			"%llu stray, %llu dropped early, %zu fds\n",
			k->mode_note, (unsigned long long)k->seq, (unsigned long long)t->throttles,
			(unsigned long long)atomic_load(&k->lost), (unsigned long long)k->stray,
			(unsigned long long)atomic_load(&k->dropped), k->nfds);
	close_fds(k, true);
}

void kevents_free(struct kevents *k)
{
	if (!k)
		return;
	stop_reader(k);
	close_events(k);
	for (size_t i = k->pend_head; i < k->pend.n; i++)
		free(k->pend.v[i]);
	free(k->pend.v);
	for (size_t i = 0; i < k->queue.n; i++)
		free(k->queue.v[i]);
	free(k->queue.v);
	for (int big = 0; big < 2; big++) {
		free_list(k->pool[big]);
		free_list(k->r_free[big]);
		free_list(k->m_free[big]);
	}
	while (k->forks) {
		struct fork_copy *f = k->forks;
		k->forks = f->next;
		ledger_free(f->ledger);
		free(f);
	}
	if (k->stop_fd >= 0)
		close(k->stop_fd);
	if (k->wake_fd >= 0)
		close(k->wake_fd);
	free(k->fds);
	free(k->cpus);
	pthread_mutex_destroy(&k->rb_lock);
	pthread_mutex_destroy(&k->q_lock);
	free(k);
}

/* ---- resynchronisation after a loss ---- */

void tracer_resync_space(struct tracer *t, struct addr_space *as)
{
	struct maps_entry *e = NULL;
	struct maps_mismatch *mm = NULL;
	size_t n = 0, checked = 0;
	long ne = procfs_maps(as->pid, &e);

	if (ne < 0)
		return;
	if (maps_compare(as->ledger, e, (size_t)ne, &mm, &n, &checked)) {
		free(e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t s = mm[i].start, end = mm[i].end;

		if (!strcmp(mm[i].problem, "in ledger, not mapped")) {
			ledger_take(as->ledger, s, end - s, NULL);
			continue;
		}
		/* mapped, not in ledger: made by a call whose event was lost */
		struct region r = {
			.start = s,
			.end = end,
			.op = MEM_NONE,
			.kind = REGION_ANON,
			.origin = REGION_RESYNCED,
			.time_ms = tracer_time_ms(t),
			.tid = as->pid,
		};
		for (long j = 0; j < ne; j++) {
			if (e[j].start <= s && s < e[j].end) {
				r.prot = e[j].prot;
				r.flags = e[j].shared ? MAP_SHARED : MAP_PRIVATE;
				if (e[j].path[0] != '/')
					r.flags |= MAP_ANONYMOUS;
				if (e[j].path[0] == '/') {
					r.kind = REGION_FILE;
					r.path = strtab_intern(t->paths, e[j].path);
				} else if (!strcmp(e[j].path, "[heap]")) {
					r.kind = REGION_BRK;
				}
				break;
			}
		}
		if (ledger_insert(as->ledger, &r) == 0)
			t->resynced++;
	}
	free(mm);
	free(e);
}

void tracer_resync(struct tracer *t)
{
	for (struct addr_space *as = t->spaces; as; as = as->next_all)
		if (as->kernel_events && as->users > 0 && !as->snapshotted && !as->ignored)
			tracer_resync_space(t, as);
}
