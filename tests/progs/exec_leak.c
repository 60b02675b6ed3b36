/* tests/progs/exec_leak.c - leaks 5 pages, then execs itself with "after",
 * which leaks one region of 12288 bytes and exits. Only the
 * post-exec region may be reported: execve ends the old address space. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lifetime.h"

int main(int argc, char **argv)
{
	lifetime_limit();
	if (argc > 1 && !strcmp(argv[1], "after")) {
		mmap(NULL, 12288, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return 0;
	}
	for (int i = 0; i < 5; i++)
		mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	execl("/proc/self/exe", argv[0], "after", (char *)NULL);
	return 1;
}
