/* tracer/loop.c - the ptrace wait loop: classifies every stop (syscall, seccomp,
 * clone/fork/vfork/exec/exit events, group-stops, signal delivery) and keeps the
 * task and address-space tables in step with the kernel's. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decoder/grow.h"
#include "tracer/affinity.h"
#include "tracer/growth.h"
#include "tracer/kevents.h"
#include "tracer/procfs.h"
#include "tracer/signals.h"
#include "tracer/tracer.h"

#ifndef CLONE_VM
#define CLONE_VM 0x00000100
#endif
#ifndef CLONE_VFORK
#define CLONE_VFORK 0x00004000
#endif
#ifndef CLONE_THREAD
#define CLONE_THREAD 0x00010000
#endif

/* set by the SIGURG handler (kernel events, back-pressure): see on_sigurg */
static volatile sig_atomic_t urgent_hold;

unsigned long tracer_options(const struct tracer *t)
{
	unsigned long o = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
			  PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT;

	if (t->seccomp)
		o |= PTRACE_O_TRACESECCOMP;
	return o;
}

/* Restart a stopped task. In seccomp mode only a task inside a memory call needs
 * its exit stop (PTRACE_SYSCALL); everything else runs with PTRACE_CONT. With
 * kernel events there are no syscall stops at all. */
int task_resume(struct tracer *t, struct task *tk, int sig)
{
	int req = PTRACE_SYSCALL;

	if (t->stopping) {
		tk->stop_sig = sig; /* the detach will deliver it */
		return 0;
	}
	if ((t->seccomp && !tk->in_call) || (tk->as && tk->as->kernel_events))
		req = PTRACE_CONT;
	tk->state = TASK_RUNNING;
	tk->stop_sig = 0;
	if (ptrace(req, tk->tid, 0, sig) && errno != ESRCH)
		return -errno;
	return 0;
}

static void task_leave_space(struct tracer *t, struct task *tk, bool report)
{
	struct addr_space *as = tk->as;

	if (!as)
		return;
	if (!tk->exit_stopped)
		as->live_users--;
	tk->as = NULL;
	space_release(t, as, report);
}

/* 0: the two tasks share an mm; 1: they do not; -1: the kernel cannot say. */
static int share_mm(pid_t a, pid_t b)
{
	long r = syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0);

	if (r < 0)
		return -1;
	return r == 0 ? 0 : 1;
}

static bool is_group_stop_sig(int sig);

/* Out of memory, a stop of a task we could not track: let it go on as if we
 * were not here. Attach mode detaches it; launch mode (its seccomp filter needs
 * a tracer) resumes it, delivering a signal, keeping a group-stop. */
static void let_go_untracked(struct tracer *t, pid_t pid, int status)
{
	int sig = WSTOPSIG(status);
	unsigned ev = (unsigned)status >> 16;
	int deliver = ev == 0 && sig != (SIGTRAP | 0x80) ? sig : 0;

	if (!t->launch) {
		ptrace(PTRACE_DETACH, pid, 0, deliver);
		return;
	}
	if (ev == PTRACE_EVENT_STOP && is_group_stop_sig(sig) &&
	    ptrace(PTRACE_LISTEN, pid, 0, 0) == 0)
		return;
	ptrace(PTRACE_CONT, pid, 0, deliver);
}

static void maybe_start_child(struct tracer *t, struct task *child)
{
	if (child->as && child->have_initial_stop && child->state == TASK_STOPPED)
		task_resume(t, child, 0);
}

static void handle_new_child(struct tracer *t, struct task *parent, int event)
{
	unsigned long msg = 0;
	bool known = parent->clone_flags_known;
	uint64_t flags;

	if (ptrace(PTRACE_GETEVENTMSG, parent->tid, 0, &msg) || !msg)
		return;
	pid_t tid = (pid_t)msg;
	if (known)
		flags = parent->clone_flags;
	else if (event == PTRACE_EVENT_CLONE)
		flags = CLONE_VM | CLONE_THREAD;
	else if (event == PTRACE_EVENT_VFORK)
		flags = CLONE_VM | CLONE_VFORK;
	else
		flags = 0;
	parent->clone_flags_known = false;

	struct task *child = task_find(t, tid);
	if (!child) {
		child = task_add(t, tid, tid);
		if (!child) {
			tracer_oom(t, "task table"); /* its stops are let go untracked */
			return;
		}
		child->state = TASK_RUNNING; /* its initial stop is on the way */
	}
	if (child->as)
		return; /* already linked */
	/* the flags of the clone call we decoded say it all; without them (a
	 * clone3 whose arguments could not be read) ask /proc and the kernel */
	pid_t tgid = (flags & CLONE_THREAD) ? parent->tgid : known ? tid : procfs_tgid(tid);
	child->tgid = tgid > 0 ? tgid : tid;
	tid_remember(t, tid, child->tgid);

	int shared = known ? !(flags & CLONE_VM) : share_mm(parent->tid, tid);
	if (shared < 0)
		shared = (flags & CLONE_VM) ? 0 : 1;
	if (shared == 0 && parent->as) {
		child->as = parent->as;
	} else if (parent->as) {
		struct ledger *copy = NULL;
		if (parent->as->kernel_events) {
			/* the copy taken where the kernel copied the mm in the stream */
			kevents_sync(t);
			copy = kevents_take_fork_copy(t->kev, parent->tid, tid);
		}
		if (!copy)
			copy = ledger_copy(parent->as->ledger);
		child->as = copy ? space_new(t, tid, copy) : NULL;
		if (!child->as) {
			/* it must run all the same: recording has ended */
			if (copy)
				ledger_free(copy);
			tracer_oom(t, "fork");
			child->as = parent->as;
		} else {
			child->as->parent = parent->as;
			child->as->kernel_events = parent->as->kernel_events;
			if (!t->opt->follow_forks)
				child->as->ignored = true;
		}
	}
	if (!child->as && t->oom) {
		/* its parent is untracked (out of memory): so is it */
		bool stopped = child->have_initial_stop && child->state == TASK_STOPPED;

		task_remove(t, child);
		if (stopped)
			let_go_untracked(t, tid, W_STOPCODE(SIGTRAP) | PTRACE_EVENT_STOP << 16);
		return;
	}
	if (child->as)
		space_use(child->as);
	if (shared != 0 && child->as && !child->as->ignored)
		proc_remember(t, tid); /* a new address space */
	if (child->as && child->as->ignored && !t->seccomp) {
		/* --no-follow-forks in attach mode: let it go at its first stop */
		child->detach_at_stop = true;
	}
	if (child->as && child->as->kernel_events && !child->as->ignored && child->tgid == tid)
		kevents_follow(t, tid); /* a new thread group: before it runs */
	maybe_start_child(t, child);
}

void tracer_on_exec(struct tracer *t, struct task *tk)
{
	unsigned long old = 0;
	bool kernel = tk->as && tk->as->kernel_events;

	if (kernel)
		kevents_sync(t); /* what the old image did, before its mm goes */
	if (ptrace(PTRACE_GETEVENTMSG, tk->tid, 0, &old) == 0 && old && (pid_t)old != tk->tid) {
		/* a non-leader thread exec'd and took over the leader's pid */
		struct task *o = task_find(t, (pid_t)old);
		if (o) {
			task_leave_space(t, o, false);
			task_remove(t, o);
		}
	}
	bool ignored = tk->as && tk->as->ignored;
	task_leave_space(t, tk, false);
	mem_abandon(t, tk);
	tk->exit_stopped = false;
	tk->sp = 0; /* its old stack went with the old mm; it is the leader now */
	tk->tgid = tk->tid;
	tid_remember(t, tk->tid, tk->tid);
	tk->as = space_new(t, tk->tid, NULL);
	if (!tk->as) {
		tracer_oom(t, "exec");
		return;
	}
	tk->as->ignored = ignored;
	/* the syscall tracepoints do not see a 32-bit program's calls: stops do */
	tk->as->kernel_events = kernel && !procfs_exe_is_32bit(tk->tid);
	if (kernel && !tk->as->kernel_events)
		snprintf(t->events_note, sizeof(t->events_note),
			 "32-bit processes use ptrace syscall stops (the syscall tracepoints do "
			 "not see compat calls)");
	space_use(tk->as);
	if (procfs_seed_ledger(tk->tid, tk->as->ledger) == -ENOMEM && !ignored)
		tracer_oom(t, "exec");
	if (!ignored)
		proc_remember(t, tk->tid);
}

/* A thread's stack pointer at its first stop: it lies in the thread's stack, which
 * tells the report which thread stacks belong to threads that have exited. */
static void note_thread_sp(struct task *tk)
{
	struct __ptrace_syscall_info si;

	if (tk->sp || tk->tgid == tk->tid)
		return;
	if (ptrace(PTRACE_GET_SYSCALL_INFO, tk->tid, sizeof(si), &si) > 0)
		tk->sp = si.stack_pointer;
}

/* Kept per address space: an exec leaves the old one, and with it the stacks of
 * the threads that exited there. */
static void remember_exited_thread(struct tracer *t, struct task *tk)
{
	struct addr_space *as = tk->as;

	if (!tk->sp || tk->tgid == tk->tid || !as || as->group_exiting)
		return;
	uint64_t *v = grow_array(as->exited_sps, &as->capexited, as->nexited + 1, sizeof(*v), 64);
	if (!v) {
		tracer_oom(t, "thread stacks");
		return;
	}
	as->exited_sps = v;
	as->exited_sps[as->nexited++] = tk->sp;
}

static void handle_exit_event(struct tracer *t, struct task *tk)
{
	struct addr_space *as = tk->as;
	unsigned long status = 0;

	if (tk->exit_stopped || !as)
		return;
	if (as->kernel_events)
		kevents_sync(t); /* its last calls, before it goes */
	tk->exit_stopped = true;
	if (ptrace(PTRACE_GETEVENTMSG, tk->tid, 0, &status) == 0 && WIFSIGNALED((int)status))
		as->group_exiting = true; /* a fatal signal takes the whole process */
	remember_exited_thread(t, tk);
	if (--as->live_users == 0) {
		as->pid = tk->tid; /* the mm is still there: /proc/TID/maps is readable */
		if (as->kernel_events && !as->ignored && kevents_lost(t->kev))
			tracer_resync_space(t, as); /* exact before it is frozen */
		space_snapshot(t, as, true);
	}
}

void task_forget(struct tracer *t, struct task *tk)
{
	if (tk->as && tk->as->kernel_events)
		kevents_sync(t);
	mem_abandon(t, tk);
	task_leave_space(t, tk, true);
	task_remove(t, tk);
}

static void handle_death(struct tracer *t, pid_t pid, int status)
{
	struct task *tk = task_find(t, pid);

	if (pid == t->child) {
		t->child_exited = true;
		t->child_status = status;
	}
	if (!tk)
		return;
	task_forget(t, tk);
}

static void handle_syscall_stop(struct tracer *t, struct task *tk)
{
	struct __ptrace_syscall_info si;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, tk->tid, sizeof(si), &si) <= 0)
		goto resume;
	if (si.op == PTRACE_SYSCALL_INFO_ENTRY || si.op == PTRACE_SYSCALL_INFO_SECCOMP) {
		if (tk->in_call) /* a syscall-entry after a seccomp stop: record once */
			goto resume;
		if (tk->as && decode_is_exit_group(si.arch, si.entry.nr))
			tk->as->group_exiting = true;
		mem_entry(t, tk, si.arch, si.entry.nr, si.entry.args);
	} else if (si.op == PTRACE_SYSCALL_INFO_EXIT) {
		mem_exit(t, tk, si.exit.rval, si.exit.is_error);
	}
resume:
	task_resume(t, tk, 0);
}

static bool is_group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Let a stopped task go on: a group-stopped one stays stopped (PTRACE_LISTEN,
 * so that SIGCONT is noticed), any other runs with the signal it was stopped for. */
void task_continue(struct tracer *t, struct task *tk)
{
	if (!tk->group_stopped) {
		task_resume(t, tk, tk->stop_sig);
		return;
	}
	tk->state = TASK_LISTENING;
	if (ptrace(PTRACE_LISTEN, tk->tid, 0, 0) && errno != ESRCH)
		task_resume(t, tk, 0);
}

static void handle_event_stop(struct tracer *t, struct task *tk, int sig)
{
	if (is_group_stop_sig(sig)) {
		tk->group_stopped = true;
		if (!t->stopping) /* while attaching or detaching, hold it */
			task_continue(t, tk);
		return;
	}
	tk->group_stopped = false;
	note_thread_sp(tk);
	if (!tk->have_initial_stop) {
		tk->have_initial_stop = true;
		if (tk->detach_at_stop) {
			ptrace(PTRACE_DETACH, tk->tid, 0, 0);
			task_leave_space(t, tk, false);
			task_remove(t, tk);
			return;
		}
		if (!tk->as)
			return; /* wait for the parent's clone event */
	}
	if ((t->throttled || urgent_hold) && tk->as && tk->as->kernel_events && !t->stopping) {
		tk->held = true; /* until the events it made are applied */
		return;
	}
	task_resume(t, tk, 0);
}

/* A stop from a tid we do not know: a new child whose parent's event is late. */
static struct task *adopt_unknown(struct tracer *t, pid_t pid)
{
	pid_t tgid = procfs_tgid(pid);
	struct task *tk = task_add(t, pid, tgid > 0 ? tgid : pid);

	if (tk)
		tk->state = TASK_STOPPED;
	else
		tracer_oom(t, "task table");
	return tk;
}

void tracer_handle_status(struct tracer *t, pid_t pid, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		handle_death(t, pid, status);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	struct task *tk = task_find(t, pid);
	if (!tk && t->oom) {
		let_go_untracked(t, pid, status);
		return;
	}
	if (!tk) {
		tk = adopt_unknown(t, pid);
		if (!tk) {
			let_go_untracked(t, pid, status);
			return;
		}
		/* its first stop is this one; it runs once the parent's event links it */
		tk->have_initial_stop = true;
		note_thread_sp(tk);
		return;
	}
	tk->state = TASK_STOPPED;
	int sig = WSTOPSIG(status);
	unsigned ev = (unsigned)status >> 16;

	if (sig == (SIGTRAP | 0x80)) {
		handle_syscall_stop(t, tk);
		return;
	}
	switch (ev) {
	case PTRACE_EVENT_STOP:
		handle_event_stop(t, tk, sig);
		return;
	case PTRACE_EVENT_SECCOMP:
		handle_syscall_stop(t, tk);
		return;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		handle_new_child(t, tk, ev);
		task_resume(t, tk, 0);
		return;
	case PTRACE_EVENT_EXEC:
		tracer_on_exec(t, tk);
		task_resume(t, tk, 0);
		return;
	case PTRACE_EVENT_EXIT:
		handle_exit_event(t, tk);
		task_resume(t, tk, 0);
		return;
	case 0:
		/* signal-delivery-stop: deliver it as if we were not here */
		task_resume(t, tk, sig);
		return;
	default:
		task_resume(t, tk, 0);
		return;
	}
}

static void on_tick(struct tracer *t)
{
	int what = signals_take();

	if (what & SIGNALS_STOP)
		t->stop_requested = true;
	if (what & SIGNALS_REPORT)
		tracer_write_report(t, false);
	if (what & SIGNALS_INTERVAL)
		tracer_write_report(t, false);
	if (what & SIGNALS_TICK) {
		affinity_tick(t->aff);
		growth_tick(t);
		status_update(t, false);
	}
}

/* Back-pressure: while the kernel events come faster than they are applied
 * (unwinding is the slow part), the threads that make them are held in a
 * ptrace-stop, so that no ring buffer overflows; they go on when the queue
 * has drained. Only a program making memory calls at a storm's rate pays. */
/* The reader's SIGURG: hold now, whatever the main thread is doing. The
 * handler runs on the tracer thread, so its PTRACE_INTERRUPTs are allowed; it
 * only reads hold_tids, which the loop replaces with SIGURG blocked. */
static pid_t *hold_tids;
static size_t hold_n, hold_built_for;

static void on_sigurg(int sig)
{
	int saved = errno;

	(void)sig;
	if (!urgent_hold) {
		urgent_hold = 1;
		for (size_t i = 0; i < hold_n; i++)
			ptrace(PTRACE_INTERRUPT, hold_tids[i], 0, 0);
	}
	errno = saved;
}

static void rebuild_hold_list(struct tracer *t)
{
	pid_t *v = malloc((t->ntasks ? t->ntasks : 1) * sizeof(*v));
	size_t n = 0;
	sigset_t urg, old;

	if (!v)
		return;
	for (size_t i = 0; i < t->hsize; i++)
		for (struct task *tk = t->htab[i]; tk; tk = tk->hnext)
			if (tk->as && tk->as->kernel_events && n < t->ntasks)
				v[n++] = tk->tid;
	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	sigprocmask(SIG_BLOCK, &urg, &old);
	pid_t *prev = hold_tids;
	hold_tids = v;
	hold_n = n;
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(prev);
	hold_built_for = t->ntasks;
}

static void throttle(struct tracer *t)
{
	bool want = kevents_pressure(t->kev);

	if (urgent_hold) {
		/* the handler interrupted them already, and stops seen since were
		 * held: throttled now, released below if the pressure is gone */
		urgent_hold = 0;
		if (!t->throttled) {
			t->throttled = true;
			t->throttles++;
		}
	}
	if (want == t->throttled)
		return;
	t->throttled = want;
	if (want)
		t->throttles++;
	for (size_t i = 0; i < t->hsize; i++)
		for (struct task *tk = t->htab[i]; tk; tk = tk->hnext) {
			if (!tk->as || !tk->as->kernel_events)
				continue;
			if (want && tk->state == TASK_RUNNING) {
				ptrace(PTRACE_INTERRUPT, tk->tid, 0, 0);
			} else if (!want && tk->held) {
				tk->held = false;
				task_continue(t, tk);
			}
		}
}

static void on_sigchld(int sig)
{
	(void)sig; /* only to end ppoll: a tracee stopped */
}

/* Kernel events: tracees stop only for clone/exec/exit events, signals and job
 * control. Wait for those (SIGCHLD, unblocked only inside ppoll so none is
 * missed) and for the reader's word that new events were queued. */
static int kernel_loop(struct tracer *t)
{
	struct sigaction sa = {.sa_handler = on_sigchld};
	sigset_t chld, waitmask;
	int status, err = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	struct sigaction su = {.sa_handler = on_sigurg, .sa_flags = SA_RESTART};
	sigemptyset(&su.sa_mask);
	sigaction(SIGURG, &su, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &waitmask);
	sigdelset(&waitmask, SIGCHLD);
	while (t->ntasks > 0) {
		on_tick(t);
		if (t->stop_requested)
			break;
		pid_t pid;
		while ((pid = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
			tracer_handle_status(t, pid, status);
		if (pid < 0 && errno == ECHILD)
			break;
		if (pid < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (hold_built_for != t->ntasks)
			rebuild_hold_list(t);
		throttle(t);
		bool more = kevents_process(t);
		throttle(t);
		struct pollfd p = {.fd = kevents_wake_fd(t->kev), .events = POLLIN};
		struct timespec ts = {0, more ? 0 : kevents_pending(t->kev) ? 2000000 : 100000000};
		ppoll(&p, 1, &ts, &waitmask);
	}
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
	signal(SIGURG, SIG_IGN); /* detaching: the stops are collected, not held */
	free(hold_tids);
	hold_tids = NULL;
	hold_n = hold_built_for = 0;
	return err;
}

int tracer_loop(struct tracer *t)
{
	int status;

	if (t->kev)
		return kernel_loop(t);

	/* out of memory in launch mode, untracked tasks may remain: their seccomp
	 * filter needs us until the last of them is gone (ECHILD) */
	while (t->ntasks > 0 || (t->oom && t->launch)) {
		on_tick(t);
		if (t->stop_requested && !t->launch)
			break;
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				break;
			return -errno;
		}
		affinity_saw_stop(t->aff, pid);
		tracer_handle_status(t, pid, status);
	}
	return 0;
}
