/* report/diff.h - vmleak --diff: two JSON reports (schema 1) read into a plain
 * model, their sites matched by symbolized stacks (never by addresses, which
 * move with ASLR and between builds), and the changes written as text or JSON
 * (docs/interface.md "Comparing two reports"). Reading the files is the
 * tracer's job: this module parses text held in memory and compares models. */
#ifndef VMLEAK_REPORT_DIFF_H
#define VMLEAK_REPORT_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/report.h"

struct rules;

/* One site of a parsed report. frames[] keep what the JSON said (strings
 * owned by the report); key is the identity sites are matched by. */
struct diff_site {
	char *key;
	uint64_t bytes, count;
	const char *syscall, *kind, *prot, *category;
	char *flags; /* '|'-joined */
	bool suppressed;
	struct frame_info *frames;
	size_t nframes;
	size_t callsite; /* the "at" frame (rules), 0 without rules */
};

struct diff_report {
	struct diff_site *sites;
	size_t nsites;
	double duration_s;
	bool final;
	size_t objects;		 /* report objects in the file (--interval writes one per line) */
	char *command;		 /* argv joined by blanks, or "pid P[,Q]" in attach mode */
	uint64_t bytes, regions; /* totals of the unsuppressed sites */
	void *priv;		 /* the parsed JSON the strings point into */
};

/* Parse the last report object of text[0..len) into *out. Returns 0, or -1
 * with why set ("not JSON: ...", "schema version 2, this vmleak reads 1", ...).
 * rules (may be NULL) pick each site's "at" frame as the text report does. */
int diff_parse(const char *text, size_t len, const struct rules *rules, struct diff_report *out,
	       char *why, size_t whylen);
void diff_report_free(struct diff_report *r);

enum diff_change {
	DIFF_GREW = 0,
	DIFF_SHRANK,
	DIFF_APPEARED,
	DIFF_DISAPPEARED,
	DIFF_UNCHANGED,
	DIFF_CHANGE_COUNT,
};
const char *diff_change_name(enum diff_change c); /* "grew", "shrank", ... */

/* One matched key: the old and new sites (either NULL when only one side has
 * it; sites sharing a key within one report are summed). */
struct diff_entry {
	enum diff_change change;
	const struct diff_site *old_site, *new_site;
	uint64_t old_bytes, new_bytes, old_count, new_count;
	int64_t delta; /* new_bytes - old_bytes */
};

struct diff_result {
	struct diff_entry *entries; /* largest growth first, unchanged last */
	size_t n;
	size_t counts[DIFF_CHANGE_COUNT];
	uint64_t old_bytes, new_bytes; /* over the compared sites */
};

struct diff_options {
	bool all;	   /* compare suppressed sites too */
	uint64_t min_size; /* leave out changes smaller than this many bytes */
};

/* Match the sites of a and b. Returns 0 or -ENOMEM. */
int diff_compare(const struct diff_report *a, const struct diff_report *b,
		 const struct diff_options *o, struct diff_result *out);
void diff_result_free(struct diff_result *r);

/* Write the result: text (format REPORT_TEXT) or JSON (REPORT_JSON); names
 * are the files as given; text shows source paths below cwd (may be NULL)
 * relative to it. Returns 0 or -errno on a write error. */
int diff_write(FILE *f, enum report_format format, const struct diff_report *a,
	       const struct diff_report *b, const char *old_name, const char *new_name,
	       const struct diff_result *r, const char *cwd);

#endif
