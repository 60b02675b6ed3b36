/* bench/workloads/million_regions.c - maps N (default 1,000,000) anonymous
 * 4 KiB regions and never unmaps them: the ledger then holds N live regions.
 * Neighbouring mappings merge into few VMAs in the kernel, so vm.max_map_count
 * is no limit; every other region is PROT_READ only, so that they do not merge
 * into one region in the tracer's report either. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;

	for (long i = 0; i < n; i++) {
		int prot = (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE;
		if (mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
	}
	return 0;
}
