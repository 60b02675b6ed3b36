/* tracer/procfs.h - what the tracer reads from /proc about a live process. */
#ifndef VMLEAK_TRACER_PROCFS_H
#define VMLEAK_TRACER_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "decoder/ledger.h"
#include "decoder/maps.h"

char *procfs_exe(pid_t pid);	     /* malloc'd readlink of /proc/PID/exe, or NULL */
bool procfs_exe_is_32bit(pid_t pid); /* its program is an ELFCLASS32 image */
pid_t procfs_tgid(pid_t tid);	     /* Tgid from /proc/TID/status, or -1 */
char procfs_state(pid_t pid);	     /* State letter from /proc/PID/stat, or 0 */
pid_t procfs_tracer(pid_t pid);	     /* TracerPid, or -1 */
int procfs_fd_path(pid_t tid, int fd, char *buf, size_t size); /* 0 or -errno */
bool procfs_is_kernel_thread(pid_t pid);		       /* PF_KTHREAD in stat's flags */
uint64_t procfs_start_brk(pid_t pid);			       /* stat field 47, 0 when unknown */
/* Read /proc/PID/maps: *out malloc'd, returns the count or -errno. */
long procfs_maps(pid_t pid, struct maps_entry **out);
/* Seed a fresh ledger with the current mappings as pre-existing regions, and the
 * break from start_brk and the end of [heap]. 0 or -errno. */
int procfs_seed_ledger(pid_t pid, struct ledger *l);
int procfs_verify(pid_t pid, const struct ledger *l, struct maps_mismatch **out, size_t *n,
		  size_t *checked);

#endif
