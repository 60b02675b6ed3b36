/* tracer/unwind.c - remote unwinding (tracer/unwind.h): the dispatch to one
 * backend per file behind struct unwind_backend (tracer/unwind_priv.h):
 * tracer/unwind_libdw.c (the default) and tracer/unwind_libunwind.c. Both share the
 * module map (tracer/modmap.c) used to describe frames. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracer/procfs.h"
#include "tracer/unwind_priv.h"

static struct unwinder *unwinder_create(enum unwinder_kind kind, pid_t pid, struct strtab *modules,
					bool sampled)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->sampled = sampled;
	/* the x86_64 libunwind cannot unwind i386 tracees; libdw can */
	if (kind == UNWINDER_LIBUNWIND && procfs_exe_is_32bit(pid))
		kind = UNWINDER_LIBDW;
	u->kind = kind;
	u->backend = kind == UNWINDER_LIBDW ? &unwind_libdw : &unwind_libunwind;
	u->pid = pid;
	u->modules_tab = modules;
	u->gen = 1;
	u->tid = pid;
	if (refresh_modules(u))
		goto fail;
	if (u->backend->init(u))
		goto fail;
	return u;
fail:
	unwinder_free(u);
	return NULL;
}

struct unwinder *unwinder_new(enum unwinder_kind kind, pid_t pid, struct strtab *modules)
{
	return unwinder_create(kind, pid, modules, false);
}

struct unwinder *unwinder_new_sampled(enum unwinder_kind kind, pid_t pid, struct strtab *modules)
{
	return unwinder_create(kind, pid, modules, true);
}

void unwinder_free(struct unwinder *u)
{
	if (!u)
		return;
	drop_modules(u);
	u->backend->fini(u);
	free(u);
}

unsigned unwinder_capture(struct unwinder *u, pid_t tid, uint64_t *pcs, unsigned max)
{
	unsigned n;

	if (!u || max == 0)
		return 0;
	u->stats.captures++;
	u->tid = tid; /* stopped and alive: the tgid may be a zombie leader */
	if (u->stale)
		refresh_modules(u);
	u->gen++; /* the tracee ran since the last capture: forget its memory */
	u->regs_valid = false;
	n = u->backend->capture(u, pcs, max);
	return n;
}

void unwinder_warm_up(struct unwinder *u)
{
	if (u && u->backend->warm_up)
		u->backend->warm_up(u);
}

unsigned unwinder_capture_sample(struct unwinder *u, pid_t tid, const struct unwind_sample *s,
				 uint64_t *pcs, unsigned max)
{
	const uint64_t *r = s->regs;
	unsigned n;

	if (!u || !u->sampled || max == 0)
		return 0;
	u->stats.captures++;
	u->tid = tid; /* it may have exited since: reads fall back to u->pid */
	if (u->stale)
		refresh_modules(u);
	u->gen++;
	u->regs = (struct user_regs_struct){
		.rax = r[0],
		.rbx = r[1],
		.rcx = r[2],
		.rdx = r[3],
		.rsi = r[4],
		.rdi = r[5],
		.rbp = r[6],
		.rsp = r[7],
		.rip = r[8],
		.r8 = r[9],
		.r9 = r[10],
		.r10 = r[11],
		.r11 = r[12],
		.r12 = r[13],
		.r13 = r[14],
		.r14 = r[15],
		.r15 = r[16],
	};
	u->regs_valid = true;
	u->stack = s->stack;
	u->stack_lo = r[7];
	u->stack_len = s->stack ? s->stack_len : 0;
	n = u->backend->capture(u, pcs, max);
	u->stack = NULL;
	u->stack_len = 0;
	u->regs_valid = false;
	return n;
}

void unwinder_describe(struct unwinder *u, struct stack_table *t, uint32_t id)
{
	const struct stack_frame *frames;
	unsigned n = stacks_get(t, id, &frames);

	if (!u)
		return;
	if (u->stale)
		refresh_modules(u);
	for (unsigned i = 0; i < n; i++) {
		uint64_t pc = frames[i].pc;
		/* a return address may sit just past its module's last byte */
		struct module *m = module_at(u, i ? pc - 1 : pc);

		if (m)
			stacks_set_module(t, id, i, m->path, pc - m->bias, m->build_id);
	}
}

void unwinder_get_stats(const struct unwinder *u, struct unwinder_stats *out)
{
	*out = u->stats;
}

int unwinder_error(const struct unwinder *u)
{
	return u->oom ? -ENOMEM : 0;
}

enum unwinder_kind unwinder_get_kind(const struct unwinder *u)
{
	return u->kind;
}
