/* report/rules.h - who is to blame for a region: the C runtime's modules, the
 * allocator entry points (per-allocation or pool), the thread-stack and mapping
 * APIs, all read from a rules file (report/rules/default.rules documents the
 * format), plus the user's --suppressions files. Classifies a symbolized stack
 * into a site category as docs/interface.md "Who is to blame" says. */
#ifndef VMLEAK_REPORT_RULES_H
#define VMLEAK_REPORT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "decoder/ledger.h"
#include "report/report.h"

struct rules;

/* The default rules file to use: override (the tracer passes $VMLEAK_RULES, or the
 * copy installed next to its binary) when non-empty, else the source tree's copy,
 * else the installed one. Never NULL. */
const char *rules_default_path(const char *override);

/* New rule set read from path (NULL: rules_default_path(NULL)). NULL with err set on
 * failure ("FILE:LINE: problem" for a bad line). */
struct rules *rules_load(const char *path, char *err, size_t errlen);
/* An empty rule set (nothing is runtime), for tests and for --all-in-one setups. */
struct rules *rules_new(void);
void rules_free(struct rules *r);

/* Add a rules file (suppressions = false: the rules format) or a --suppressions
 * file (suppressions = true: one ';'-separated glob list per line). Returns 0, or
 * -1 with err = "FILE:LINE: problem" (or "FILE: strerror"). */
int rules_add_file(struct rules *r, const char *path, bool suppressions, char *err, size_t errlen);
/* The same for text held in memory; name is used in error messages. */
int rules_add_text(struct rules *r, const char *name, const char *text, size_t len,
		   bool suppressions, char *err, size_t errlen);

/* Category of a stack f[0..n) (innermost first) that created example (may be NULL).
 * *callsite (may be NULL) gets the index of the first frame outside the runtime
 * (0 when there is none). */
enum site_category rules_classify(const struct rules *r, const struct frame_info *f, size_t n,
				  const struct region *example, size_t *callsite);

/* True when module path m matches a runtime-module rule (for tests and tools). */
bool rules_is_runtime_module(const struct rules *r, const char *module);

#endif
