/* tests/progs/mt_churn.c - four threads churn mmap/munmap (3-page regions, each
 * filled and checked before it is unmapped) until told to stop. Commands on
 * stdin, one per line:
 *   "leak"  every thread maps and keeps 8 regions of (5 + thread) pages, then
 *           the program prints "leaked ADDR LEN" for each and "leak done";
 *   "check" the threads stop, every kept region is checked, and it prints
 *           "ok ROUNDS" (or "corrupt ...") and exits 0 (1).
 * It prints "ready" once the threads run. No malloc after start-up: the only
 * memory calls are the ones above. */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lifetime.h"

#define NTHREADS   4
#define NLEAKS	   8
#define CHURN_PAGE 3

static atomic_int leak_requested, stop_requested, leaks_made;
static atomic_long rounds;
static void *kept[NTHREADS][NLEAKS];
static size_t kept_len[NTHREADS];
static long page;

static void say(const char *s)
{
	size_t n = strlen(s);

	if (write(1, s, n) != (ssize_t)n)
		_exit(3);
}

static void fill(unsigned char *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i += 512)
		p[i] = (unsigned char)(seed + i / 512);
}

static int check(const unsigned char *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i += 512)
		if (p[i] != (unsigned char)(seed + i / 512))
			return -1;
	return 0;
}

static void *churn(void *arg)
{
	int id = (int)(intptr_t)arg;
	bool leaked = false;

	for (unsigned n = 0; !atomic_load(&stop_requested); n++) {
		size_t len = CHURN_PAGE * page;
		unsigned char *p =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(4);
		fill(p, len, n + id);
		if (check(p, len, n + id))
			_exit(5);
		munmap(p, len);
		atomic_fetch_add(&rounds, 1);
		if (!leaked && atomic_load(&leak_requested)) {
			kept_len[id] = (size_t)(5 + id) * page;
			for (int i = 0; i < NLEAKS; i++) {
				kept[id][i] = mmap(NULL, kept_len[id], PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				if (kept[id][i] == MAP_FAILED)
					_exit(6);
				fill(kept[id][i], kept_len[id], 100 + id * NLEAKS + i);
			}
			leaked = true;
			atomic_fetch_add(&leaks_made, 1);
		}
		if (n % 64 == 0)
			usleep(200);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[NTHREADS];
	char line[64];

	lifetime_limit();
	page = sysconf(_SC_PAGESIZE);
	setvbuf(stdin, NULL, _IONBF, 0); /* no buffer to malloc while traced */
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, churn, (void *)(intptr_t)i))
			return 2;
	say("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "leak", 4)) {
			atomic_store(&leak_requested, 1);
			while (atomic_load(&leaks_made) < NTHREADS)
				usleep(1000);
			for (int t = 0; t < NTHREADS; t++)
				for (int i = 0; i < NLEAKS; i++) {
					char buf[96];
					snprintf(buf, sizeof(buf), "leaked %p %zu\n", kept[t][i],
						 kept_len[t]);
					say(buf);
				}
			say("leak done\n");
		} else if (!strncmp(line, "check", 5)) {
			break;
		}
	}
	atomic_store(&stop_requested, 1);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (int t = 0; t < NTHREADS; t++)
		for (int i = 0; i < NLEAKS && kept[t][i]; i++)
			if (check(kept[t][i], kept_len[t], 100 + t * NLEAKS + i)) {
				say("corrupt\n");
				return 1;
			}
	char buf[64];
	snprintf(buf, sizeof(buf), "ok %ld\n", atomic_load(&rounds));
	say(buf);
	return 0;
}
