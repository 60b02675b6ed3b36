/* report/rules.c - the blame rules (report/rules.h): parsing of rules files and
 * --suppressions files, glob matching on symbolized frames, and the category
 * decision of docs/interface.md "Who is to blame". */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decoder/grow.h"
#include "report/rules.h"

#define RULES_MAX_LINE		4096
#define RULES_MAX_INCLUDE_DEPTH 8

enum rule_list {
	LIST_RUNTIME_MODULE = 0,
	LIST_RUNTIME_FUNCTION,
	LIST_PER_ALLOCATION,
	LIST_POOL,
	LIST_THREAD_STACK,
	LIST_MAPPING,
	LIST_POOL_MODULE,    /* unnamed code of these modules is a pool allocator */
	LIST_STATIC_RUNTIME, /* C runtime functions linked into a static executable */
	LIST_PROGRAM_API,    /* runtime functions that map memory for the program's objects */
	LIST_COUNT,
};

/* Patterns with glob characters are tried one by one with fnmatch; plain names
 * (most of them: the static C runtime's function list) are looked up in a sorted
 * array. */
struct glob_list {
	char **v; /* patterns */
	size_t n, cap;
	char **lit; /* plain names, sorted by rules_add_file/rules_add_text */
	size_t nlit, litcap;
};

struct suppression {
	char **globs; /* must match consecutive frames, innermost first */
	size_t n;
};

struct rules {
	struct glob_list lists[LIST_COUNT];
	struct suppression *supps;
	size_t nsupps, supps_cap;
};

const char *rules_default_path(const char *override)
{
	static const char source_copy[] = VMLEAK_SOURCE_DIR "/report/rules/default.rules";

	if (override && *override)
		return override;
	if (access(source_copy, R_OK) == 0)
		return source_copy;
	return VMLEAK_RULES_DIR "/default.rules";
}

struct rules *rules_new(void)
{
	return calloc(1, sizeof(struct rules));
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	for (int l = 0; l < LIST_COUNT; l++) {
		for (size_t i = 0; i < r->lists[l].n; i++)
			free(r->lists[l].v[i]);
		free(r->lists[l].v);
		for (size_t i = 0; i < r->lists[l].nlit; i++)
			free(r->lists[l].lit[i]);
		free(r->lists[l].lit);
	}
	for (size_t i = 0; i < r->nsupps; i++) {
		for (size_t j = 0; j < r->supps[i].n; j++)
			free(r->supps[i].globs[j]);
		free(r->supps[i].globs);
	}
	free(r->supps);
	free(r);
}

struct rules *rules_load(const char *path, char *err, size_t errlen)
{
	struct rules *r = rules_new();

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (rules_add_file(r, path ? path : rules_default_path(NULL), false, err, errlen)) {
		rules_free(r);
		return NULL;
	}
	return r;
}

static int push_string(char ***v, size_t *n, size_t *cap, const char *str, size_t len)
{
	char **nv = grow_array(*v, cap, *n + 1, sizeof(*nv), 16);
	char *s;

	if (!nv)
		return -1;
	*v = nv;
	s = strndup(str, len);
	if (!s)
		return -1;
	(*v)[(*n)++] = s;
	return 0;
}

static bool is_plain(const char *glob, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (strchr("*?[\\", glob[i]))
			return false;
	return true;
}

static int glob_list_add(struct glob_list *l, const char *glob, size_t len)
{
	return push_string(&l->v, &l->n, &l->cap, glob, len);
}

/* A function-name rule: plain names go to the sorted array. */
static int name_list_add(struct glob_list *l, const char *glob, size_t len)
{
	if (is_plain(glob, len))
		return push_string(&l->lit, &l->nlit, &l->litcap, glob, len);
	return glob_list_add(l, glob, len);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_names(struct rules *r)
{
	for (int l = 0; l < LIST_COUNT; l++)
		if (r->lists[l].nlit > 1)
			qsort(r->lists[l].lit, r->lists[l].nlit, sizeof(char *), compare_strings);
}

/* ---- parsing ---- */

struct parse_ctx {
	struct rules *r;
	const char *name; /* file name for messages */
	unsigned line;
	char *err;
	size_t errlen;
	int depth; /* include nesting */
};

static int __attribute__((format(printf, 2, 3)))
parse_error(struct parse_ctx *p, const char *fmt, ...)
{
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);
	va_list ap;

	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trim s[0..*len) in place; returns the new start. */
static const char *trim(const char *s, size_t *len)
{
	while (*len && is_blank(*s)) {
		s++;
		(*len)--;
	}
	while (*len && is_blank(s[*len - 1]))
		(*len)--;
	return s;
}

/* Text lines hold printable characters, tabs and UTF-8; anything else is binary. */
static bool line_is_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return false;
	}
	return true;
}

/* A glob is usable when fnmatch accepts it; reject an unclosed '[' explicitly,
 * which glibc would otherwise take literally and which is almost surely a typo. */
static int check_glob(struct parse_ctx *p, const char *g, size_t len)
{
	const char *open = memchr(g, '[', len);

	if (len == 0)
		return parse_error(p, "empty pattern");
	if (open && !memchr(open + 1, ']', len - (size_t)(open + 1 - g)))
		return parse_error(p, "unclosed '[' in pattern '%.*s'", (int)len, g);
	return 0;
}

static int add_suppression(struct parse_ctx *p, const char *s, size_t len)
{
	struct suppression sup = {0};
	struct glob_list globs = {0};
	const char *end = s + len;

	for (const char *part = s; part <= end;) {
		const char *semi = memchr(part, ';', (size_t)(end - part));
		size_t plen = (size_t)((semi ? semi : end) - part);
		const char *g = trim(part, &plen);

		if (check_glob(p, g, plen) || glob_list_add(&globs, g, plen))
			goto fail;
		if (!semi)
			break;
		part = semi + 1;
	}
	struct suppression *v =
		grow_array(p->r->supps, &p->r->supps_cap, p->r->nsupps + 1, sizeof(*v), 8);

	if (!v)
		goto fail;
	p->r->supps = v;
	sup.globs = globs.v;
	sup.n = globs.n;
	p->r->supps[p->r->nsupps++] = sup;
	return 0;
fail:
	if (!*p->err)
		parse_error(p, "out of memory");
	for (size_t i = 0; i < globs.n; i++)
		free(globs.v[i]);
	free(globs.v);
	return -1;
}

static int add_file(struct parse_ctx *p, const char *path, bool suppressions);

static int parse_include(struct parse_ctx *p, const char *arg, size_t len)
{
	char path[PATH_MAX];
	const char *slash = strrchr(p->name, '/');
	struct parse_ctx sub = *p;

	if (p->depth >= RULES_MAX_INCLUDE_DEPTH)
		return parse_error(p, "includes nested too deeply");
	if (arg[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%.*s", (int)len, arg);
	else
		snprintf(path, sizeof(path), "%.*s/%.*s", (int)(slash - p->name), p->name, (int)len,
			 arg);
	sub.depth++;
	return add_file(&sub, path, false);
}

struct keyword {
	const char *word;
	int list; /* enum rule_list, or -1 for special handling */
};

static const struct keyword keywords[] = {
	{"runtime-module", LIST_RUNTIME_MODULE},
	{"runtime-function", LIST_RUNTIME_FUNCTION},
	{"allocator per-allocation", LIST_PER_ALLOCATION},
	{"allocator pool-module", LIST_POOL_MODULE},
	{"allocator pool", LIST_POOL},
	{"thread-stack", LIST_THREAD_STACK},
	{"mapping", LIST_MAPPING},
	{"static-runtime-function", LIST_STATIC_RUNTIME},
	{"program-api", LIST_PROGRAM_API},
	{"suppress", -1},
	{"include", -2},
};

/* "KEYWORD ARG": the keyword may be two words ("allocator pool"). */
static int parse_rule_line(struct parse_ctx *p, const char *s, size_t len)
{
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
		size_t wl = strlen(keywords[k].word);
		size_t alen;
		const char *arg;

		if (len <= wl || memcmp(s, keywords[k].word, wl) || !is_blank(s[wl]))
			continue;
		alen = len - wl;
		arg = trim(s + wl, &alen);
		if (keywords[k].list == -1)
			return add_suppression(p, arg, alen);
		if (keywords[k].list == -2)
			return alen ? parse_include(p, arg, alen) : parse_error(p, "include what?");
		if (check_glob(p, arg, alen))
			return -1;
		if (keywords[k].list == LIST_RUNTIME_MODULE || keywords[k].list == LIST_POOL_MODULE
			    ? glob_list_add(&p->r->lists[keywords[k].list], arg, alen)
			    : name_list_add(&p->r->lists[keywords[k].list], arg, alen))
			return parse_error(p, "out of memory");
		return 0;
	}
	if (len >= 10 && !memcmp(s, "allocator ", 10))
		return parse_error(p, "allocator kind must be 'per-allocation' or 'pool'");
	return parse_error(p,
			   "unknown rule '%.*s' (expected runtime-module, runtime-function, "
			   "static-runtime-function, allocator, thread-stack, mapping, "
			   "program-api, suppress or include)",
			   (int)(len > 40 ? 40 : len), s);
}

static int parse_line(struct parse_ctx *p, const char *s, size_t len, bool suppressions)
{
	if (len > RULES_MAX_LINE)
		return parse_error(p, "line too long");
	if (!line_is_text(s, len))
		return parse_error(p, "binary data, not a %s file",
				   suppressions ? "suppressions" : "rules");
	s = trim(s, &len);
	if (len == 0 || s[0] == '#')
		return 0;
	if (suppressions)
		return add_suppression(p, s, len);
	return parse_rule_line(p, s, len);
}

static int parse_text(struct parse_ctx *p, const char *text, size_t len, bool suppressions)
{
	const char *end = text + len;

	p->line = 0;
	for (const char *s = text; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t llen = (size_t)((nl ? nl : end) - s);

		p->line++;
		if (parse_line(p, s, llen, suppressions))
			return -1;
		if (!nl)
			break;
		s = nl + 1;
	}
	return 0;
}

static int read_all(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int ret = -1;

	if (!f)
		return -1;
	for (;;) {
		size_t got;

		char *nb = grow_array(buf, &cap, n + 4096, 1, 8192);

		if (!nb) {
			errno = ENOMEM;
			goto out;
		}
		buf = nb;
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto out;
	*out = buf;
	*len = n;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	fclose(f);
	return ret;
}

static int add_file(struct parse_ctx *p, const char *path, bool suppressions)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	if (read_all(path, &text, &len)) {
		snprintf(p->err, p->errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	p->name = path;
	ret = parse_text(p, text, len, suppressions);
	free(text);
	return ret;
}

int rules_add_file(struct rules *r, const char *path, bool suppressions, char *err, size_t errlen)
{
	struct parse_ctx p = {.r = r, .err = err, .errlen = errlen};
	int ret;

	if (errlen)
		err[0] = '\0';
	ret = add_file(&p, path, suppressions);
	sort_names(r);
	return ret;
}

int rules_add_text(struct rules *r, const char *name, const char *text, size_t len,
		   bool suppressions, char *err, size_t errlen)
{
	struct parse_ctx p = {.r = r, .name = name, .err = err, .errlen = errlen};
	int ret;

	if (errlen)
		err[0] = '\0';
	ret = parse_text(&p, text, len, suppressions);
	sort_names(r);
	return ret;
}

/* ---- matching ---- */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Module globs without '/' match the file name, others the whole path. */
static bool module_matches(const char *glob, const char *module)
{
	if (!module)
		return false;
	if (strchr(glob, '/'))
		return fnmatch(glob, module, 0) == 0;
	return fnmatch(glob, base_name(module), 0) == 0;
}

static bool list_matches_function(const struct glob_list *l, const char *function)
{
	if (!function)
		return false;
	if (l->nlit && bsearch(&function, l->lit, l->nlit, sizeof(char *), compare_strings))
		return true;
	for (size_t i = 0; i < l->n; i++)
		if (fnmatch(l->v[i], function, 0) == 0)
			return true;
	return false;
}

static bool list_matches_module(const struct glob_list *l, const char *module)
{
	for (size_t i = 0; i < l->n; i++)
		if (module_matches(l->v[i], module))
			return true;
	return false;
}

bool rules_is_runtime_module(const struct rules *r, const char *module)
{
	return list_matches_module(&r->lists[LIST_RUNTIME_MODULE], module);
}

/* A call site without a symbol in a module whose allocator internals are
 * unnamed (a stripped interpreter): its direct mappings are the allocator's. */
static bool unnamed_pool_code(const struct rules *r, const struct frame_info *f)
{
	return !f->function && f->module &&
	       list_matches_module(&r->lists[LIST_POOL_MODULE], f->module);
}

static bool is_allocator(const struct rules *r, const struct frame_info *f)
{
	return list_matches_function(&r->lists[LIST_PER_ALLOCATION], f->function) ||
	       list_matches_function(&r->lists[LIST_POOL], f->function);
}

/* Part of the runtime: a runtime module, a runtime function, an allocator entry
 * point wherever it lives (a program's own pool allocator), a program API of a
 * language runtime, or a C runtime function linked into a static executable. */
static bool in_runtime(const struct rules *r, const struct frame_info *f)
{
	return rules_is_runtime_module(r, f->module) ||
	       list_matches_function(&r->lists[LIST_RUNTIME_FUNCTION], f->function) ||
	       is_allocator(r, f) ||
	       list_matches_function(&r->lists[LIST_PROGRAM_API], f->function) ||
	       (f->static_exe &&
		list_matches_function(&r->lists[LIST_STATIC_RUNTIME], f->function));
}

static bool frame_matches_glob(const char *glob, const struct frame_info *f)
{
	if (f->function && fnmatch(glob, f->function, 0) == 0)
		return true;
	return module_matches(glob, f->module);
}

static bool suppressed(const struct rules *r, const struct frame_info *f, size_t n)
{
	for (size_t s = 0; s < r->nsupps; s++) {
		const struct suppression *sup = &r->supps[s];

		for (size_t i = 0; i + sup->n <= n; i++) {
			size_t j = 0;

			while (j < sup->n && frame_matches_glob(sup->globs[j], &f[i + j]))
				j++;
			if (j == sup->n)
				return true;
		}
	}
	return false;
}

/* Index of the outermost frame of f[0..n) in list, or -1. */
static long outermost_in_list(const struct rules *r, int list, const struct frame_info *f, size_t n)
{
	for (size_t i = n; i-- > 0;)
		if (list_matches_function(&r->lists[list], f[i].function))
			return (long)i;
	return -1;
}

static bool any_in_list(const struct rules *r, int list, const struct frame_info *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list_matches_function(&r->lists[list], f[i].function))
			return true;
	return false;
}

/* The allocator's own pool rather than one allocation's chunk. */
static bool is_pool_growth(const struct region *example)
{
	return example && (example->kind == REGION_BRK || example->prot == PROT_NONE);
}

enum site_category rules_classify(const struct rules *r, const struct frame_info *f, size_t n,
				  const struct region *example, size_t *callsite)
{
	long pool = outermost_in_list(r, LIST_POOL, f, n);
	size_t c = pool >= 0 ? (size_t)pool + 1 : 0;
	const struct frame_info *api;
	long papi;

	while (c < n && in_runtime(r, &f[c]))
		c++;
	if (callsite)
		*callsite = c < n ? c : 0;
	if (n == 0)
		return CAT_UNKNOWN;
	if (suppressed(r, f, n))
		return CAT_USER_SUPPRESSED;
	if (pool >= 0)
		return CAT_MALLOC_HEAP;
	/* a language runtime mapped memory for the program's own objects: the
	 * program's, wherever the runtime called from (interpreted code has no
	 * frame outside the runtime: then the API itself is the call site) */
	papi = outermost_in_list(r, LIST_PROGRAM_API, f, c);
	if (papi >= 0) {
		if (callsite && c == n)
			*callsite = (size_t)papi;
		if (is_pool_growth(example) && any_in_list(r, LIST_PER_ALLOCATION, f, (size_t)papi))
			return CAT_MALLOC_HEAP;
		return CAT_PROGRAM;
	}
	if (c == n)
		return CAT_LOADER;
	if (unnamed_pool_code(r, &f[c]))
		return CAT_MALLOC_HEAP;
	if (c == 0)
		return CAT_PROGRAM; /* the program made the syscall itself */
	api = &f[c - 1];
	if (any_in_list(r, LIST_PER_ALLOCATION, f, c)) {
		if (is_pool_growth(example))
			return CAT_MALLOC_HEAP;
		if (list_matches_function(&r->lists[LIST_PER_ALLOCATION], api->function))
			return CAT_PROGRAM;
	}
	if (list_matches_function(&r->lists[LIST_THREAD_STACK], api->function))
		return CAT_THREAD_STACK;
	if (list_matches_function(&r->lists[LIST_MAPPING], api->function))
		return CAT_PROGRAM;
	return CAT_RUNTIME;
}
