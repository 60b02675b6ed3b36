/* tracer/attach.c - attach to running processes (PTRACE_SEIZE every thread,
 * re-scanning /proc/PID/task until a pass finds nothing new), and detach from
 * every task so that each carries on exactly as if it had never been traced. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracer/kevents.h"
#include "tracer/procfs.h"
#include "tracer/tracer.h"
#include "tracer/unwind.h"

static void attach_error(pid_t pid, int err, char *buf, size_t len)
{
	if (err == ESRCH) {
		snprintf(buf, len, "vmleak: attach to pid %d: no such process", pid);
	} else if (err == EPERM) {
		pid_t tracer = procfs_tracer(pid);
		if (tracer > 0)
			snprintf(
				buf, len,
				"vmleak: attach to pid %d: operation not permitted (already traced by pid %d)",
				pid, tracer);
		else
			snprintf(
				buf, len,
				"vmleak: attach to pid %d: operation not permitted (no ptrace permission)",
				pid);
	} else {
		snprintf(buf, len, "vmleak: attach to pid %d: %s", pid, strerror(err));
	}
}

static int count_threads(pid_t pid)
{
	char path[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int check_target(pid_t pid, char *err, size_t errlen)
{
	char path[64], c;
	pid_t tgid;

	if (pid == getpid()) {
		snprintf(err, errlen, "vmleak: attach to pid %d: that is vmleak itself", pid);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (access(path, F_OK)) {
		attach_error(pid, ESRCH, err, errlen);
		return -1;
	}
	tgid = procfs_tgid(pid);
	if (tgid <= 0) {
		attach_error(pid, ESRCH, err, errlen);
		return -1;
	}
	if (tgid != pid) {
		snprintf(err, errlen,
			 "vmleak: attach to pid %d: it is a thread of process %d (use -p %d)", pid,
			 tgid, tgid);
		return -1;
	}
	c = procfs_state(pid);
	if ((c == 'Z' || c == 'X') && count_threads(pid) <= 1) {
		snprintf(err, errlen, "vmleak: attach to pid %d: it is a zombie", pid);
		return -1;
	}
	if (procfs_is_kernel_thread(pid)) {
		snprintf(err, errlen, "vmleak: attach to pid %d: it is a kernel thread", pid);
		return -1;
	}
	return 0;
}

/* Seize every thread of pid not seized yet; returns how many were added or -errno. */
static int seize_threads(struct tracer *t, pid_t pid, struct addr_space *as)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int added = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);
		if (tid <= 0 || task_find(t, tid))
			continue;
		if (ptrace(PTRACE_SEIZE, tid, 0, tracer_options(t))) {
			int e = errno;
			if (e == ESRCH)
				continue; /* the thread exited */
			char st = procfs_state(tid);
			if (e == EPERM && (st == 'Z' || st == 'X'))
				continue; /* a leader that called pthread_exit: nothing to trace */
			closedir(d);
			return -e;
		}
		struct task *tk = task_add(t, tid, pid);
		if (!tk) {
			closedir(d);
			return -ENOMEM; /* exiting detaches what is seized */
		}
		tk->as = as;
		space_use(as);
		if (as->pid == pid && tid != pid && procfs_state(pid) == 'Z')
			as->pid = tid; /* read /proc through a live thread */
		tk->have_initial_stop = true;
		tk->state = TASK_RUNNING;
		ptrace(PTRACE_INTERRUPT, tid, 0, 0);
		added++;
	}
	closedir(d);
	return added;
}

static bool any_running(struct tracer *t)
{
	for (size_t i = 0; i < t->hsize; i++)
		for (struct task *tk = t->htab[i]; tk; tk = tk->hnext)
			if (tk->state == TASK_RUNNING)
				return true;
	return false;
}

/* Tasks we wait for in vain: a thread that became a zombie (its death is
 * reported only when its whole group is gone) never reports a stop. */
static void forget_zombies(struct tracer *t)
{
	for (size_t i = 0; i < t->hsize; i++) {
		struct task *tk = t->htab[i];
		while (tk) {
			struct task *next = tk->hnext;
			char st = procfs_state(tk->tid);
			if (tk->state == TASK_RUNNING && (st == 'Z' || st == 'X' || st == 0))
				task_forget(t, tk);
			tk = next;
		}
	}
}

/* With t->stopping set, stops are recorded but tasks are left stopped. The tick
 * (SIGALRM every 100 ms) interrupts waitpid so that a task that cannot stop any
 * more is noticed. */
static void collect_stops(struct tracer *t)
{
	double start = now_seconds();
	int status;

	while (t->ntasks && any_running(t)) {
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno != EINTR)
				break;
			if (now_seconds() - start > 0.5)
				forget_zombies(t);
			continue;
		}
		tracer_handle_status(t, pid, status);
	}
}

static void resume_all(struct tracer *t)
{
	for (size_t i = 0; i < t->hsize; i++)
		for (struct task *tk = t->htab[i]; tk; tk = tk->hnext)
			if (tk->state == TASK_STOPPED && tk->as)
				task_continue(t, tk);
}

/* Back to syscall stops for every address space (kernel events could not be set
 * up for every thread): nothing has run since the attach, nothing is missed. */
static void fall_back_to_ptrace(struct tracer *t, const char *why)
{
	for (struct addr_space *as = t->spaces; as; as = as->next_all)
		as->kernel_events = false;
	kevents_free(t->kev);
	t->kev = NULL;
	snprintf(t->events_note, sizeof(t->events_note), "%s", why);
}

/* Every thread is stopped: open the kernel events of each (their future
 * threads and children inherit them) and start the reader. 32-bit programs
 * keep syscall stops: the syscall tracepoints do not see compat calls. */
static int open_kernel_events(struct tracer *t, char *err, size_t errlen)
{
	char why[256] = "";
	int rc = 0;

	for (struct addr_space *as = t->spaces; as; as = as->next_all) {
		as->kernel_events = !procfs_exe_is_32bit(as->pid);
		if (!as->kernel_events)
			snprintf(t->events_note, sizeof(t->events_note),
				 "32-bit processes use ptrace syscall stops (the syscall "
				 "tracepoints do not see compat calls)");
	}
	for (size_t i = 0; i < t->hsize && !rc; i++)
		for (struct task *tk = t->htab[i]; tk && !rc; tk = tk->hnext)
			if (tk->as && tk->as->kernel_events)
				rc = kevents_open_task(t->kev, tk->tid, why, sizeof(why));
	if (!rc)
		rc = kevents_start(t->kev);
	if (!rc) {
		kevents_warn_foreign(t->kev, stderr);
		/* while everything is stopped: the first backtraces are the slow ones */
		for (struct addr_space *as = t->spaces; as; as = as->next_all) {
			if (!as->kernel_events || !t->opt->depth || as->uw)
				continue;
			as->uw = unwinder_new_sampled(t->opt->unwinder, as->pid, t->paths);
			unwinder_warm_up(as->uw);
		}
		return 0;
	}
	if (!why[0])
		snprintf(why, sizeof(why), "reader thread: %s", strerror(-rc));
	if (t->opt->events == EVENTS_KERNEL) {
		snprintf(err, errlen, "vmleak: --events kernel: %s", why);
		kevents_free(t->kev);
		t->kev = NULL;
		for (size_t i = 0; i < t->hsize; i++)
			for (struct task *tk = t->htab[i]; tk; tk = tk->hnext)
				ptrace(PTRACE_DETACH, tk->tid, 0, tk->stop_sig);
		return -1;
	}
	fall_back_to_ptrace(t, why);
	return 0;
}

int tracer_attach(struct tracer *t, const pid_t *pids, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (check_target(pids[i], err, errlen))
			return -1;
	t->stopping = true; /* hold every stop until all are seized and seeded */
	for (size_t i = 0; i < n; i++) {
		struct addr_space *as = space_new(t, pids[i], NULL);
		if (!as) {
			snprintf(err, errlen, "vmleak: out of memory");
			return -1;
		}
		int added, total = 0;
		do {
			added = seize_threads(t, pids[i], as);
			if (added < 0) {
				attach_error(pids[i], -added, err, errlen);
				return -1;
			}
			total += added;
		} while (added > 0);
		if (!total) {
			attach_error(pids[i], ESRCH, err, errlen);
			return -1;
		}
		proc_remember(t, pids[i]);
	}
	collect_stops(t);
	/* every thread is stopped: what is mapped now was there before us */
	for (struct addr_space *as = t->spaces; as; as = as->next_all)
		if (procfs_seed_ledger(as->pid, as->ledger) == -ENOMEM)
			tracer_oom(t, "attach");
	if (t->kev && open_kernel_events(t, err, errlen))
		return -1;
	t->stopping = false;
	resume_all(t);
	return 0;
}

static void interrupt_all(struct tracer *t)
{
	for (size_t i = 0; i < t->hsize; i++)
		for (struct task *tk = t->htab[i]; tk; tk = tk->hnext)
			if (tk->state == TASK_RUNNING || tk->state == TASK_LISTENING) {
				tk->state = TASK_RUNNING;
				ptrace(PTRACE_INTERRUPT, tk->tid, 0, 0);
			}
}

/* Tasks held at the entry of a memory call: the ledger already shows a removal
 * the kernel has not made, and a mapping it is about to make is missing. Let each
 * run to its exit stop (a memory call does not block for long), so that the
 * ledger is exact when it is verified and reported; one that has not stopped
 * within a second is interrupted (the call will restart after the detach, so
 * its removal is put back). */
static void finish_calls_in_flight(struct tracer *t)
{
	bool any = false;

	for (size_t i = 0; i < t->hsize; i++)
		for (struct task *tk = t->htab[i]; tk; tk = tk->hnext) {
			if (tk->state != TASK_STOPPED || !tk->in_call || tk->stop_sig ||
			    tk->group_stopped || (tk->as && tk->as->kernel_events))
				continue;
			if (ptrace(PTRACE_SYSCALL, tk->tid, 0, 0) == 0) {
				tk->state = TASK_RUNNING;
				any = true;
			}
		}
	if (!any)
		return;
	double deadline = now_seconds() + 1.0;
	int status;
	while (t->ntasks && any_running(t)) {
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid >= 0) {
			tracer_handle_status(t, pid, status);
			continue;
		}
		if (errno != EINTR)
			break;
		if (now_seconds() > deadline) {
			interrupt_all(t);
			collect_stops(t);
			break;
		}
	}
}

void tracer_detach_all(struct tracer *t)
{
	t->stopping = true;
	interrupt_all(t);
	collect_stops(t);
	/* every event the stopped threads made is in the buffers: apply them all,
	 * then close the events (nothing of ours stays in the tracees) */
	kevents_close(t);
	finish_calls_in_flight(t);
	/* snapshot while every task is stopped (the maps can be verified through any
	 * live task of the address space) */
	for (size_t i = 0; i < t->hsize; i++)
		for (struct task *tk = t->htab[i]; tk; tk = tk->hnext)
			if (tk->as)
				tk->as->pid = tk->tid;
	if (t->kev) {
		t->lost_events = kevents_lost(t->kev);
		if (t->lost_events)
			tracer_resync(t);
	}
	for (struct addr_space *as = t->spaces; as; as = as->next_all)
		if (as->users > 0)
			space_snapshot(t, as, true);
	for (size_t i = 0; i < t->hsize; i++) {
		struct task *tk = t->htab[i];
		while (tk) {
			struct task *next = tk->hnext;
			ptrace(PTRACE_DETACH, tk->tid, 0, tk->stop_sig);
			tk = next;
		}
	}
	kevents_release(t); /* tens of milliseconds: not while they wait */
}
