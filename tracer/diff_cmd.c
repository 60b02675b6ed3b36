/* tracer/diff_cmd.c - `vmleak --diff OLD.json NEW.json`: reads the two files
 * (whole, with a size cap), hands them to report/diff.c and writes the result
 * to standard output or -o FILE. Errors are one line, `vmleak: --diff: FILE:
 * why`, and exit status 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/diff.h"
#include "report/rules.h"
#include "tracer/tracer.h"

/* A report file larger than this is refused rather than read into memory. */
#define DIFF_MAX_FILE (4ULL << 30)

/* The whole file at path in a malloc'd buffer; NULL with why set. */
static char *read_file(const char *path, size_t *len, char *why, size_t whylen)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char *text = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s", strerror(EISDIR));
		goto fail;
	}
	for (;;) {
		if (n + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *g;

			if (ncap > DIFF_MAX_FILE) {
				snprintf(why, whylen, "larger than %llu bytes",
					 (unsigned long long)DIFF_MAX_FILE);
				goto fail;
			}
			g = realloc(text, ncap);
			if (!g) {
				snprintf(why, whylen, "out of memory");
				goto fail;
			}
			text = g;
			cap = ncap;
		}
		size_t got = fread(text + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(why, whylen, "%s", strerror(errno ? errno : EIO));
		goto fail;
	}
	fclose(f);
	text[n] = '\0';
	*len = n;
	return text;
fail:
	fclose(f);
	free(text);
	return NULL;
}

static int load(const char *path, const struct rules *rules, struct diff_report *r)
{
	char why[512] = "";
	size_t len = 0;
	char *text = read_file(path, &len, why, sizeof(why));
	int rc = -1;

	if (text)
		rc = diff_parse(text, len, rules, r, why, sizeof(why));
	if (rc)
		fprintf(stderr, "vmleak: --diff: %s: %s\n", path, why);
	free(text);
	return rc;
}

int tracer_diff(const struct options *opt)
{
	struct diff_options dopt = {.all = opt->all, .min_size = opt->min_size};
	struct diff_report a = {0}, b = {0};
	struct diff_result res = {0};
	struct rules *rules = NULL;
	char err[1024];
	FILE *out = stdout;
	int rc = 1;

	/* the rules only pick each site's "at" frame for the text */
	if (!(rules = tracer_load_rules(opt, err, sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (load(opt->diff_old, rules, &a) || load(opt->diff_new, rules, &b))
		goto out;
	if (diff_compare(&a, &b, &dopt, &res)) {
		fprintf(stderr, "vmleak: --diff: out of memory\n");
		goto out;
	}
	if (opt->output && !(out = fopen(opt->output, "we"))) {
		out = stdout;
		fprintf(stderr, "vmleak: cannot write the report to '%s': %s\n", opt->output,
			strerror(errno));
		goto out;
	}
	char *cwd = getcwd(NULL, 0); /* text: source paths relative to it */
	int werr = diff_write(out, opt->format, &a, &b, opt->diff_old, opt->diff_new, &res, cwd);

	free(cwd);
	if (werr) {
		fprintf(stderr, "vmleak: writing the report: %s\n", strerror(-werr));
		goto out;
	}
	rc = 0;
out:
	if (out != stdout && fclose(out) && rc == 0) {
		fprintf(stderr, "vmleak: writing the report: %s\n", strerror(errno));
		rc = 1;
	}
	diff_result_free(&res);
	diff_report_free(&a);
	diff_report_free(&b);
	rules_free(rules);
	return rc;
}
