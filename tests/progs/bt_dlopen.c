/* tests/progs/bt_dlopen.c - dlopen a library (argv[1], libbt_deep.so), let it
 * map 64 KiB two calls deep (bt_outer -> bt_inner -> mmap), dlclose it and
 * check that it is really gone from /proc/self/maps (exit 3 if not). The
 * mapping itself is never unmapped: a leak whose code is gone at report time. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "lifetime.h"

#define LEAK_SIZE (64 * 1024)

static int still_mapped(const char *path)
{
	const char *base = strrchr(path, '/');
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!f)
		return -1;
	base = base ? base + 1 : path;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, base) != NULL;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	void *(*outer)(size_t);
	void *lib;

	lifetime_limit();
	if (argc < 2) {
		fprintf(stderr, "usage: bt_dlopen LIBRARY\n");
		return 2;
	}
	lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	*(void **)&outer = dlsym(lib, "bt_outer");
	if (!outer || !outer(LEAK_SIZE)) {
		fprintf(stderr, "bt_outer failed\n");
		return 2;
	}
	if (dlclose(lib)) {
		fprintf(stderr, "dlclose: %s\n", dlerror());
		return 2;
	}
	return still_mapped(argv[1]) ? 3 : 0;
}
