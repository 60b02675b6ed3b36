/* decoder/maps.h - /proc/PID/maps lines, and the comparison of a ledger with
 * them (--verify). Pure: callers read the file. */
#ifndef VMLEAK_DECODER_MAPS_H
#define VMLEAK_DECODER_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoder/ledger.h"

struct maps_entry {
	uint64_t start, end;
	uint8_t prot; /* PROT_* */
	bool shared;
	uint64_t offset;
	uint64_t inode;
	char path[256]; /* "" for anonymous; "[heap]", "[stack]", ... */
};

/* Parse one maps line (without or with the trailing newline): 0 or -1. */
int maps_parse_line(const char *line, struct maps_entry *e);

struct maps_mismatch {
	uint64_t start, end;
	const char *problem; /* static string */
};

/* Compare the ledger with the mapped ranges (sorted by start, as the kernel
 * writes them). Reports ledger pages that are not mapped, and mapped pages the
 * ledger does not know, except the ones the kernel grows without a syscall
 * ([stack], [vsyscall]). Fills *out (malloc'd) and *n; *checked = ledger regions
 * examined. Returns 0 or -ENOMEM. */
int maps_compare(const struct ledger *l, const struct maps_entry *e, size_t ne,
		 struct maps_mismatch **out, size_t *n, size_t *checked);

#endif
