/* report/diff.c - vmleak --diff: parses JSON reports (schema 1, json-c) into
 * struct diff_report, matches their sites by symbolized stacks (function,
 * source file name and line per frame; module file name and module offset for
 * a frame without a function; never an absolute address), and writes what
 * grew, shrank, appeared and disappeared, largest growth first, as text or
 * JSON (docs/interface.md "Comparing two reports"). A frame with a function
 * is matched by its function, source file name and line alone, so the same
 * code in a renamed or rebuilt binary matches. */
#include "report/diff.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_priv.h"
#include "report/rules.h"

static const char *const change_names[DIFF_CHANGE_COUNT] = {
	[DIFF_GREW] = "grew",		[DIFF_SHRANK] = "shrank",
	[DIFF_APPEARED] = "appeared",	[DIFF_DISAPPEARED] = "disappeared",
	[DIFF_UNCHANGED] = "unchanged",
};

const char *diff_change_name(enum diff_change c)
{
	return (unsigned)c < DIFF_CHANGE_COUNT ? change_names[c] : "unknown";
}

static int fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- a growable string ---- */

struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 128;
		char *g;

		while (cap < b->len + n + 1)
			cap *= 2;
		g = realloc(b->s, cap);
		if (!g) {
			b->oom = true;
			return;
		}
		b->s = g;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s ? s : "", strlen(s ? s : ""));
}

static void buf_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_fmt(struct buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Finish b: its string (the caller frees it), NULL when out of memory. */
static char *buf_take(struct buf *b)
{
	if (!b->oom && !b->s)
		buf_add(b, "", 0);
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

/* ---- reading one report ---- */

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *str_member(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A non-negative integer member; -1 when missing or not one. */
static int uint_member(struct json_object *o, const char *key, uint64_t *out)
{
	struct json_object *v = member(o, key);

	if (!v || !json_object_is_type(v, json_type_int))
		return -1;
	errno = 0;
	if (json_object_get_int64(v) < 0)
		return -1;
	*out = json_object_get_uint64(v);
	return 0;
}

/* "0x1f3a" -> 0x1f3a; false when v is not such a string. */
static bool hex_value(struct json_object *v, uint64_t *out)
{
	const char *s;
	char *end;

	if (!v || !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	if (strncmp(s, "0x", 2) != 0 || !s[2])
		return false;
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	return !*end && !errno;
}

/* The last top-level value of text (--interval writes one report per line). */
static struct json_object *last_object(const char *text, size_t len, size_t *count, char *why,
				       size_t whylen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *last = NULL;
	size_t pos = 0;

	*count = 0;
	if (!tok) {
		fail(why, whylen, "out of memory");
		return NULL;
	}
	for (;;) {
		struct json_object *obj;
		enum json_tokener_error err;

		while (pos < len && strchr(" \t\r\n", text[pos]) && text[pos])
			pos++;
		if (pos == len)
			break;
		obj = json_tokener_parse_ex(tok, text + pos,
					    (int)(len - pos > INT32_MAX ? INT32_MAX : len - pos));
		err = json_tokener_get_error(tok);
		if (err != json_tokener_success || !obj) {
			fail(why, whylen, "not JSON: %s at byte %zu",
			     err == json_tokener_continue ? "unexpected end of file"
							  : json_tokener_error_desc(err),
			     pos + json_tokener_get_parse_end(tok));
			json_object_put(obj);
			json_object_put(last);
			last = NULL;
			goto out;
		}
		pos += json_tokener_get_parse_end(tok);
		json_object_put(last);
		last = obj;
		(*count)++;
		json_tokener_reset(tok);
	}
	if (!last)
		fail(why, whylen, "empty file, no report in it");
out:
	json_tokener_free(tok);
	return last;
}

static int parse_frame(struct json_object *jf, struct frame_info *f)
{
	struct json_object *line = member(jf, "line");

	if (!json_object_is_type(jf, json_type_object))
		return -1;
	memset(f, 0, sizeof(*f));
	hex_value(member(jf, "pc"), &f->pc);
	f->function = str_member(jf, "function");
	if (!hex_value(member(jf, "offset"), &f->offset))
		f->offset = 0;
	f->module = str_member(jf, "module");
	f->build_id = str_member(jf, "build_id");
	if (!hex_value(member(jf, "module_offset"), &f->module_offset))
		f->module_offset = 0;
	f->file = str_member(jf, "file");
	if (line && json_object_is_type(line, json_type_int) && json_object_get_int(line) > 0)
		f->line = json_object_get_int(line);
	/* without a function the JSON's offset is the module offset (write_json.c) */
	if (!f->function && f->module)
		f->offset = f->module_offset;
	return 0;
}

/* How a frame is matched: never its address. */
static void key_frame(struct buf *b, const struct frame_info *f)
{
	if (f->function && f->file && f->line > 0) {
		buf_fmt(b, "\nf ");
		buf_str(b, f->function);
		buf_str(b, "\t");
		buf_str(b, base_name(f->file));
		buf_fmt(b, ":%d", f->line);
	} else if (f->function) {
		/* not the module: a renamed executable (prog.old, prog.new) still
		 * matches at its _start */
		buf_fmt(b, "\nf ");
		buf_str(b, f->function);
	} else if (f->module) {
		buf_str(b, "\nm ");
		buf_str(b, base_name(f->module));
		buf_fmt(b, "+0x%" PRIx64, f->module_offset);
	} else {
		buf_str(b, "\n?");
	}
}

static int parse_flags(struct json_object *jflags, struct diff_site *s)
{
	struct buf b = {0};
	size_t n;

	if (!jflags || !json_object_is_type(jflags, json_type_array))
		return -1;
	n = json_object_array_length(jflags);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(jflags, i);

		if (!json_object_is_type(v, json_type_string))
			return -1;
		if (i)
			buf_str(&b, "|");
		buf_str(&b, json_object_get_string(v));
	}
	s->flags = buf_take(&b);
	return s->flags ? 0 : -2;
}

static int parse_site(struct json_object *js, size_t idx, const struct rules *rules,
		      struct diff_site *s, char *why, size_t whylen)
{
	struct json_object *jframes = member(js, "frames"), *sup = member(js, "suppressed");
	struct buf key = {0};
	int rc;

	if (!json_object_is_type(js, json_type_object))
		return fail(why, whylen, "sites[%zu]: not an object", idx);
	if (uint_member(js, "bytes", &s->bytes) || uint_member(js, "count", &s->count))
		return fail(why, whylen,
			    "sites[%zu]: \"bytes\" and \"count\" must be whole numbers", idx);
	if (!jframes || !json_object_is_type(jframes, json_type_array))
		return fail(why, whylen, "sites[%zu]: \"frames\" must be an array", idx);
	s->syscall = str_member(js, "syscall");
	s->kind = str_member(js, "kind");
	s->prot = str_member(js, "prot");
	s->category = str_member(js, "category");
	s->suppressed = sup && json_object_get_boolean(sup);
	rc = parse_flags(member(js, "flags"), s);
	if (rc == -1)
		return fail(why, whylen, "sites[%zu]: \"flags\" must be an array of strings", idx);
	if (rc)
		return fail(why, whylen, "out of memory");
	s->nframes = json_object_array_length(jframes);
	s->frames = calloc(s->nframes ? s->nframes : 1, sizeof(*s->frames));
	if (!s->frames)
		return fail(why, whylen, "out of memory");
	for (size_t i = 0; i < s->nframes; i++)
		if (parse_frame(json_object_array_get_idx(jframes, i), &s->frames[i]))
			return fail(why, whylen, "sites[%zu].frames[%zu]: not an object", idx, i);
	if (rules && s->nframes)
		rules_classify(rules, s->frames, s->nframes, NULL, &s->callsite);
	buf_str(&key, s->syscall);
	buf_str(&key, " ");
	buf_str(&key, s->kind);
	buf_str(&key, " ");
	buf_str(&key, s->prot);
	buf_str(&key, " ");
	buf_str(&key, s->flags);
	for (size_t i = 0; i < s->nframes; i++)
		key_frame(&key, &s->frames[i]);
	s->key = buf_take(&key);
	return s->key ? 0 : fail(why, whylen, "out of memory");
}

static char *describe_command(struct json_object *root)
{
	struct json_object *cmd = member(root, "command"), *pids = member(root, "pids");
	struct buf b = {0};

	if (cmd && json_object_is_type(cmd, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(cmd); i++) {
			struct json_object *v = json_object_array_get_idx(cmd, i);

			if (i)
				buf_str(&b, " ");
			buf_str(&b, json_object_is_type(v, json_type_string)
					    ? json_object_get_string(v)
					    : "?");
		}
	} else if (pids && json_object_is_type(pids, json_type_array)) {
		size_t n = json_object_array_length(pids);

		buf_str(&b, n == 1 ? "pid " : "pids ");
		for (size_t i = 0; i < n; i++)
			buf_fmt(&b, "%s%" PRId64, i ? "," : "",
				json_object_get_int64(json_object_array_get_idx(pids, i)));
	}
	return buf_take(&b);
}

static int parse_root(struct json_object *root, const struct rules *rules, struct diff_report *out,
		      char *why, size_t whylen)
{
	struct json_object *ver, *sites, *v;
	uint64_t version;

	if (!json_object_is_type(root, json_type_object) || !(ver = member(root, "vmleak")))
		return fail(why, whylen, "not a vmleak JSON report (no \"vmleak\" key)");
	if (uint_member(root, "vmleak", &version))
		return fail(why, whylen, "\"vmleak\" must be the schema version number");
	if (version != 1)
		return fail(why, whylen, "schema version %" PRIu64 ", this vmleak reads version 1",
			    version);
	sites = member(root, "sites");
	if (!sites || !json_object_is_type(sites, json_type_array))
		return fail(why, whylen, "\"sites\" must be an array");
	if ((v = member(root, "duration_s")) &&
	    (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		out->duration_s = json_object_get_double(v);
	out->final = (v = member(root, "final")) && json_object_get_boolean(v);
	out->command = describe_command(root);
	if (!out->command)
		return fail(why, whylen, "out of memory");
	out->nsites = json_object_array_length(sites);
	out->sites = calloc(out->nsites ? out->nsites : 1, sizeof(*out->sites));
	if (!out->sites)
		return fail(why, whylen, "out of memory");
	for (size_t i = 0; i < out->nsites; i++) {
		struct diff_site *s = &out->sites[i];

		if (parse_site(json_object_array_get_idx(sites, i), i, rules, s, why, whylen))
			return -1;
		if (!s->suppressed) {
			out->bytes += s->bytes;
			out->regions += s->count;
		}
	}
	return 0;
}

int diff_parse(const char *text, size_t len, const struct rules *rules, struct diff_report *out,
	       char *why, size_t whylen)
{
	struct json_object *root;

	memset(out, 0, sizeof(*out));
	root = last_object(text, len, &out->objects, why, whylen);
	if (!root)
		return -1;
	out->priv = root;
	if (parse_root(root, rules, out, why, whylen)) {
		diff_report_free(out);
		return -1;
	}
	return 0;
}

void diff_report_free(struct diff_report *r)
{
	for (size_t i = 0; r->sites && i < r->nsites; i++) {
		free(r->sites[i].key);
		free(r->sites[i].flags);
		free(r->sites[i].frames);
	}
	free(r->sites);
	free(r->command);
	json_object_put(r->priv);
	memset(r, 0, sizeof(*r));
}

/* ---- matching ---- */

struct keyed {
	const struct diff_site *site;
	bool old;
};

static int cmp_keyed(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;
	int c = strcmp(a->site->key, b->site->key);

	if (c)
		return c;
	return (int)b->old - (int)a->old; /* old first */
}

static enum diff_change classify(const struct diff_entry *e)
{
	if (!e->old_site)
		return DIFF_APPEARED;
	if (!e->new_site)
		return DIFF_DISAPPEARED;
	if (e->new_bytes > e->old_bytes)
		return DIFF_GREW;
	if (e->new_bytes < e->old_bytes)
		return DIFF_SHRANK;
	return DIFF_UNCHANGED;
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct diff_entry *a = pa, *b = pb;
	const struct diff_site *sa = a->new_site ? a->new_site : a->old_site;
	const struct diff_site *sb = b->new_site ? b->new_site : b->old_site;

	if ((a->change == DIFF_UNCHANGED) != (b->change == DIFF_UNCHANGED))
		return a->change == DIFF_UNCHANGED ? 1 : -1;
	if (a->delta != b->delta)
		return a->delta > b->delta ? -1 : 1;
	if (a->new_bytes != b->new_bytes)
		return a->new_bytes > b->new_bytes ? -1 : 1;
	return strcmp(sa->key, sb->key);
}

static size_t add_sites(struct keyed *k, size_t n, const struct diff_report *r, bool old,
			const struct diff_options *o)
{
	for (size_t i = 0; i < r->nsites; i++) {
		if (r->sites[i].suppressed && !o->all)
			continue;
		k[n].site = &r->sites[i];
		k[n++].old = old;
	}
	return n;
}

int diff_compare(const struct diff_report *a, const struct diff_report *b,
		 const struct diff_options *o, struct diff_result *out)
{
	size_t total = a->nsites + b->nsites, nk = 0;
	struct keyed *k = malloc((total ? total : 1) * sizeof(*k));

	memset(out, 0, sizeof(*out));
	out->entries = calloc(total ? total : 1, sizeof(*out->entries));
	if (!k || !out->entries) {
		free(k);
		diff_result_free(out);
		return -ENOMEM;
	}
	nk = add_sites(k, nk, a, true, o);
	nk = add_sites(k, nk, b, false, o);
	qsort(k, nk, sizeof(*k), cmp_keyed);
	for (size_t i = 0; i < nk;) {
		struct diff_entry e = {0};
		size_t j = i;

		/* sites that share a key within one report are summed */
		for (; j < nk && strcmp(k[j].site->key, k[i].site->key) == 0; j++) {
			if (k[j].old) {
				e.old_site = e.old_site ? e.old_site : k[j].site;
				e.old_bytes += k[j].site->bytes;
				e.old_count += k[j].site->count;
			} else {
				e.new_site = e.new_site ? e.new_site : k[j].site;
				e.new_bytes += k[j].site->bytes;
				e.new_count += k[j].site->count;
			}
		}
		i = j;
		e.delta = (int64_t)(e.new_bytes - e.old_bytes);
		e.change = classify(&e);
		out->old_bytes += e.old_bytes;
		out->new_bytes += e.new_bytes;
		out->counts[e.change]++;
		if (e.change != DIFF_UNCHANGED &&
		    (uint64_t)(e.delta < 0 ? -e.delta : e.delta) < o->min_size)
			continue;
		out->entries[out->n++] = e;
	}
	free(k);
	qsort(out->entries, out->n, sizeof(*out->entries), cmp_entry);
	return 0;
}

void diff_result_free(struct diff_result *r)
{
	free(r->entries);
	memset(r, 0, sizeof(*r));
}

/* ---- writing ---- */

/* Hostile strings in text: control bytes and '\' as \xNN (as write_text.c). */
static void text_str(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : "?"); *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static void text_size(FILE *f, uint64_t bytes)
{
	char b[32];

	report_format_size(b, sizeof(b), bytes);
	fputs(b, f);
}

static void text_delta(FILE *f, int64_t d)
{
	fputc(d < 0 ? '-' : '+', f);
	text_size(f, d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d);
}

static void text_side(FILE *f, uint64_t bytes, uint64_t count, bool present)
{
	if (!present) {
		fputs("none", f);
		return;
	}
	text_size(f, bytes);
	fprintf(f, " in %" PRIu64 " region%s", count, count == 1 ? "" : "s");
}

static void text_frame(FILE *f, const struct frame_info *fr, const char *cwd)
{
	size_t n = cwd ? strlen(cwd) : 0;

	if (fr->function) {
		text_str(f, fr->function);
		fputs(" (", f);
		if (fr->file && fr->line > 0) {
			/* below the working directory: relative, as in the text report */
			if (n > 1 && strncmp(fr->file, cwd, n) == 0 && fr->file[n] == '/' &&
			    fr->file[n + 1])
				text_str(f, fr->file + n + 1);
			else
				text_str(f, fr->file);
			fprintf(f, ":%d)", fr->line);
		} else {
			text_str(f, fr->module ? base_name(fr->module) : "?");
			fputc(')', f);
		}
	} else if (fr->module) {
		fprintf(f, "0x%" PRIx64 " (", fr->pc);
		text_str(f, base_name(fr->module));
		fprintf(f, "+0x%" PRIx64 ")", fr->module_offset);
	} else {
		fprintf(f, "0x%" PRIx64, fr->pc);
	}
}

static void text_describe(FILE *f, const char *name, const struct diff_report *r)
{
	fputs("        ", f);
	text_str(f, name);
	fputs(": ", f);
	text_str(f, r->command && *r->command ? r->command : "?");
	fprintf(f, ", traced %.2f s, ", finite_or_zero(r->duration_s));
	text_side(f, r->bytes, r->regions, true);
	if (r->objects > 1)
		fprintf(f, ", the last of %zu reports in the file", r->objects);
	if (!r->final)
		fputs(" (interim)", f);
	fputc('\n', f);
}

static void text_entry(FILE *f, size_t i, const struct diff_entry *e, const char *cwd)
{
	const struct diff_site *s = e->new_site ? e->new_site : e->old_site;

	fprintf(f, "\n#%zu  ", i + 1);
	text_delta(f, e->delta);
	fprintf(f, "  %s  ", diff_change_name(e->change));
	text_side(f, e->old_bytes, e->old_count, e->old_site);
	fputs(" -> ", f);
	text_side(f, e->new_bytes, e->new_count, e->new_site);
	fputs("  ", f);
	text_str(f, s->syscall);
	if (s->kind && s->syscall && strcmp(s->kind, s->syscall) != 0) {
		fputc(' ', f);
		text_str(f, s->kind);
	}
	fputc(' ', f);
	text_str(f, s->prot);
	if (s->flags && *s->flags) {
		fputc(' ', f);
		text_str(f, s->flags);
	}
	if (s->suppressed) {
		fputs("  (suppressed: ", f);
		text_str(f, s->category);
		fputc(')', f);
	}
	fputc('\n', f);
	if (!s->nframes)
		fputs("    (no backtrace)\n", f);
	for (size_t k = s->callsite; k < s->nframes; k++) {
		fputs(k == s->callsite ? "    at " : "    by ", f);
		text_frame(f, &s->frames[k], cwd);
		fputc('\n', f);
	}
}

static void write_text_diff(FILE *f, const struct diff_report *a, const struct diff_report *b,
			    const char *old_name, const char *new_name, const struct diff_result *r,
			    const char *cwd)
{
	const size_t *n = r->counts;

	fputs("vmleak: ", f);
	text_delta(f, (int64_t)(r->new_bytes - r->old_bytes));
	fputs(" (", f);
	text_size(f, r->old_bytes);
	fputs(" -> ", f);
	text_size(f, r->new_bytes);
	fprintf(f, "): %zu site%s grew, %zu shrank, %zu appeared, %zu disappeared, %zu unchanged\n",
		n[DIFF_GREW], n[DIFF_GREW] == 1 ? "" : "s", n[DIFF_SHRANK], n[DIFF_APPEARED],
		n[DIFF_DISAPPEARED], n[DIFF_UNCHANGED]);
	text_describe(f, old_name, a);
	text_describe(f, new_name, b);
	for (size_t i = 0; i < r->n; i++)
		if (r->entries[i].change != DIFF_UNCHANGED)
			text_entry(f, i, &r->entries[i], cwd);
}

static void json_side(FILE *f, const char *name, const struct diff_report *r)
{
	fputs("{\"file\": ", f);
	json_str(f, name);
	fputs(", \"command\": ", f);
	json_str(f, r->command);
	fprintf(f,
		", \"duration_s\": %.3f, \"final\": %s, \"reports\": %zu, \"bytes\": %" PRIu64
		", \"regions\": %" PRIu64 ", \"sites\": %zu}",
		finite_or_zero(r->duration_s), r->final ? "true" : "false", r->objects, r->bytes,
		r->regions, r->nsites);
}

static void json_frame_out(FILE *f, const struct frame_info *fr)
{
	fputs("{\"function\": ", f);
	json_str(f, fr->function);
	fputs(", \"file\": ", f);
	json_str(f, fr->file);
	if (fr->line > 0)
		fprintf(f, ", \"line\": %d", fr->line);
	else
		fputs(", \"line\": null", f);
	fputs(", \"module\": ", f);
	json_str(f, fr->module);
	fputs(", \"module_offset\": ", f);
	if (fr->module)
		fprintf(f, "\"0x%" PRIx64 "\"}", fr->module_offset);
	else
		fputs("null}", f);
}

static void json_entry(FILE *f, const struct diff_entry *e)
{
	const struct diff_site *s = e->new_site ? e->new_site : e->old_site;

	fprintf(f,
		"{\"change\": \"%s\", \"delta_bytes\": %" PRId64 ", \"old_bytes\": %" PRIu64
		", \"new_bytes\": %" PRIu64 ", \"old_count\": %" PRIu64 ", \"new_count\": %" PRIu64
		", \"syscall\": ",
		diff_change_name(e->change), e->delta, e->old_bytes, e->new_bytes, e->old_count,
		e->new_count);
	json_str(f, s->syscall);
	fputs(", \"kind\": ", f);
	json_str(f, s->kind);
	fputs(", \"prot\": ", f);
	json_str(f, s->prot);
	fputs(", \"flags\": [", f);
	for (const char *p = s->flags; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		char one[128];

		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		fputs(p == s->flags ? "" : ", ", f);
		json_str(f, one);
		p += len + (bar ? 1 : 0);
	}
	fprintf(f, "], \"category\": ");
	json_str(f, s->category);
	fprintf(f, ", \"suppressed\": %s, \"callsite\": %zu, \"frames\": [",
		s->suppressed ? "true" : "false", s->callsite);
	for (size_t k = 0; k < s->nframes; k++) {
		fputs(k ? ", " : "", f);
		json_frame_out(f, &s->frames[k]);
	}
	fputs("]}", f);
}

static void write_json_diff(FILE *f, const struct diff_report *a, const struct diff_report *b,
			    const char *old_name, const char *new_name, const struct diff_result *r)
{
	bool first = true;

	fputs("{\"vmleak_diff\": 1, \"old\": ", f);
	json_side(f, old_name, a);
	fputs(", \"new\": ", f);
	json_side(f, new_name, b);
	fprintf(f,
		", \"old_bytes\": %" PRIu64 ", \"new_bytes\": %" PRIu64
		", \"delta_bytes\": %" PRId64 ", \"counts\": {",
		r->old_bytes, r->new_bytes, (int64_t)(r->new_bytes - r->old_bytes));
	for (int c = 0; c < DIFF_CHANGE_COUNT; c++)
		fprintf(f, "%s\"%s\": %zu", c ? ", " : "", change_names[c], r->counts[c]);
	fputs("}, \"changes\": [", f);
	for (size_t i = 0; i < r->n; i++) {
		if (r->entries[i].change == DIFF_UNCHANGED)
			continue;
		fputs(first ? "" : ", ", f);
		json_entry(f, &r->entries[i]);
		first = false;
	}
	fputs("]}\n", f);
}

int diff_write(FILE *f, enum report_format format, const struct diff_report *a,
	       const struct diff_report *b, const char *old_name, const char *new_name,
	       const struct diff_result *r, const char *cwd)
{
	if (format == REPORT_JSON)
		write_json_diff(f, a, b, old_name, new_name, r);
	else
		write_text_diff(f, a, b, old_name, new_name, r, cwd);
	if (fflush(f) || ferror(f))
		return errno > 0 ? -errno : -EIO;
	return 0;
}
