/* tracer/affinity.c - launch mode: when one tracee thread makes every stop, the
 * tracer moves itself (never the program) onto that thread's CPU and drops to
 * SCHED_IDLE. A CPU that runs only an idle-class task counts as idle for wake-up
 * placement, so the tracee keeps waking on the tracer's CPU and each ptrace stop
 * is a local context switch instead of an IPI to a halted vCPU. A guard returns
 * to normal priority for a while when the machine is busy (more runnable tasks
 * than CPUs) or the tracer waited for a CPU for half a tick, so a starved tracer
 * does not stall the program. (The tracer's run delay alone says little: the
 * tracee it has just resumed preempts it on their shared CPU, as intended.) */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tracer/affinity.h"

#define HOT_STOPS    20		   /* stops in a tick that make a thread worth following */
#define STARVED_NS   50000000ULL   /* run delay per 100 ms tick that means we starve */
#define BACKOFF_NS   1000000000ULL /* normal priority for this long after starving */
#define FOLLOW_EVERY 64		   /* stops between checks of the followed thread's CPU */

struct affinity {
	cpu_set_t allowed; /* the tracer's own mask at start */
	bool idle_ok;	   /* we may enter SCHED_IDLE and leave it again */
	bool idle;	   /* SCHED_IDLE now */
	pid_t hot;	   /* the only tid that stopped this period, 0 = none yet */
	bool mixed;	   /* more than one tid stopped this period */
	unsigned long stops;
	int pinned_cpu; /* -1: not pinned */
	pid_t stat_tid; /* /proc/TID/stat kept open in stat_fd */
	int stat_fd;
	int sched_fd; /* /proc/self/schedstat */
	int load_fd;  /* /proc/loadavg */
	int ncpus;
	unsigned long long last_delay, backoff_until;
};

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int set_policy(int policy)
{
	struct sched_param p = {0};

	return sched_setscheduler(0, policy, &p);
}

struct affinity *affinity_new(void)
{
	struct affinity *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (sched_getaffinity(0, sizeof(a->allowed), &a->allowed) || CPU_COUNT(&a->allowed) < 2) {
		free(a); /* one CPU: nothing to gain */
		return NULL;
	}
	/* leaving SCHED_IDLE needs CAP_SYS_NICE or RLIMIT_NICE: try both ways now */
	a->idle_ok = set_policy(SCHED_IDLE) == 0 && set_policy(SCHED_OTHER) == 0;
	if (!a->idle_ok) {
		set_policy(SCHED_OTHER);
		free(a); /* pinning alone does not help: the tracee moves to the idle CPU */
		return NULL;
	}
	a->pinned_cpu = -1;
	a->stat_fd = -1;
	a->sched_fd = open("/proc/self/schedstat", O_RDONLY | O_CLOEXEC);
	a->load_fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	a->ncpus = CPU_COUNT(&a->allowed);
	return a;
}

static void pin(struct affinity *a, int cpu)
{
	cpu_set_t one;

	if (cpu == a->pinned_cpu)
		return;
	if (cpu < 0) {
		sched_setaffinity(0, sizeof(a->allowed), &a->allowed);
	} else {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			return;
	}
	a->pinned_cpu = cpu;
}

static void go_idle(struct affinity *a, bool idle)
{
	if (idle == a->idle)
		return;
	if (set_policy(idle ? SCHED_IDLE : SCHED_OTHER) == 0)
		a->idle = idle;
}

void affinity_free(struct affinity *a)
{
	if (!a)
		return;
	go_idle(a, false);
	pin(a, -1);
	if (a->stat_fd >= 0)
		close(a->stat_fd);
	if (a->sched_fd >= 0)
		close(a->sched_fd);
	if (a->load_fd >= 0)
		close(a->load_fd);
	free(a);
}

static int last_cpu(struct affinity *a, pid_t tid);
static void pin(struct affinity *a, int cpu);

void affinity_saw_stop(struct affinity *a, pid_t tid)
{
	if (!a)
		return;
	a->stops++;
	if (!a->hot)
		a->hot = tid;
	else if (a->hot != tid)
		a->mixed = true;
	/* the load balancer may move the tracee: check where it runs now and then */
	if (a->idle && !a->mixed && (a->stops & (FOLLOW_EVERY - 1)) == 0) {
		int cpu = last_cpu(a, tid);
		if (cpu >= 0 && cpu != a->pinned_cpu && CPU_ISSET(cpu, &a->allowed))
			pin(a, cpu);
	}
}

/* Field n (1-based) of a /proc stat-like line read with pread from fd. */
static long long read_field(int fd, int n, bool after_comm)
{
	char buf[1024];
	ssize_t len = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	char *p = buf;
	int field = 1;

	if (len <= 0)
		return -1;
	buf[len] = '\0';
	if (after_comm) { /* /proc/TID/stat: fields restart after "(comm)" at 3 */
		p = strrchr(buf, ')');
		if (!p)
			return -1;
		field = 2;
	}
	for (; p && field < n; field++)
		p = strchr(p + 1, ' ');
	return p ? atoll(p + (after_comm || field > 1)) : -1;
}

/* The CPU tid last ran on: field 39 of /proc/TID/stat. */
static int last_cpu(struct affinity *a, pid_t tid)
{
	char path[64];

	if (a->stat_tid != tid || a->stat_fd < 0) {
		if (a->stat_fd >= 0)
			close(a->stat_fd);
		snprintf(path, sizeof(path), "/proc/%d/stat", tid);
		a->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
		a->stat_tid = tid;
	}
	return (int)read_field(a->stat_fd, 39, true);
}

/* Runnable tasks now, from /proc/loadavg's "running/total" field. */
static int nr_running(struct affinity *a)
{
	char buf[128];
	ssize_t len = a->load_fd >= 0 ? pread(a->load_fd, buf, sizeof(buf) - 1, 0) : -1;
	char *p;

	if (len <= 0)
		return -1;
	buf[len] = '\0';
	p = strchr(buf, '/');
	while (p && p > buf && p[-1] != ' ')
		p--;
	return p ? atoi(p) : -1;
}

/* True when the CPUs are contended or the tracer waited for one for long. */
static bool starving(struct affinity *a)
{
	long long delay = read_field(a->sched_fd, 2, false); /* run delay, ns */
	bool starved = delay >= 0 && (unsigned long long)delay - a->last_delay > STARVED_NS;

	if (delay >= 0)
		a->last_delay = delay;
	return starved || nr_running(a) > a->ncpus;
}

void affinity_tick(struct affinity *a)
{
	unsigned long long now;
	bool follow;

	if (!a)
		return;
	now = now_ns();
	if (starving(a))
		a->backoff_until = now + BACKOFF_NS;
	follow = a->stops >= HOT_STOPS && !a->mixed && now >= a->backoff_until;
	if (follow) {
		int cpu = last_cpu(a, a->hot);
		follow = cpu >= 0 && CPU_ISSET(cpu, &a->allowed);
		if (follow)
			pin(a, cpu);
	}
	if (!follow)
		pin(a, -1);
	go_idle(a, follow);
	a->hot = 0;
	a->mixed = false;
	a->stops = 0;
}
