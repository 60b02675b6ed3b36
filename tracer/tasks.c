/* tracer/tasks.c - the task table (tid -> task), address-space lifetime and
 * snapshots of unmatched regions, the tid -> tgid history the report uses, and
 * the out-of-memory rule (tracer_oom, docs/safety.md "Out of memory"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "decoder/grow.h"
#include "report/symbolize.h"
#include "tracer/affinity.h"
#include "tracer/growth.h"
#include "tracer/procfs.h"
#include "tracer/tracer.h"
#include "tracer/unwind.h"

struct tid_map {
	pid_t *tid;
	pid_t *tgid;
	size_t size, used;
};

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint32_t tracer_time_ms(const struct tracer *t)
{
	double ms = (now_seconds() - t->start) * 1000.0;

	return ms < 0 ? 0 : ms > 4e9 ? 4000000000u : (uint32_t)ms;
}

static size_t tid_hash(pid_t tid, size_t size)
{
	return ((uint32_t)tid * 2654435761u) & (size - 1);
}

static int tid_map_grow(struct tid_map *m)
{
	size_t nsize = m->size ? m->size * 2 : 1024;
	pid_t *ntid = calloc(nsize, sizeof(*ntid));
	pid_t *ntgid = calloc(nsize, sizeof(*ntgid));

	if (!ntid || !ntgid) {
		free(ntid);
		free(ntgid);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->size; i++) {
		if (!m->tid[i])
			continue;
		size_t j = tid_hash(m->tid[i], nsize);
		while (ntid[j])
			j = (j + 1) & (nsize - 1);
		ntid[j] = m->tid[i];
		ntgid[j] = m->tgid[i];
	}
	free(m->tid);
	free(m->tgid);
	m->tid = ntid;
	m->tgid = ntgid;
	m->size = nsize;
	return 0;
}

void tid_remember(struct tracer *t, pid_t tid, pid_t tgid)
{
	struct tid_map *m = t->tids;

	if ((m->used + 1) * 2 > m->size && tid_map_grow(m)) {
		tracer_oom(t, "thread table");
		return;
	}
	size_t j = tid_hash(tid, m->size);
	while (m->tid[j] && m->tid[j] != tid)
		j = (j + 1) & (m->size - 1);
	if (!m->tid[j])
		m->used++;
	m->tid[j] = tid;
	m->tgid[j] = tgid;
}

pid_t tid_lookup(const struct tracer *t, pid_t tid)
{
	const struct tid_map *m = t->tids;

	if (!m->size)
		return tid;
	size_t j = tid_hash(tid, m->size);
	while (m->tid[j]) {
		if (m->tid[j] == tid)
			return m->tgid[j];
		j = (j + 1) & (m->size - 1);
	}
	return tid;
}

int tracer_init(struct tracer *t, struct options *opt)
{
	memset(t, 0, sizeof(*t));
	t->opt = opt;
	t->hsize = 256;
	t->htab = calloc(t->hsize, sizeof(*t->htab));
	t->tids = calloc(1, sizeof(*t->tids));
	t->paths = strtab_new();
	t->stacks = stacks_new();
	t->history = history_new();
	t->start = now_seconds();
	t->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	if (!t->htab || !t->tids || !t->paths || !t->stacks || !t->history)
		return -ENOMEM;
	return 0;
}

void tracer_oom(struct tracer *t, const char *what)
{
	if (!t->oom)
		t->oom = what;
	if (!t->launch)
		t->stop_requested = true; /* detach: the loop ends at its next turn */
}

static void space_free(struct addr_space *as)
{
	if (as->uw)
		unwinder_free(as->uw);
	ledger_free(as->ledger);
	residency_free(&as->res);
	free(as->exited_sps);
	free(as);
}

void tracer_destroy(struct tracer *t)
{
	for (size_t i = 0; t->htab && i < t->hsize; i++) {
		struct task *tk = t->htab[i];
		while (tk) {
			struct task *next = tk->hnext;
			region_vec_free(&tk->pending);
			free(tk);
			tk = next;
		}
	}
	free(t->htab);
	while (t->spaces) {
		struct addr_space *next = t->spaces->next_all;
		space_free(t->spaces);
		t->spaces = next;
	}
	if (t->tids) {
		free(t->tids->tid);
		free(t->tids->tgid);
		free(t->tids);
	}
	for (size_t i = 0; i < t->nprocs; i++)
		free((char *)t->procs[i].exe);
	free(t->procs);
	free(t->mismatches);
	symbolizer_free(t->sym);
	affinity_free(t->aff);
	strtab_free(t->paths);
	stacks_free(t->stacks);
	history_free(t->history);
	growth_free(t->growth);
}

struct task *task_find(struct tracer *t, pid_t tid)
{
	struct task *tk = t->htab[(uint32_t)tid & (t->hsize - 1)];

	while (tk && tk->tid != tid)
		tk = tk->hnext;
	return tk;
}

static void task_table_grow(struct tracer *t)
{
	size_t nsize = t->hsize * 2;
	struct task **n = calloc(nsize, sizeof(*n));

	if (!n)
		return;
	for (size_t i = 0; i < t->hsize; i++) {
		struct task *tk = t->htab[i];
		while (tk) {
			struct task *next = tk->hnext;
			size_t j = (uint32_t)tk->tid & (nsize - 1);
			tk->hnext = n[j];
			n[j] = tk;
			tk = next;
		}
	}
	free(t->htab);
	t->htab = n;
	t->hsize = nsize;
}

struct task *task_add(struct tracer *t, pid_t tid, pid_t tgid)
{
	struct task *tk = calloc(1, sizeof(*tk));

	if (!tk)
		return NULL;
	if (t->ntasks + 1 > t->hsize)
		task_table_grow(t);
	tk->tid = tid;
	tk->tgid = tgid;
	tk->state = TASK_STOPPED;
	size_t j = (uint32_t)tid & (t->hsize - 1);
	tk->hnext = t->htab[j];
	t->htab[j] = tk;
	t->ntasks++;
	tid_remember(t, tid, tgid);
	return tk;
}

void task_remove(struct tracer *t, struct task *tk)
{
	struct task **pp = &t->htab[(uint32_t)tk->tid & (t->hsize - 1)];

	while (*pp && *pp != tk)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = tk->hnext;
	t->ntasks--;
	region_vec_free(&tk->pending);
	free(tk);
}

struct addr_space *space_new(struct tracer *t, pid_t pid, struct ledger *l)
{
	struct addr_space *as = calloc(1, sizeof(*as));

	if (!as)
		return NULL;
	as->ledger = l ? l : ledger_new();
	if (!as->ledger) {
		free(as);
		return NULL;
	}
	as->pid = pid;
	as->next_all = t->spaces;
	t->spaces = as;
	return as;
}

void space_use(struct addr_space *as)
{
	as->users++;
	as->live_users++;
}

/* Forget as. Its fork children now descend from its own parent: the originals
 * it held are gone with it, so their copies count where no older ancestor has them. */
static void space_unlink(struct tracer *t, struct addr_space *as)
{
	struct addr_space **pp = &t->spaces;

	for (struct addr_space *o = t->spaces; o; o = o->next_all)
		if (o->parent == as)
			o->parent = as->parent;
	while (*pp && *pp != as)
		pp = &(*pp)->next_all;
	if (*pp)
		*pp = as->next_all;
}

/* A task stops using as (death, or exec into a new mm). report = its regions
 * count as unmatched when this was the last user (not for exec). */
void space_release(struct tracer *t, struct addr_space *as, bool report)
{
	if (--as->users > 0)
		return;
	if (report && !as->snapshotted)
		space_snapshot(t, as, false);
	if (report && as->snapshotted && !as->ignored) {
		/* keep the frozen ledger for the report; the unwinder is done */
		unwinder_free(as->uw);
		as->uw = NULL;
		return;
	}
	space_unlink(t, as);
	space_free(as);
}

void proc_remember(struct tracer *t, pid_t pid)
{
	for (size_t i = 0; i < t->nprocs; i++)
		if (t->procs[i].pid == pid)
			return;
	struct report_process *p =
		grow_array(t->procs, &t->capprocs, t->nprocs + 1, sizeof(*p), 64);
	if (!p) {
		tracer_oom(t, "process list");
		return;
	}
	t->procs = p;
	t->procs[t->nprocs].pid = pid;
	t->procs[t->nprocs].exe = procfs_exe(pid);
	t->nprocs++;
}

static void add_mismatches(struct tracer *t, pid_t pid, const struct maps_mismatch *mm, size_t n,
			   size_t checked)
{
	struct verify_mismatch *v;

	t->verify_checked += checked;
	if (!n)
		return;
	v = grow_array(t->mismatches, &t->capmismatches, t->nmismatches + n, sizeof(*v), 64);
	if (!v) {
		tracer_oom(t, "--verify results");
		return;
	}
	t->mismatches = v;
	for (size_t i = 0; i < n; i++) {
		v[t->nmismatches].pid = pid;
		v[t->nmismatches].start = mm[i].start;
		v[t->nmismatches].end = mm[i].end;
		v[t->nmismatches].problem = mm[i].problem;
		t->nmismatches++;
	}
}

/* Freeze as's ledger for the final report (its last task is exiting); with
 * verify (the mm is still alive), compare the ledger with /proc/PID/maps. */
void space_snapshot(struct tracer *t, struct addr_space *as, bool verify)
{
	if (as->snapshotted || as->ignored)
		return;
	/* at its exit stop the memory is still there: the report's resident
	 * figures of an exited process are those of its last moment */
	residency_measure(as);
	as->snapshotted = true;
	if (verify && t->opt->verify) {
		struct maps_mismatch *mm = NULL;
		size_t n = 0, checked = 0;
		int err = procfs_verify(as->pid, as->ledger, &mm, &n, &checked);
		if (err == 0)
			add_mismatches(t, as->pid, mm, n, checked);
		else if (err == -ENOMEM)
			tracer_oom(t, "--verify");
		free(mm);
	}
}
