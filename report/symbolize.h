/* report/symbolize.h - report-time symbolization: each distinct (module, offset)
 * recorded at capture is resolved once with libdwfl from the module's file
 * (function, offset, source file:line), then the stack is classified by the
 * blame rules. Works after the traced process and its modules are gone. */
#ifndef VMLEAK_REPORT_SYMBOLIZE_H
#define VMLEAK_REPORT_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "decoder/ledger.h"
#include "decoder/strtab.h"
#include "report/report.h"
#include "report/rules.h"
#include "report/stacks.h"

struct symbolizer;

/* stacks, modules and rules must outlive the symbolizer; rules may be NULL (every
 * site is then "program", or "unknown" without frames). */
struct symbolizer *symbolizer_new(const struct stack_table *stacks, const struct strtab *modules,
				  const struct rules *rules);
void symbolizer_free(struct symbolizer *s);

/* report_resolve_fn: ctx is the symbolizer. Fills frames (innermost first; the
 * array and its strings live until symbolizer_free), category and callsite.
 * Returns 0, or -1 when out of memory (out is then empty, category unknown), also
 * when an earlier lookup lost a name, a symbol table or a module for want of
 * memory: the symbolizer then stays failed. */
int symbolizer_resolve(void *ctx, uint32_t stack, const struct region *example,
		       struct report_site_info *out);

/* One frame: module (strtab id) + offset from its load bias. caller = true for
 * return addresses (looked up at offset - 1). out->pc is left as given. */
void symbolizer_lookup(struct symbolizer *s, uint32_t module, uint64_t offset, bool caller,
		       struct frame_info *out);

#endif
