/* report/offline.c - offline symbolization (report/offline.h): reads JSON reports
 * with json-c, resolves the frames that lack a function or a line with the
 * symbolizer (by module path, recorded build-id and module offset), writes each
 * report back. A module path seen with two build-ids (a program rebuilt between
 * two processes) gets one symbolizer per build, since a symbolizer knows a path
 * once. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/grow.h"
#include "decoder/strtab.h"
#include "report/offline.h"

#define READ_CHUNK (64 * 1024)
#define MAX_DEPTH  32 /* a vmleak report nests 5 deep */

struct slot { /* one symbolizer and the module paths it knows */
	struct strtab *paths;
	struct symbolizer *sym;
	uint32_t max_id;
};

struct entry { /* a (build-id, path) pair: where it is looked up */
	uint32_t slot, module;
};

struct offline {
	const struct offline_options *o;
	const char *name;
	char *err;
	size_t errlen;
	struct slot *slots;
	size_t nslots, slots_cap;
	struct strtab *keys; /* "BUILDID:PATH" -> index into entries */
	struct entry *entries;
	size_t nentries, entries_cap;
	long resolved;
	/* where we are, for error messages */
	size_t report, site, frame;
};

static void fail(struct offline *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct offline *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, c->errlen, "vmleak: %s: ", c->name);

	if (n < 0 || (size_t)n >= c->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
}

/* "report 2, site 5, frame 1: " for the frame being read */
static void fail_frame(struct offline *c, const char *what)
{
	fail(c, "report %zu, site %zu, frame %zu: %s", c->report, c->site, c->frame, what);
}

/* ---- modules ---- */

static int new_slot(struct offline *c)
{
	struct slot *v = grow_array(c->slots, &c->slots_cap, c->nslots + 1, sizeof(*v), 4);
	struct slot *s;

	if (!v)
		return -1;
	c->slots = v;
	s = &v[c->nslots];
	*s = (struct slot){.paths = strtab_new()};
	if (s->paths)
		s->sym = symbolizer_new(NULL, s->paths, NULL);
	if (!s->sym || symbolizer_set_debug_dirs(s->sym, c->o->debug_dirs, c->o->ndebug_dirs)) {
		symbolizer_free(s->sym);
		strtab_free(s->paths);
		return -1;
	}
	symbolizer_set_progress(s->sym, c->o->progress, c->o->progress_ctx);
	c->nslots++;
	return 0;
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* "bd41...": an even number of hex digits, at most SYMBOLIZER_MAX_BUILD_ID bytes */
static int parse_build_id(const char *hex, unsigned char *out, size_t *len)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 || n / 2 > SYMBOLIZER_MAX_BUILD_ID)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* "0x1f3a" -> 0x1f3a: what the writers print for addresses */
static int parse_address(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (strncmp(s, "0x", 2) != 0 || !s[2] || strlen(s + 2) > 16)
		return -1;
	for (s += 2; *s; s++) {
		int d = hex_value(*s);

		if (d < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* The symbolizer and module id for (path, build-id); NULL slot on no memory. */
static struct slot *module_for(struct offline *c, const char *path, const char *build_id,
			       uint32_t *module)
{
	unsigned char id[SYMBOLIZER_MAX_BUILD_ID];
	size_t idlen = 0;
	char *key;
	uint32_t k;

	if (build_id && parse_build_id(build_id, id, &idlen))
		return NULL; /* checked by the caller */
	if (asprintf(&key, "%s:%s", build_id ? build_id : "", path) < 0)
		return NULL;
	k = strtab_intern(c->keys, key);
	free(key);
	if (k == 0)
		return NULL;
	if (k <= c->nentries) {
		*module = c->entries[k - 1].module;
		return &c->slots[c->entries[k - 1].slot];
	}
	/* a new pair: the first symbolizer that does not know the path yet */
	for (size_t i = 0;; i++) {
		struct entry *v;
		uint32_t m;

		if (i == c->nslots && new_slot(c))
			return NULL;
		m = strtab_intern(c->slots[i].paths, path);
		if (m == 0)
			return NULL;
		if (m <= c->slots[i].max_id)
			continue; /* the path with another build-id */
		c->slots[i].max_id = m;
		if (idlen)
			symbolizer_set_build_id(c->slots[i].sym, m, id, idlen);
		v = grow_array(c->entries, &c->entries_cap, c->nentries + 1, sizeof(*v), 16);
		if (!v)
			return NULL;
		c->entries = v;
		v[c->nentries++] = (struct entry){(uint32_t)i, m};
		*module = m;
		return &c->slots[i];
	}
}

/* ---- one report ---- */

/* key's value when it is a string, NULL when null or absent; -1 for another type */
static int get_string(json_object *obj, const char *key, const char **out)
{
	json_object *v = NULL;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*out = json_object_get_string(v);
	return 0;
}

static bool is_null_or_absent(json_object *obj, const char *key)
{
	json_object *v = NULL;

	return !json_object_object_get_ex(obj, key, &v) || !v;
}

static int set_value(json_object *obj, const char *key, json_object *v)
{
	if (!v)
		return -1;
	return json_object_object_add(obj, key, v);
}

static int set_hex(json_object *obj, const char *key, uint64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
	return set_value(obj, key, json_object_new_string(buf));
}

static int resolve_frame(struct offline *c, json_object *frame, bool caller)
{
	const char *module, *build_id, *module_offset, *function, *offset;
	unsigned char id[SYMBOLIZER_MAX_BUILD_ID];
	struct frame_info fi;
	struct slot *slot;
	uint32_t mod;
	uint64_t off;
	size_t idlen;
	bool need_function, need_line;

	if (!json_object_is_type(frame, json_type_object)) {
		fail_frame(c, "not an object");
		return -1;
	}
	if (get_string(frame, "module", &module) || get_string(frame, "build_id", &build_id) ||
	    get_string(frame, "module_offset", &module_offset) ||
	    get_string(frame, "function", &function) || get_string(frame, "offset", &offset)) {
		fail_frame(c, "\"module\", \"build_id\", \"module_offset\", \"function\" and "
			      "\"offset\" must be strings or null");
		return -1;
	}
	if (build_id && parse_build_id(build_id, id, &idlen)) {
		fail_frame(c, "\"build_id\" is not an even number of hex digits");
		return -1;
	}
	if (module_offset && parse_address(module_offset, &off)) {
		fail_frame(c, "\"module_offset\" is not a 0x... hex address");
		return -1;
	}
	if (!module_offset && !function && offset) {
		/* older reports: without a function, "offset" is the module offset */
		if (parse_address(offset, &off)) {
			fail_frame(c, "\"offset\" is not a 0x... hex address");
			return -1;
		}
		module_offset = offset;
	}
	need_function = !function;
	need_line = is_null_or_absent(frame, "line");
	if (!module || !*module || !module_offset || (!need_function && !need_line))
		return 0;
	slot = module_for(c, module, build_id, &mod);
	if (!slot) {
		fail(c, "out of memory");
		return -1;
	}
	symbolizer_lookup(slot->sym, mod, off, caller, &fi);
	if (need_function && fi.function) {
		if (set_value(frame, "function", json_object_new_string(fi.function)) ||
		    set_hex(frame, "offset", fi.offset))
			goto oom;
	}
	if (need_line && fi.file && fi.line > 0) {
		if (set_value(frame, "file", json_object_new_string(fi.file)) ||
		    set_value(frame, "line", json_object_new_int(fi.line)))
			goto oom;
	}
	if ((need_function && fi.function) || (need_line && fi.file && fi.line > 0))
		c->resolved++;
	return 0;
oom:
	fail(c, "out of memory");
	return -1;
}

static int resolve_report(struct offline *c, json_object *report)
{
	json_object *v = NULL, *sites = NULL;

	if (!json_object_is_type(report, json_type_object) ||
	    !json_object_object_get_ex(report, "vmleak", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) != 1) {
		fail(c, "report %zu: not a vmleak JSON report (schema 1)", c->report);
		return -1;
	}
	if (!json_object_object_get_ex(report, "sites", &sites) ||
	    !json_object_is_type(sites, json_type_array)) {
		fail(c, "report %zu: \"sites\" is not an array", c->report);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(sites); i++) {
		json_object *site = json_object_array_get_idx(sites, i), *frames = NULL;

		c->site = i + 1;
		if (!json_object_is_type(site, json_type_object) ||
		    !json_object_object_get_ex(site, "frames", &frames) ||
		    !json_object_is_type(frames, json_type_array)) {
			fail(c, "report %zu, site %zu: not an object with a \"frames\" array",
			     c->report, c->site);
			return -1;
		}
		for (size_t j = 0; j < json_object_array_length(frames); j++) {
			c->frame = j + 1;
			if (resolve_frame(c, json_object_array_get_idx(frames, j), j > 0))
				return -1;
		}
	}
	return 0;
}

static int write_report(struct offline *c, json_object *report, FILE *out)
{
	const char *text = json_object_to_json_string_ext(
		report, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!text || fputs(text, out) == EOF || fputc('\n', out) == EOF) {
		fail(c, "writing the report: %s", strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

/* ---- the input ---- */

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

long offline_symbolize(FILE *in, const char *name, FILE *out, const struct offline_options *o,
		       char *err, size_t errlen)
{
	struct offline c = {.o = o, .name = name, .err = err, .errlen = errlen};
	json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
	char *buf = malloc(READ_CHUNK);
	bool inside = false; /* the tokener holds part of a value */
	size_t consumed = 0; /* bytes before buf */
	long rc = -1;

	c.keys = strtab_new();
	if (!tok || !buf || !c.keys) {
		fail(&c, "out of memory");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					    JSON_TOKENER_VALIDATE_UTF8);
	for (;;) {
		size_t n = fread(buf, 1, READ_CHUNK, in), pos = 0;

		if (n == 0) {
			if (ferror(in)) {
				fail(&c, "read error: %s", strerror(errno ? errno : EIO));
				goto out;
			}
			break;
		}
		while (pos < n) {
			enum json_tokener_error e;
			json_object *report;
			size_t used;

			if (!inside && blank(buf[pos])) {
				pos++;
				continue;
			}
			report = json_tokener_parse_ex(tok, buf + pos, (int)(n - pos));
			e = json_tokener_get_error(tok);
			used = json_tokener_get_parse_end(tok);
			if (e == json_tokener_continue) {
				inside = true;
				pos = n;
				break;
			}
			if (e != json_tokener_success) {
				fail(&c, "not JSON at byte %zu: %s", consumed + pos + used + 1,
				     json_tokener_error_desc(e));
				goto out;
			}
			inside = false;
			pos += used;
			json_tokener_reset(tok);
			c.report++;
			c.site = c.frame = 0;
			if (resolve_report(&c, report) || write_report(&c, report, out)) {
				json_object_put(report);
				goto out;
			}
			json_object_put(report);
		}
		consumed += n;
	}
	if (inside) {
		fail(&c, "ends inside a JSON value (cut short?)");
		goto out;
	}
	if (c.report == 0) {
		fail(&c, "empty: not a vmleak JSON report");
		goto out;
	}
	rc = c.resolved;
out:
	if (tok)
		json_tokener_free(tok);
	free(buf);
	for (size_t i = 0; i < c.nslots; i++) {
		symbolizer_free(c.slots[i].sym);
		strtab_free(c.slots[i].paths);
	}
	free(c.slots);
	free(c.entries);
	strtab_free(c.keys);
	return rc;
}
