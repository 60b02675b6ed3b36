/* bench/insight_bench.c - the cost of the report's resident figures and of the
 * growth sampler, on this process's own memory: N regions (default 100,000)
 * of P pages each (default 4) carved out of one big anonymous mapping (a
 * region is a ledger entry, not a VMA: no vm.max_map_count limit), the first
 * page of each written. Measures residency_measure (one pread of pagemap per
 * region) and growth_sample (the walk of every region into per-site totals,
 * with S distinct sites), and the history's memory after a simulated long
 * trace. Usage: insight_bench [N [P [S]]]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "report/history.h"
#include "report/stacks.h"
#include "tracer/growth.h"
#include "tracer/residency.h"
#include "tracer/tracer.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	size_t pages = argc > 2 ? strtoul(argv[2], NULL, 0) : 4;
	size_t nsites = argc > 3 ? strtoul(argv[3], NULL, 0) : 1000;
	size_t len = pages * 4096;
	struct addr_space as = {.pid = getpid(), .users = 1};
	struct tracer t = {.launch = true};
	struct residency_stats st;
	double measure[5], sample[5], cost;
	size_t regions;
	char *base;

	if (!n || !pages || !nsites)
		return 2;
	base = mmap(NULL, n * len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	t.stacks = stacks_new();
	t.history = history_new();
	t.spaces = &as;
	t.start = now_seconds();
	as.ledger = ledger_new();
	for (size_t i = 0; i < n; i++) {
		uint64_t pc = 0x400000 + i % nsites;
		struct region r = {
			.start = (uint64_t)(uintptr_t)base + i * len,
			.site = stacks_intern(t.stacks, &pc, 1, NULL),
			.op = MEM_MMAP,
			.prot = 3,
			.flags = 0x22,
		};
		r.end = r.start + len;
		base[i * len] = 1;
		if (ledger_insert(as.ledger, &r))
			return 1;
	}
	for (int k = 0; k < 5; k++) {
		double t0 = now();
		if (residency_measure(&as))
			return 1;
		measure[k] = now() - t0;
		t0 = now();
		if (growth_sample(&t, true, true))
			return 1;
		sample[k] = now() - t0;
	}
	residency_last_stats(&st);
	growth_last_cost(&t, &cost, &regions);
	qsort(measure, 5, sizeof(double), cmp_double);
	qsort(sample, 5, sizeof(double), cmp_double);
	printf("regions %zu x %zu pages, %zu sites\n", n, pages, nsites);
	printf("residency_measure: median %.1f ms (%.2f us/region), %zu preads, %llu pages, "
	       "%zu from smaps\n",
	       measure[2] * 1e3, measure[2] * 1e6 / n, st.preads, (unsigned long long)st.pages,
	       st.from_smaps);
	printf("residency table: %zu bytes (%.0f per region)\n", as.res.n * 2 * sizeof(uint32_t),
	       (double)(as.res.n * 2 * sizeof(uint32_t)) / n);
	printf("growth_sample (walk + record): median %.1f ms (%.3f us/region), %zu regions\n",
	       sample[2] * 1e3, sample[2] * 1e6 / n, regions);
	printf("optional samples at this size: one every %.2f s at most (1%% of the time)\n",
	       sample[2] * 100 < 0.25 ? 0.25 : sample[2] * 100);
	/* a 10-hour trace of 100 ms ticks on these sites */
	for (uint32_t ms = 0; ms < 10 * 3600 * 1000; ms += 100) {
		struct history_sample x = {
			.key = {.site = 1 + ms % 97}, .bytes = ms, .resident = HISTORY_NO_FIGURE};
		history_record(t.history, ms, &x, 1, ms % 10000 == 0);
	}
	printf("history after a simulated 10 h trace: %zu bytes, %zu series\n",
	       history_memory(t.history), history_nseries(t.history));
	residency_free(&as.res);
	ledger_free(as.ledger);
	history_free(t.history);
	growth_free(t.growth);
	stacks_free(t.stacks);
	munmap(base, n * len);
	return 0;
}
