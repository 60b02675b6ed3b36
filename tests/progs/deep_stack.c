/* tests/progs/deep_stack.c - a known call chain for the unwinder tests:
 * main -> f1 -> f2 -> f3 -> mmap(DEEP_STACK_LEN). A tracer stops it at that
 * mmap's syscall exit and checks the backtrace; the mmap line is found by its
 * marker comment. With an argument N it repeats the chain N times (benchmarks). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "lifetime.h"

#define DEEP_STACK_LEN (13 * 4096)
#define RW	       (PROT_READ | PROT_WRITE)
#define ANON	       (MAP_PRIVATE | MAP_ANONYMOUS)

static void *__attribute__((noinline)) f3(int i)
{
	void *p = mmap(NULL, DEEP_STACK_LEN, RW, ANON, -1, 0); /* DEEP_STACK_MMAP */

	if (p != MAP_FAILED)
		munmap(p, DEEP_STACK_LEN);
	return (char *)p + i;
}

static void *__attribute__((noinline)) f2(int i)
{
	return f3(i + 1);
}

static void *__attribute__((noinline)) f1(int i)
{
	return f2(i + 1);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1;
	void *p = NULL;

	lifetime_limit();
	for (long i = 0; i < n; i++)
		p = f1((int)i);
	return p == NULL ? 2 : 0;
}
