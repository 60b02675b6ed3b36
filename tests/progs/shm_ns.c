/* tests/progs/shm_ns.c - a shmat in another IPC namespace whose segment id also
 * names a different segment in the namespace vmleak runs in: the host segment is
 * one page, the child's (same id, in its own namespace) is five pages and stays
 * attached at exit. Exits 77 when namespaces or shm_next_id are not available. */
#include <sched.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifetime.h"

static int set_next_id(int id)
{
	FILE *f = fopen("/proc/sys/kernel/shm_next_id", "w");

	if (!f)
		return -1;
	fprintf(f, "%d\n", id);
	return fclose(f);
}

static int child(int host_id)
{
	if (unshare(CLONE_NEWIPC) || set_next_id(host_id))
		return 77;
	int id = shmget(IPC_PRIVATE, 5 * 4096, IPC_CREAT | 0600);
	if (id != host_id)
		return 77;
	void *p = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL); /* gone once detached, at exit */
	if (p == (void *)-1)
		return 1;
	printf("shm %p\n", p);
	fflush(stdout);
	return 0;
}

int main(void)
{
	int status, host_id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);

	if (host_id < 0)
		return 77;
	alarm(10);
	lifetime_limit();
	pid_t pid = fork();
	if (pid == 0)
		_exit(child(host_id));
	waitpid(pid, &status, 0);
	shmctl(host_id, IPC_RMID, NULL); /* kept until now: the child's id names it here */
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
