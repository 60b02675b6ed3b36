/* report/offline.h - offline symbolization (vmleak --symbolize): a JSON report
 * written earlier, maybe on another machine, is read back, its frames are
 * resolved from each frame's module, build_id and module_offset, and it is
 * written again. */
#ifndef VMLEAK_REPORT_OFFLINE_H
#define VMLEAK_REPORT_OFFLINE_H

#include <stddef.h>
#include <stdio.h>

#include "report/symbolize.h"

struct offline_options {
	const char *const *debug_dirs; /* absolute --debug-dir roots */
	size_t ndebug_dirs;
	symbolizer_progress_fn progress; /* debuginfod downloads; may be NULL */
	void *progress_ctx;
};

/* Read every report in `in` (JSON objects of schema 1, one after another, as
 * vmleak writes them), fill in function, offset, file and line of each frame
 * that lacks them and can be resolved, and write each report to `out` as one
 * line. Frames are looked up by (module, build_id, module_offset); frames of
 * older reports without those keys by module and the module offset written as
 * their "offset". Sites keep their category. Returns the number of frames newly
 * resolved (>= 0), or -1 with err set to one line "vmleak: NAME: ..." (NAME is
 * the input's name) for input that is not a vmleak JSON report, or for a read or
 * allocation failure. Whatever was written before an error stays written. */
long offline_symbolize(FILE *in, const char *name, FILE *out, const struct offline_options *o,
		       char *err, size_t errlen);

#endif
