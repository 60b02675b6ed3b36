/* tracer/unwind.c - remote unwinding (tracer/unwind.h): the dispatch to one
 * backend per file behind struct unwind_backend (tracer/unwind_priv.h):
 * tracer/unwind_libunwind.c (default) and tracer/unwind_libdw.c. Both share the
 * module map (tracer/modmap.c) used to describe frames. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracer/unwind_priv.h"

static bool is_32bit(pid_t pid)
{
	char path[64];
	unsigned char ident[EI_NIDENT];
	int fd;
	bool r = false;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, ident, sizeof(ident)) == (ssize_t)sizeof(ident) &&
	    !memcmp(ident, ELFMAG, SELFMAG))
		r = ident[EI_CLASS] == ELFCLASS32;
	close(fd);
	return r;
}

struct unwinder *unwinder_new(enum unwinder_kind kind, pid_t pid, struct strtab *modules)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	/* the x86_64 libunwind cannot unwind i386 tracees; libdw can */
	if (kind == UNWINDER_LIBUNWIND && is_32bit(pid))
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
