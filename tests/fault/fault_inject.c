/* tests/fault/fault_inject.c - allocation-failure injection for vmleak_fault, a
 * test build of vmleak linked with -Wl,--wrap for malloc, calloc, realloc, strdup
 * and strndup: every such call made by vmleak's own code (decoder/, report/,
 * tracer/; not the libraries' internal ones) comes here first. Environment:
 *   VMLEAK_FAULT_NTH=N     the Nth call (from 1) fails with ENOMEM; 0 or unset: none
 *   VMLEAK_FAULT_PERSIST=1 every call from the Nth on fails (memory stays short)
 *   VMLEAK_FAULT_COUNT=F   at exit, write the number of calls to file F
 * Unit tests (check_ledger_oom) arm it directly: fault_inject_arm, _calls.
 * The shipped vmleak has none of this. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fault/fault_inject.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

static unsigned long calls, nth;
static bool persist, ready;
static const char *count_file;

static void write_count(void)
{
	char buf[32];
	int fd, n;

	fd = open(count_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%lu\n", calls);
	if (write(fd, buf, (size_t)n) != n)
		n = 0;
	close(fd);
}

static void setup(void)
{
	const char *s = getenv("VMLEAK_FAULT_NTH");

	ready = true;
	nth = s ? strtoul(s, NULL, 10) : 0;
	s = getenv("VMLEAK_FAULT_PERSIST");
	persist = s && *s == '1';
	count_file = getenv("VMLEAK_FAULT_COUNT");
	if (count_file)
		atexit(write_count);
}

/* The nth allocation from now fails (0: none), or every one from it on. */
void fault_inject_arm(unsigned long nth_from_now, bool persist_from_then)
{
	if (!ready)
		setup();
	nth = nth_from_now ? calls + nth_from_now : 0;
	persist = persist_from_then;
}

/* Allocations counted so far. */
unsigned long fault_inject_calls(void)
{
	return calls;
}

/* Count this call; true when it is to fail. */
static bool should_fail(void)
{
	if (!ready)
		setup();
	calls++;
	if (!nth || calls < nth || (calls > nth && !persist))
		return false;
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t size)
{
	return should_fail() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return should_fail() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return should_fail() ? NULL : __real_strndup(s, n);
}
