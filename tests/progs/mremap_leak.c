/* tests/progs/mremap_leak.c - regions resized with mremap and never unmapped:
 *   one 64 KiB anonymous region grown to 192 KiB (it may move), and
 *   one 2 MiB malloc chunk realloc'd to 4 MiB (glibc grows it with mremap).
 * Each must be one region, described as the region it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lifetime.h"

static void *__attribute__((noinline)) make_table(void)
{
	return mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void *__attribute__((noinline)) grow_table(void *p)
{
	return mremap(p, 64 * 1024, 192 * 1024, MREMAP_MAYMOVE);
}

static void *__attribute__((noinline)) grow_buffer(void *p)
{
	return realloc(p, 4 << 20);
}

int main(void)
{
	lifetime_limit();
	void *t = make_table();
	char *b = malloc(2 << 20);

	if (t == MAP_FAILED || !b)
		return 1;
	memset(b, 1, 4096);
	t = grow_table(t);
	b = grow_buffer(b);
	if (t == MAP_FAILED || !b)
		return 1;
	printf("table %p buffer %p\n", t, (void *)b);
	return 0;
}
