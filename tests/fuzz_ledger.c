/* tests/fuzz_ledger.c - libFuzzer target: the input bytes are the random numbers that
 * drive tests/ledger_model.h (node sizes, window, then operations); the ledger and the
 * page-array model must agree after every operation, or this aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/ledger_model.h"

#define MAX_OPS 4000

struct byte_source {
	const uint8_t *data;
	size_t size, pos;
};

/* Two bytes per number; zeros once the input is used up. */
static uint32_t next_bytes(void *ctx)
{
	struct byte_source *b = ctx;
	uint32_t v = 0;

	for (int i = 0; i < 2; i++)
		v = v << 8 | (b->pos < b->size ? b->data[b->pos++] : 0);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lm_harness h;
	struct byte_source bytes = {.data = data, .size = size};
	struct lm_source src = {.next = next_bytes, .ctx = &bytes};

	if (lm_init(&h, &src))
		abort();
	for (unsigned op = 0; op < MAX_OPS && bytes.pos < bytes.size; op++) {
		if (lm_step(&h, &src, true)) {
			fprintf(stderr, "ledger and model differ after operation %u: %s\n", op,
				h.err);
			abort();
		}
	}
	lm_fini(&h);
	return 0;
}
