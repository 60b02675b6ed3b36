/* report/symbolize.h - report-time symbolization: each distinct (module, offset)
 * recorded at capture is resolved once with libdwfl from the module's file
 * (function, offset, source file:line), then the stack is classified by the
 * blame rules. Works after the traced process and its modules are gone. Separate
 * debug files come from the --debug-dir roots, the system's, or debuginfod. */
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

/* Extra roots for separate debug files (absolute paths, no ':'), searched before
 * the system's (/usr/lib/debug) for DIR/.build-id/xx/yyyy.debug and for the
 * debuglink name under DIR/<module's directory>/. Returns 0, or -1 for a bad
 * directory name or no memory. Call before the first lookup. */
int symbolizer_set_debug_dirs(struct symbolizer *s, const char *const *dirs, size_t n);

/* Downloads: libdwfl asks debuginfod for missing debug info when DEBUGINFOD_URLS
 * is in the environment at lookup time (the caller decides). While a download
 * runs, fn is called about once a second with the module's path, the bytes done
 * and total (total <= 0: unknown) and the seconds spent; when it ends, with
 * module NULL and done -1. A download that fails after more than 5 s cancels the
 * others until symbolizer_forget_missing. */
typedef void (*symbolizer_progress_fn)(void *ctx, const char *module, long done, long total,
				       double seconds);
void symbolizer_set_progress(struct symbolizer *s, symbolizer_progress_fn fn, void *ctx);

/* The build-id module had when it was captured (at most SYMBOLIZER_MAX_BUILD_ID
 * bytes; call before its first lookup). Its file is then read only if it is the
 * same build; when it is gone or another build, the debug file found by build-id
 * (--debug-dir roots, /usr/lib/debug, debuginfod) stands in for it. Returns 0 or
 * -1. */
#define SYMBOLIZER_MAX_BUILD_ID 64
int symbolizer_set_build_id(struct symbolizer *s, uint32_t module, const unsigned char *id,
			    size_t len);

/* Forget the modules for which no debug info was found (and every cached answer),
 * so that the next lookups search again, e.g. once debuginfod may be asked.
 * Frames returned before are invalid afterwards. Returns how many were dropped. */
size_t symbolizer_forget_missing(struct symbolizer *s);

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
