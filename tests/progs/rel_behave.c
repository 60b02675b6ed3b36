/* tests/progs/rel_behave.c - programs whose own output must be the same traced
 * and untraced (the reliability tests run each both ways and compare).
 *   execthr   a non-leader thread execs this program again ("after-exec PID"):
 *             the new image checks it kept the pid and maps 7 pages it keeps
 *   vfork     vfork+exec and posix_spawn of sh; prints the children's statuses
 *   stopself  a child raises SIGSTOP; the parent sees it stop (WUNTRACED),
 *             continues it (SIGCONT, WCONTINUED) and reaps it
 *   alarm     a 1 ms ITIMER_REAL while mapping, reading a pipe and sleeping,
 *             until 200 SIGALRMs ran; no syscall may fail with EINTR but
 *             nanosleep (SA_RESTART)
 *   sigchld   forks 40 children that exit with 0..39 under a SIGCHLD handler
 *   rtsig     a child queues 300 SIGRTMIN with values 0..299 while the parent
 *             maps and unmaps: exact count and sum (real-time signals queue)
 * Every mode prints only lines that do not depend on timing. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lifetime.h"

extern char **environ;

static char self_path[4096];

static void __attribute__((noreturn)) fail(const char *what, int err)
{
	printf("error: %s: %s\n", what, strerror(err));
	fflush(stdout);
	_exit(2);
}

static void *map_pages(size_t n)
{
	void *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fail("mmap", errno);
	return p;
}

static void *exec_thread(void *arg)
{
	char pid[32];

	(void)arg;
	snprintf(pid, sizeof(pid), "%d", getpid());
	printf("thread is not the leader: %s\n", gettid() != getpid() ? "yes" : "no");
	fflush(stdout);
	map_pages(2); /* dropped with the old address space */
	execl(self_path, "rel_behave", "after-exec", pid, (char *)NULL);
	fail("execl", errno);
}

static int mode_execthr(void)
{
	pthread_t th;
	int e = pthread_create(&th, NULL, exec_thread, NULL);

	if (e)
		fail("pthread_create", e);
	for (;;)
		pause(); /* the exec ends this */
}

static int mode_after_exec(const char *pid)
{
	printf("after exec, same pid: %s\n", atoi(pid) == getpid() ? "yes" : "no");
	map_pages(7);
	return 0;
}

static int mode_vfork(void)
{
	char *argv[] = {"sh", "-c", "echo spawned; exit 4", NULL};
	pid_t pid;
	int st;

	fflush(stdout);
	pid = vfork();
	if (pid < 0)
		fail("vfork", errno);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "echo vforked; exit 3", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		fail("waitpid", errno);
	printf("vfork child status %d\n", WEXITSTATUS(st));
	fflush(stdout);
	int e = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
	if (e)
		fail("posix_spawn", e);
	if (waitpid(pid, &st, 0) != pid)
		fail("waitpid", errno);
	printf("posix_spawn child status %d\n", WEXITSTATUS(st));
	return 0;
}

static int mode_stopself(void)
{
	pid_t pid;
	int st, go[2];
	char c = 0;

	fflush(stdout);
	if (pipe(go))
		fail("pipe", errno);
	pid = fork();
	if (pid < 0)
		fail("fork", errno);
	if (pid == 0) {
		close(go[1]);
		map_pages(1);
		raise(SIGSTOP);
		/* exit only once the parent saw the continue: an exit before its
		 * waitpid(WCONTINUED) would be reported instead */
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(5); /* the parent prints this status: the child did resume */
	}
	close(go[0]);
	if (waitpid(pid, &st, WUNTRACED) != pid)
		fail("waitpid stop", errno);
	printf("child stopped: %s, signal %d\n", WIFSTOPPED(st) ? "yes" : "no",
	       WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
	fflush(stdout);
	if (kill(pid, SIGCONT))
		fail("kill", errno);
	if (waitpid(pid, &st, WCONTINUED) != pid)
		fail("waitpid continue", errno);
	printf("child continued: %s\n", WIFCONTINUED(st) ? "yes" : "no");
	fflush(stdout);
	if (write(go[1], &c, 1) != 1)
		fail("write", errno);
	if (waitpid(pid, &st, 0) != pid)
		fail("waitpid exit", errno);
	printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static int mode_alarm(void)
{
	struct itimerval it = {{0, 1000}, {0, 1000}};
	struct sigaction sa;
	int p[2];
	char c = 'x';

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	if (pipe(p))
		fail("pipe", errno);
	if (setitimer(ITIMER_REAL, &it, NULL))
		fail("setitimer", errno);
	while (alarms < 200) {
		struct timespec ts = {0, 100 * 1000};
		void *m = map_pages(4);
		if (write(p[1], &c, 1) != 1)
			fail("write", errno);
		if (read(p[0], &c, 1) != 1)
			fail("read", errno);
		if (munmap(m, 4 * 4096))
			fail("munmap", errno);
		while (nanosleep(&ts, &ts))
			if (errno != EINTR)
				fail("nanosleep", errno);
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	printf("alarms: at least 200, no stray EINTR\n");
	return 0;
}

static volatile sig_atomic_t chlds;

static void on_chld(int sig)
{
	(void)sig;
	chlds++;
}

static int mode_sigchld(void)
{
	struct sigaction sa;
	pid_t pids[40];
	int sum = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	fflush(stdout);
	for (int i = 0; i < 40; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			fail("fork", errno);
		if (pids[i] == 0)
			_exit(i);
	}
	for (int i = 0; i < 40; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) != pids[i])
			fail("waitpid", errno);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != i)
			fail("child status", 0);
		sum += WEXITSTATUS(st);
	}
	printf("children 40, status sum %d, SIGCHLD seen: %s\n", sum, chlds > 0 ? "yes" : "no");
	return 0;
}

static volatile sig_atomic_t rt_count;
static volatile sig_atomic_t rt_sum;
static volatile sig_atomic_t rt_foreign;
static pid_t rt_sender;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_QUEUE || si->si_pid != rt_sender)
		rt_foreign++;
	rt_count++;
	rt_sum += si->si_value.sival_int;
}

static int mode_rtsig(void)
{
	struct sigaction sa;
	pid_t parent = getpid();
	sigset_t rt_set;
	int st;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGRTMIN, &sa, NULL);
	/* blocked until rt_sender is set: they may all arrive as fork returns */
	sigemptyset(&rt_set);
	sigaddset(&rt_set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &rt_set, NULL);
	fflush(stdout);
	rt_sender = fork();
	if (rt_sender < 0)
		fail("fork", errno);
	if (rt_sender == 0) {
		for (int i = 0; i < 300; i++) {
			union sigval v = {.sival_int = i};
			while (sigqueue(parent, SIGRTMIN, v))
				if (errno != EAGAIN)
					_exit(1);
		}
		_exit(0);
	}
	sigprocmask(SIG_UNBLOCK, &rt_set, NULL);
	/* bounded: 10 s at most even if signals were lost */
	for (int round = 0; rt_count < 300 && round < 10000; round++) {
		struct timespec ts = {0, 1000 * 1000};
		munmap(map_pages(1), 4096);
		nanosleep(&ts, NULL);
	}
	if (waitpid(rt_sender, &st, 0) != rt_sender)
		fail("waitpid", errno);
	printf("rt signals %d, sum %d, foreign %d, sender status %d\n", (int)rt_count, (int)rt_sum,
	       (int)rt_foreign, WEXITSTATUS(st));
	return 0;
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);

	lifetime_limit();
	if (n <= 0 || argc < 2)
		return 64;
	self_path[n] = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "execthr"))
		return mode_execthr();
	if (!strcmp(argv[1], "after-exec") && argc == 3)
		return mode_after_exec(argv[2]);
	if (!strcmp(argv[1], "vfork"))
		return mode_vfork();
	if (!strcmp(argv[1], "stopself"))
		return mode_stopself();
	if (!strcmp(argv[1], "alarm"))
		return mode_alarm();
	if (!strcmp(argv[1], "sigchld"))
		return mode_sigchld();
	if (!strcmp(argv[1], "rtsig"))
		return mode_rtsig();
	return 64;
}
