/* tracer/launch.c - start PROGRAM under the tracer: fork, PTRACE_SEIZE the child
 * while it waits on a pipe, let it install the seccomp filter and exec. The first
 * stop is PTRACE_EVENT_EXEC, before any instruction of the new image. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracer/tracer.h"

enum child_failure {
	FAIL_EXEC = 1,
	FAIL_SECCOMP,
};

struct child_report {
	int what;
	int err;
};

static void child_fail(int fd, int what, int err)
{
	struct child_report r = {what, err};
	ssize_t unused = write(fd, &r, sizeof(r));

	(void)unused;
	_exit(127);
}

static void reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
}

static void __attribute__((noreturn))
child_main(int go_fd, int err_fd, char **argv, const char *debuginfod_urls)
{
	char c;

	reset_signals();
	/* vmleak keeps DEBUGINFOD_URLS out of its own environment while tracing
	 * (main.c); the program gets the environment it was given */
	if (debuginfod_urls)
		setenv("DEBUGINFOD_URLS", debuginfod_urls, 1);
	/* wait until the parent has seized us */
	if (read(go_fd, &c, 1) != 1)
		_exit(127);
	int err = seccomp_install_filter();
	if (err)
		child_fail(err_fd, FAIL_SECCOMP, -err);
	execvp(argv[0], argv);
	child_fail(err_fd, FAIL_EXEC, errno);
	_exit(127);
}

/* Run the child up to its PTRACE_EVENT_EXEC stop (execvp may try several paths,
 * each a traced execve), or learn from the report pipe why it could not exec. */
static int wait_for_exec(struct tracer *t, pid_t pid, int rep_fd, const char *prog, char *err,
			 size_t errlen)
{
	struct child_report r;
	int st;

	for (;;) {
		if (waitpid(pid, &st, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "vmleak: waitpid: %s", strerror(errno));
			close(rep_fd);
			return -1;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			break;
		if (!WIFSTOPPED(st))
			continue;
		if ((unsigned)st >> 16 == PTRACE_EVENT_EXEC) {
			close(rep_fd);
			struct task *tk = task_add(t, pid, pid);
			if (!tk) {
				snprintf(err, errlen, "vmleak: out of memory");
				return -1;
			}
			tk->have_initial_stop = true;
			tk->state = TASK_STOPPED;
			tracer_on_exec(t, tk);
			task_resume(t, tk, 0);
			return 0;
		}
		int sig = WSTOPSIG(st);
		bool delivery = ((unsigned)st >> 16) == 0 && sig != (SIGTRAP | 0x80);
		ptrace(PTRACE_CONT, pid, 0, delivery ? sig : 0);
	}
	ssize_t n = read(rep_fd, &r, sizeof(r));
	close(rep_fd);
	if (n != (ssize_t)sizeof(r))
		snprintf(err, errlen, "vmleak: cannot run '%s': it exited before exec", prog);
	else if (r.what == FAIL_SECCOMP)
		snprintf(err, errlen, "vmleak: cannot install the seccomp filter: %s",
			 strerror(r.err));
	else
		snprintf(err, errlen, "vmleak: cannot run '%s': %s", prog, strerror(r.err));
	return -1;
}

int tracer_launch(struct tracer *t, char **argv, char *err, size_t errlen)
{
	int go[2], rep[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(rep, O_CLOEXEC)) {
		snprintf(err, errlen, "vmleak: pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "vmleak: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(go[1]);
		close(rep[0]);
		child_main(go[0], rep[1], argv, t->debuginfod_urls);
	}
	close(go[0]);
	close(rep[1]);
	t->child = pid;
	if (ptrace(PTRACE_SEIZE, pid, 0, tracer_options(t) | PTRACE_O_EXITKILL)) {
		snprintf(err, errlen, "vmleak: cannot trace '%s': %s", argv[0], strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(go[1]);
		close(rep[0]);
		return -1;
	}
	if (write(go[1], "g", 1) != 1) {
		snprintf(err, errlen, "vmleak: cannot start '%s': %s", argv[0], strerror(errno));
		close(go[1]);
		close(rep[0]);
		return -1;
	}
	close(go[1]);
	return wait_for_exec(t, pid, rep[0], argv[0], err, errlen);
}
