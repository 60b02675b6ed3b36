/* examples/example_vmsize.h - shared by the examples: when the environment has
 * VMLEAK_EXAMPLE_VMSIZE=1, print the process's VmSize (its VSZ, from
 * /proc/self/status) as one line "vmsize WHEN KB" on standard error. The tests use
 * it to check that the leaking examples really grow VSZ. It uses only read() and
 * write() on the stack, so the measurement itself maps no memory. */
#ifndef VMLEAK_EXAMPLE_VMSIZE_H
#define VMLEAK_EXAMPLE_VMSIZE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The number on the "Name:" line of /proc/self/status (kB for VmSize), or -1. */
static long example_status_value(const char *name)
{
	char buf[4096];
	ssize_t n;
	char *line;
	int fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	line = strstr(buf, name);
	if (!line)
		return -1;
	return strtol(line + strlen(name), NULL, 10);
}

static void example_print_vmsize(const char *when)
{
	char line[64];
	int len;

	if (!getenv("VMLEAK_EXAMPLE_VMSIZE"))
		return;
	len = snprintf(line, sizeof(line), "vmsize %s %ld\n", when,
		       example_status_value("\nVmSize:"));
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

#endif
