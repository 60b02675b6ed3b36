/* bench/workloads/mmap_storm.c - benchmark workload: one thread maps 64 KiB of
 * anonymous memory, touches one page and unmaps it, N times; every 100th
 * mapping is leaked. Each iteration is 1 mmap + (1 munmap unless leaked).
 *
 * usage: mmap_storm [N]   (default 100000, about 1 s bare on a 2-vCPU VM)
 * Prints "mmap_storm: N iterations, M memory syscalls" on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define MAP_BYTES  (64 * 1024)
#define LEAK_EVERY 100

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	long i, calls = 0;

	for (i = 0; i < n; i++) {
		char *p = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		calls++;
		p[0] = (char)i;
		if (i % LEAK_EVERY == LEAK_EVERY - 1)
			continue; /* leaked on purpose */
		if (munmap(p, MAP_BYTES) != 0) {
			perror("munmap");
			return 1;
		}
		calls++;
	}
	fprintf(stderr, "mmap_storm: %ld iterations, %ld memory syscalls\n", n, calls);
	return 0;
}
