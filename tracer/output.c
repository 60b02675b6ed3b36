/* tracer/output.c - turns the tracer's state into a report (final or interim),
 * wires in symbolization and the blame rules, and draws the live status line. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decoder/grow.h"
#include "report/report.h"
#include "report/rules.h"
#include "report/symbolize.h"
#include "tracer/growth.h"
#include "tracer/kevents.h"
#include "tracer/signals.h"
#include "tracer/tracer.h"

struct live_ctx {
	struct tracer *t;
	struct addr_space *as; /* the space being gathered */
	const struct region **v;
	size_t n, cap;
	/* v[first, first + n) are the traced regions of one address space, in
	 * ledger order: their figures are rows 0..n of its residency table */
	struct res_slice {
		size_t first, n;
		const struct res_table *tab;
	} * slices;
	size_t nslices, capslices;
	struct region_vec copies; /* inherited copies that count, attributed to their pid */
	/* copies_res[i]: copies.v[i]'s figure (resident UINT64_MAX: none); the
	 * copies are v[copies_first...] once gathered */
	struct region_residency *copies_res;
	size_t copies_rescap, copies_first;
	size_t inherited;	/* fork copies of the address space being gathered, so far */
	size_t inherited_total; /* and in all */
	struct region_vec scratch[2];
	size_t dead_thread_stacks;
	int32_t *exited_pids; /* attach mode: processes that exited in the window */
	size_t nexited, capexited;
};

static int push_ptr(struct live_ctx *c, const struct region *r)
{
	const struct region **nv = grow_array(c->v, &c->cap, c->n + 1, sizeof(*nv), 256);

	if (!nv)
		return -ENOMEM;
	c->v = nv;
	c->v[c->n++] = r;
	return 0;
}

/* The same creation seen in two address spaces: a fork copy and its original. */
static bool same_creation(const struct region *a, const struct region *b)
{
	return a->site == b->site && a->time_ms == b->time_ms && a->tid == b->tid &&
	       a->op == b->op && a->kind == b->kind;
}

static int push_piece(struct region_vec *out, const struct region *proto, uint64_t start,
		      uint64_t end)
{
	struct region p = *proto;

	p.start = start;
	p.end = end;
	return region_vec_push(out, &p);
}

/* Cut out of each piece in *in the pages where l holds the same creation as r;
 * what remains goes to *out. */
static int subtract_held(const struct ledger *l, const struct region *r,
			 const struct region_vec *in, struct region_vec *out)
{
	region_vec_reset(out);
	for (size_t i = 0; i < in->n; i++) {
		const struct region *p = &in->v[i];
		uint64_t cur = p->start;

		for (const struct region *q = ledger_first_after(l, cur); q && q->start < p->end;
		     q = ledger_first_after(l, q->end)) {
			if (!same_creation(q, r))
				continue;
			if (q->start > cur && push_piece(out, p, cur, q->start))
				return -ENOMEM;
			if (q->end > cur)
				cur = q->end;
		}
		if (cur < p->end && push_piece(out, p, cur, p->end))
			return -ENOMEM;
	}
	return 0;
}

/* A fork copy counts only for the pages no ancestor still holds (a leak is counted
 * once, where it was made); those pieces are the child's, under its pid. */
static int add_inherited(struct live_ctx *c, const struct region *r)
{
	struct region_vec *cur = &c->scratch[0], *next = &c->scratch[1];
	struct region piece = *r;
	size_t row = c->inherited++;

	region_vec_reset(cur);
	piece.tid = c->as->pid;
	if (region_vec_push(cur, &piece))
		return -ENOMEM;
	for (const struct addr_space *a = c->as->parent; a && cur->n; a = a->parent) {
		if (subtract_held(a->ledger, r, cur, next))
			return -ENOMEM;
		struct region_vec *tmp = cur;
		cur = next;
		next = tmp;
	}
	for (size_t i = 0; i < cur->n; i++) {
		struct region_residency *res = grow_array(c->copies_res, &c->copies_rescap,
							  c->copies.n + 1, sizeof(*res), 16);

		if (!res)
			return -ENOMEM;
		c->copies_res = res;
		/* the copy's own row in its table: a figure for the whole region only */
		if (cur->v[i].start != r->start || cur->v[i].end != r->end ||
		    c->as->res.ninherited != c->inherited_total ||
		    !residency_at(&c->as->res, c->as->res.n + row, &res[c->copies.n]))
			res[c->copies.n] = (struct region_residency){UINT64_MAX, UINT64_MAX};
		if (region_vec_push(&c->copies, &cur->v[i]))
			return -ENOMEM;
	}
	return 0;
}

static int add_region(const struct region *r, void *arg)
{
	struct live_ctx *c = arg;

	if (r->origin == REGION_PREEXISTING)
		return 0;
	if (r->origin == REGION_INHERITED)
		return add_inherited(c, r);
	return push_ptr(c, r);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Of as's regions v[0..n), those that hold the stack pointer one of its threads
 * had when it started, for threads that exited before their process: the stacks
 * glibc keeps for exited threads. */
static size_t count_exited_thread_stacks(struct addr_space *as, const struct region *const *v,
					 size_t n)
{
	size_t count = 0;

	if (!as->nexited)
		return 0;
	qsort(as->exited_sps, as->nexited, sizeof(uint64_t), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		const struct region *r = v[i];
		size_t lo = 0, hi = as->nexited;
		while (lo < hi) { /* first sp >= start */
			size_t mid = lo + (hi - lo) / 2;
			if (as->exited_sps[mid] < r->start)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < as->nexited && as->exited_sps[lo] < r->end)
			count++;
	}
	return count;
}

static int add_exited_pid(struct live_ctx *c, int32_t pid)
{
	int32_t *v = grow_array(c->exited_pids, &c->capexited, c->nexited + 1, sizeof(*v), 16);

	if (!v)
		return -ENOMEM;
	c->exited_pids = v;
	c->exited_pids[c->nexited++] = pid;
	return 0;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static int add_slice(struct live_ctx *c, size_t first, const struct res_table *tab)
{
	struct res_slice *v;

	/* a table of another ledger state (it changed since) gives no figures */
	if (c->n == first || !tab->measured || tab->n != c->n - first)
		return 0;
	v = grow_array(c->slices, &c->capslices, c->nslices + 1, sizeof(*v), 16);
	if (!v)
		return -ENOMEM;
	c->slices = v;
	c->slices[c->nslices++] = (struct res_slice){first, c->n - first, tab};
	return 0;
}

/* report_data.residency: the figure of v[i] (a fork-copy piece, gathered last,
 * has one when it is its whole region). */
static bool residency_of(void *ctx, size_t i, struct region_residency *out)
{
	const struct live_ctx *c = ctx;
	size_t lo = 0, hi = c->nslices;

	if (i >= c->copies_first && i - c->copies_first < c->copies.n) {
		*out = c->copies_res[i - c->copies_first];
		return out->resident != UINT64_MAX;
	}
	while (lo < hi) { /* the last slice that starts at or before i */
		size_t mid = lo + (hi - lo) / 2;
		if (c->slices[mid].first <= i)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || i - c->slices[lo - 1].first >= c->slices[lo - 1].n)
		return false;
	return residency_at(c->slices[lo - 1].tab, i - c->slices[lo - 1].first, out);
}

static int count_one_inherited(const struct region *r, void *arg)
{
	*(size_t *)arg += r->origin == REGION_INHERITED;
	return 0;
}

/* The fork copies in as's ledger now: its table's rows match them only when
 * it was measured with as many (a table of another ledger state gives none). */
static size_t count_inherited(const struct addr_space *as)
{
	size_t n = 0;

	if (as->res.measured && as->res.ninherited)
		ledger_foreach(as->ledger, count_one_inherited, &n);
	return n;
}

/* Pointers to the regions of every address space that counts: the finished
 * ones (frozen at their last exit) and the ones still alive. Fork copies are
 * gathered last, once the copies array has stopped moving. */
static int gather_regions(struct tracer *t, struct live_ctx *c)
{
	c->t = t;
	for (struct addr_space *as = t->spaces; as; as = as->next_all) {
		if (as->ignored || (as->users <= 0 && !as->snapshotted))
			continue;
		size_t first = c->n;
		if (as->users <= 0 && !t->launch && add_exited_pid(c, tid_lookup(t, as->pid)))
			return -ENOMEM;
		c->as = as;
		c->inherited = 0;
		c->inherited_total = count_inherited(as);
		if (ledger_foreach(as->ledger, add_region, c))
			return -ENOMEM;
		if (add_slice(c, first, &as->res))
			return -ENOMEM;
		c->dead_thread_stacks += count_exited_thread_stacks(as, c->v + first, c->n - first);
	}
	c->copies_first = c->n;
	for (size_t i = 0; i < c->copies.n; i++)
		if (push_ptr(c, &c->copies.v[i]))
			return -ENOMEM;
	return 0;
}

static void live_ctx_free(struct live_ctx *c)
{
	free(c->exited_pids);
	free(c->slices);
	free(c->copies_res);
	free(c->v);
	region_vec_free(&c->copies);
	region_vec_free(&c->scratch[0]);
	region_vec_free(&c->scratch[1]);
}

static uint32_t site_key(void *ctx, uint32_t site)
{
	return stacks_canonical(ctx, site);
}

static int32_t region_pid(void *ctx, const struct region *r)
{
	return tid_lookup(ctx, r->tid);
}

/* <prefix>/share/vmleak/default.rules for a binary at <prefix>/bin/vmleak, wherever
 * the tree was installed or unpacked (the Debian package, dpkg -x, DESTDIR, a
 * relocated prefix). Fills buf and returns it when that file is readable, else NULL. */
static const char *installed_rules_near_binary(char *buf, size_t size)
{
	static const char bindir[] = "/" VMLEAK_BINDIR_REL;
	const size_t bindir_len = sizeof(bindir) - 1;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	size_t len;

	if (VMLEAK_BINDIR_REL[0] == '/' || n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0'; /* the binary's directory */
	len = strlen(exe);
	if (len < bindir_len || strcmp(exe + len - bindir_len, bindir) != 0)
		return NULL;
	exe[len - bindir_len] = '\0'; /* the prefix */
	n = snprintf(buf, size, "%s/%s/default.rules", exe, VMLEAK_RULES_DIR_REL);
	if (n < 0 || (size_t)n >= size || access(buf, R_OK) != 0)
		return NULL;
	return buf;
}

/* The blame rules and --suppressions files; NULL with err set on a bad file. The
 * default rules: $VMLEAK_RULES, else the copy installed next to this binary, else
 * the source tree's or the configured install path's (rules_default_path). */
struct rules *tracer_load_rules(const struct options *opt, char *err, size_t errlen)
{
	char why[512], near_binary[PATH_MAX];
	const char *path = getenv("VMLEAK_RULES");
	struct rules *r;

	if (!path || !*path)
		path = installed_rules_near_binary(near_binary, sizeof(near_binary));
	r = rules_load(rules_default_path(path), why, sizeof(why));

	if (!r) {
		snprintf(err, errlen, "vmleak: rules: %s", why);
		return NULL;
	}
	for (size_t i = 0; i < opt->nsuppressions; i++) {
		if (rules_add_file(r, opt->suppressions[i], true, why, sizeof(why))) {
			snprintf(err, errlen, "vmleak: suppressions: %s", why);
			rules_free(r);
			return NULL;
		}
	}
	return r;
}

/* A live process's figures are stale once a report is written: free them (an
 * exited one's stay, they are all there will ever be). */
static void forget_live_residency(struct tracer *t)
{
	for (struct addr_space *as = t->spaces; as; as = as->next_all)
		if (as->users > 0 && !as->snapshotted)
			residency_free(&as->res);
}

/* An HTML report is one document: each report replaces the previous one in a
 * regular file (the file always holds the latest whole page); elsewhere (a
 * pipe, the terminal) only the final report is written. False: skip this one. */
static bool html_output_ready(struct tracer *t, bool final)
{
	struct stat st;

	if (t->opt->format != REPORT_HTML)
		return true;
	if (fstat(fileno(t->out), &st) == 0 && S_ISREG(st.st_mode)) {
		fflush(t->out);
		if (ftruncate(fileno(t->out), 0) == 0) {
			rewind(t->out);
			return true;
		}
	}
	return final;
}

long tracer_write_report(struct tracer *t, bool final)
{
	struct live_ctx c = {0};
	struct report_data d;
	struct report_options o = {
		.format = t->opt->format,
		.min_size = t->opt->min_size,
		.min_age = t->opt->min_age,
		.all = t->opt->all,
	};
	int32_t child = t->child;
	sigset_t held;
	bool network;
	char *cwd;
	long ret;

	if (t->oom)
		return 0;      /* the trace is no longer exact: no report (main says why) */
	cwd = getcwd(NULL, 0); /* text: source paths relative to it */
	o.cwd = cwd;
	status_clear(t);
	/* live processes are measured now; exited ones were at their exit */
	for (struct addr_space *as = t->spaces; as; as = as->next_all)
		if (!as->ignored && as->users > 0 && !as->snapshotted)
			residency_measure(as);
	growth_sample(t, true, true); /* a point per report, with resident bytes */
	if (!html_output_ready(t, final)) {
		forget_live_residency(t);
		free(cwd);
		return 0;
	}
	if (gather_regions(t, &c)) {
		live_ctx_free(&c);
		free(cwd);
		return -ENOMEM;
	}
	memset(&d, 0, sizeof(d));
	d.mode = t->launch ? "launch" : "attach";
	d.command = t->launch ? t->opt->command : NULL;
	d.pids = t->launch ? &child : t->opt->pids;
	d.npids = t->launch ? 1 : t->opt->npids;
	d.duration_s = now_seconds() - t->start;
	d.final = final;
	if (t->launch && t->child_exited) {
		d.has_exit = true;
		d.exit_pid = t->child;
		if (WIFSIGNALED(t->child_status))
			d.exit_signal = WTERMSIG(t->child_status);
		else
			d.exit_code = WEXITSTATUS(t->child_status);
	}
	memcpy(d.events, t->events, sizeof(d.events));
	d.failed = t->failed;
	d.regions = c.v;
	d.nregions = c.n;
	d.residency = residency_of;
	d.residency_ctx = &c;
	d.pid_of = region_pid;
	d.pid_ctx = t;
	d.procs = t->procs;
	d.nprocs = t->nprocs;
	d.paths = t->paths;
	if (!t->launch) {
		d.event_source = t->kev ? "kernel" : "ptrace";
		d.event_source_note = t->events_note;
		d.lost_events = t->kev ? kevents_lost(t->kev) : t->lost_events;
	}
	d.site_key = site_key;
	d.site_ctx = t->stacks;
	d.verify = t->opt->verify && final;
	d.verify_checked = t->verify_checked;
	d.mismatches = t->mismatches;
	d.nmismatches = t->nmismatches;
	/* kept across interim reports: each PC is symbolized once per session */
	if (t->opt->depth > 0 && !t->sym) {
		t->sym = tracer_symbolizer(t->opt, t->debug_dirs, t->ndebug_dirs, t->stacks,
					   t->paths, t->rules);
		if (!t->sym) {
			live_ctx_free(&c);
			free(cwd);
			return -ENOMEM;
		}
	}
	if (t->sym) {
		d.resolve = symbolizer_resolve;
		d.resolve_ctx = t->sym;
	}
	d.dead_thread_stacks = c.dead_thread_stacks;
	if (c.nexited)
		qsort(c.exited_pids, c.nexited, sizeof(*c.exited_pids), cmp_i32);
	d.exited_pids = c.exited_pids;
	d.nexited_pids = c.nexited;
	o.hide_exited = !t->opt->exited;
	d.history = t->history;
	/* every site's key first: a report with sites left unmerged is not written */
	for (uint32_t id = 1; id <= stacks_count(t->stacks); id++)
		stacks_canonical(t->stacks, id);
	if (stacks_error(t->stacks)) {
		live_ctx_free(&c);
		free(cwd);
		return -ENOMEM;
	}
	/* debuginfod only for the final report: nothing waits for it then, while
	 * an interim report holds up every traced thread at its next syscall */
	network = final && t->sym && t->debuginfod_urls;
	if (network) {
		symbolizer_forget_missing(t->sym); /* what interim reports missed */
		setenv("DEBUGINFOD_URLS", t->debuginfod_urls, 1);
	}
	signals_hold(&held);
	ret = report_write(t->out, &d, &o);
	if (network)
		unsetenv("DEBUGINFOD_URLS");
	fflush(t->out);
	signals_release(&held);
	forget_live_residency(t);
	live_ctx_free(&c);
	free(cwd);
	return ret;
}

static bool status_enabled(const struct tracer *t)
{
	return !t->opt->quiet && isatty(STDERR_FILENO);
}

static double last_status;
static bool status_shown;

/* How long a debuginfod download runs before the status line tells about it. */
#define DOWNLOAD_NOTE_SECONDS 0.5

/* symbolizer_progress_fn: a note on the status line while a slow download runs. */
void tracer_download_note(void *ctx, const char *module, long done, long total, double seconds)
{
	const struct options *opt = ctx;
	const char *base = module ? strrchr(module, '/') : NULL;
	char line[512], got[32], all[48] = "";
	int n;

	if (!module) {
		status_clear(NULL);
		return;
	}
	if (opt->quiet || !isatty(STDERR_FILENO) || seconds < DOWNLOAD_NOTE_SECONDS)
		return;
	report_format_size(got, sizeof(got), done > 0 ? (uint64_t)done : 0);
	if (total > 0) {
		char size[32];

		report_format_size(size, sizeof(size), (uint64_t)total);
		snprintf(all, sizeof(all), " of %s", size);
	}
	n = snprintf(line, sizeof(line),
		     "\rvmleak: downloading debug info for %s from debuginfod: %s%s (%.0f s)\033[K",
		     base ? base + 1 : module, got, all, seconds);
	if (n > 0 &&
	    write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) > 0)
		status_shown = true;
}

struct symbolizer *tracer_symbolizer(const struct options *opt, char *const *debug_dirs,
				     size_t ndebug_dirs, const struct stack_table *stacks,
				     const struct strtab *modules, const struct rules *rules)
{
	struct symbolizer *s = symbolizer_new(stacks, modules, rules);

	if (!s)
		return NULL;
	if (symbolizer_set_debug_dirs(s, (const char *const *)debug_dirs, ndebug_dirs)) {
		symbolizer_free(s);
		return NULL;
	}
	symbolizer_set_progress(s, tracer_download_note, (void *)opt);
	return s;
}

void status_update(struct tracer *t, bool force)
{
	char line[256], size[32];
	uint64_t regions = 0, bytes = 0, events = 0;
	size_t procs = 0;
	double now = now_seconds();

	if (!status_enabled(t) || (!force && now - last_status < 0.25))
		return;
	last_status = now;
	for (struct addr_space *as = t->spaces; as; as = as->next_all) {
		if (as->ignored || as->users <= 0)
			continue; /* alive ones only */
		procs++;
		regions += ledger_count(as->ledger);
		bytes += ledger_bytes(as->ledger);
	}
	for (int i = 0; i < MEM_OP_COUNT; i++)
		events += t->events[i];
	report_format_size(size, sizeof(size), bytes);
	int n = snprintf(
		line, sizeof(line),
		"\rvmleak: %.1f s, %zu address spaces, %llu events, %llu live regions (%s)\033[K",
		now - t->start, procs, (unsigned long long)events, (unsigned long long)regions,
		size);
	if (n > 0 && write(STDERR_FILENO, line, n) > 0)
		status_shown = true;
}

void status_clear(struct tracer *t)
{
	(void)t;
	if (status_shown) {
		ssize_t unused = write(STDERR_FILENO, "\r\033[K", 4);
		(void)unused;
		status_shown = false;
	}
}
