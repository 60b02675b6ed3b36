/* tests/progs/die.c - leaks 2 regions of 8 KiB, then dies: "kill" raises
 * SIGKILL, "segv" writes through a null pointer (SIGSEGV). */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "lifetime.h"

int main(int argc, char **argv)
{
	struct rlimit no_core = {0, 0};

	lifetime_limit();
	setrlimit(RLIMIT_CORE, &no_core);
	for (int i = 0; i < 2; i++)
		mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (argc > 1 && !strcmp(argv[1], "segv")) {
		volatile int *null = NULL;
		*null = 1;
	}
	raise(SIGKILL);
	return 0;
}
