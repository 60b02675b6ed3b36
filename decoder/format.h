/* decoder/format.h - strace notation for memory syscalls, and the flag names the
 * report uses. Output matches strace 6.1's default decoding byte for byte. */
#ifndef VMLEAK_DECODER_FORMAT_H
#define VMLEAK_DECODER_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "decoder/syscall.h"

/* "mmap(NULL, 40960, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK, -1, 0)
 * = 0x7faab403a000" without pid or newline. r == NULL prints " = ?". Returns the
 * length that snprintf would have written. */
int format_call(char *buf, size_t size, const struct mem_call *c, const struct mem_result *r);
/* The same for a line that already holds column characters (strace -f's "PID "
 * prefix): the result is padded to strace's column counting them. */
int format_call_at(char *buf, size_t size, size_t column, const struct mem_call *c,
		   const struct mem_result *r);

/* "PROT_READ|PROT_WRITE", "PROT_NONE"; unknown bits in hex. */
int format_prot(char *buf, size_t size, uint64_t prot);
/* "MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK", MAP_HUGE_* shifts, unknown bits in hex. */
int format_map_flags(char *buf, size_t size, uint64_t flags);
/* "MREMAP_MAYMOVE|MREMAP_FIXED" or "0". */
int format_mremap_flags(char *buf, size_t size, uint64_t flags);
/* "rw-" style; out must hold 4 bytes. */
void format_prot_rwx(char out[4], uint64_t prot);

#endif
