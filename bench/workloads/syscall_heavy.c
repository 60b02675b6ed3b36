/* bench/workloads/syscall_heavy.c - benchmark workload: N cheap non-memory
 * syscalls (alternately getppid and a 1-byte write to /dev/null) and a handful
 * of mmaps. Under a tracer that stops only on memory syscalls, this measures
 * what the untraced syscalls cost (the seccomp-filter floor).
 *
 * usage: syscall_heavy [N]   (default 1000000)
 * Prints "syscall_heavy: N syscalls, M memory syscalls" on stderr. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NMAPS	  8
#define MAP_BYTES (64 * 1024)

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	char *maps[NMAPS];
	long i, calls = 0;
	char byte = 'x';
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0) {
		perror("/dev/null");
		return 1;
	}
	for (i = 0; i < NMAPS; i++) {
		maps[i] = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (maps[i] == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		maps[i][0] = 1;
		calls++;
	}
	for (i = 0; i < n; i++) {
		if (i & 1) {
			if (write(fd, &byte, 1) != 1) {
				perror("write");
				return 1;
			}
		} else {
			syscall(SYS_getppid);
		}
	}
	/* unmap all but one: one leaked region */
	for (i = 1; i < NMAPS; i++) {
		munmap(maps[i], MAP_BYTES);
		calls++;
	}
	close(fd);
	fprintf(stderr, "syscall_heavy: %ld syscalls, %ld memory syscalls\n", n, calls);
	return 0;
}
