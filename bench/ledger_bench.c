/* bench/ledger_bench.c - ledger throughput and memory: 1,000,000 mixed operations
 * (mmap, munmap with the tracer's pending pieces, partial munmap, mremap in place and
 * moving, lookups) over about 100,000 live regions. Last line:
 * "ledger_bench: <N> ops/s, <M> bytes/region". Time is this process's CPU time, so
 * that other load on the machine does not count against the ledger. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "decoder/ledger.h"

#define SLOTS	    160000 /* 4-page slots; about half hold one or two regions */
#define SLOT_PAGES  4
#define LIVE_TARGET 100000
#define OPS	    1000000
#define BASE	    0x7f0000000000ULL

static uint64_t rng_state = 0x1234567;

static uint32_t rnd(uint32_t bound)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11) % bound;
}

static uint64_t slot_addr(uint32_t slot)
{
	return BASE + (uint64_t)slot * SLOT_PAGES * LEDGER_PAGE_SIZE;
}

static struct region proto(uint32_t site)
{
	struct region r = {.site = site,
			   .flags = MAP_PRIVATE | MAP_ANONYMOUS,
			   .prot = PROT_READ | PROT_WRITE,
			   .op = 1,
			   .kind = REGION_ANON};
	return r;
}

static int map_slot(struct ledger *l, uint32_t slot)
{
	struct region r = proto(rnd(1000));

	r.start = slot_addr(slot);
	r.end = r.start + (1 + rnd(SLOT_PAGES - 1)) * LEDGER_PAGE_SIZE;
	return ledger_insert(l, &r);
}

/* One operation on a random slot, as the tracer would issue it. */
static void one_op(struct ledger *l, struct region_vec *pending)
{
	uint32_t slot = rnd(SLOTS), dice = rnd(10);
	uint64_t addr = slot_addr(slot);
	const struct region *r = ledger_find(l, addr);
	struct region p = proto(7);

	if (!r) {
		if (dice < 4)
			map_slot(l, slot);
		return;
	}
	region_vec_reset(pending);
	if (dice < 4) { /* munmap: entry take; success, so nothing at the exit */
		ledger_take(l, addr, SLOT_PAGES * LEDGER_PAGE_SIZE, pending);
	} else if (dice < 5) { /* munmap of the last page */
		uint64_t last = r->end - LEDGER_PAGE_SIZE;

		if (last > addr)
			ledger_take(l, last, LEDGER_PAGE_SIZE, pending);
	} else if (dice < 7) { /* mremap in place, entry take + exit finish */
		uint64_t old_len = r->end - r->start;
		uint64_t new_len = (1 + rnd(SLOT_PAGES - 1)) * LEDGER_PAGE_SIZE;

		ledger_take(l, addr, old_len, pending);
		ledger_mremap_finish(l, pending, addr, old_len, addr, new_len, 0, &p);
	} else if (dice < 8) { /* mremap moving to a free slot */
		uint32_t to = rnd(SLOTS);

		if (!ledger_find(l, slot_addr(to)))
			ledger_mremap(l, addr, r->end - r->start, slot_addr(to), r->end - r->start,
				      MREMAP_MAYMOVE | MREMAP_FIXED, &p);
	} else if (dice < 9) { /* munmap that fails: put back */
		ledger_take(l, addr, SLOT_PAGES * LEDGER_PAGE_SIZE, pending);
		ledger_put_back(l, pending);
	} else { /* lookup */
		ledger_find(l, addr + LEDGER_PAGE_SIZE);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	struct ledger *l = ledger_new();
	struct region_vec pending = {0};
	double t0, secs;
	size_t per_region;

	if (!l)
		return 1;
	while (ledger_count(l) < LIVE_TARGET)
		map_slot(l, rnd(SLOTS));
	printf("ledger_bench: start: %zu regions, %zu bytes/region\n", ledger_count(l),
	       ledger_memory(l) / ledger_count(l));
	t0 = now();
	for (unsigned i = 0; i < OPS; i++)
		one_op(l, &pending);
	secs = now() - t0;
	per_region = ledger_memory(l) / (ledger_count(l) ? ledger_count(l) : 1);
	printf("ledger_bench: end: %zu regions, %zu bytes, %.3f s\n", ledger_count(l),
	       ledger_memory(l), secs);
	printf("ledger_bench: %lu ops/s, %zu bytes/region\n", (unsigned long)(OPS / secs),
	       per_region);
	region_vec_free(&pending);
	ledger_free(l);
	return 0;
}
