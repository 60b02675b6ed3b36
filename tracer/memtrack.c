/* tracer/memtrack.c - applies memory syscalls to the ledgers. Removals (munmap,
 * shmdt, a moving mremap's old range) happen at the entry (or seccomp) stop and
 * are put back if the call fails; creations happen at the exit stop with the
 * returned address, so a thread whose mmap reuses addresses another thread just
 * freed is never erased. Also writes --log lines and takes backtraces. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/uio.h>
#include <unistd.h>

#include "decoder/format.h"
#include "tracer/kevents.h"
#include "tracer/procfs.h"
#include "tracer/signals.h"
#include "tracer/tracer.h"
#include "tracer/unwind.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_MASK
#define MAP_HUGE_MASK 0x3f
#endif

/* mem_reader_fn over a stopped tracee: process_vm_readv, PEEKDATA fallback. */
static int read_tracee(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct task *tk = ctx;
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};

	if (process_vm_readv(tk->tid, &local, 1, &remote, 1, 0) == (ssize_t)len)
		return 0;
	for (size_t off = 0; off < len; off += sizeof(long)) {
		errno = 0;
		long word = ptrace(PTRACE_PEEKDATA, tk->tid, (void *)(uintptr_t)(addr + off), 0);
		if (errno)
			return -errno;
		size_t n = len - off < sizeof(long) ? len - off : sizeof(long);
		memcpy((char *)buf + off, &word, n);
	}
	return 0;
}

static void notify_unmap(struct task *tk, uint64_t start, uint64_t len);

static bool recording(const struct task *tk)
{
	return tk->as && !tk->as->ignored;
}

/* A ledger change that could not be applied exactly ends the recording. */
static void check_ledger(struct tracer *t, const struct task *tk)
{
	if (recording(tk) && ledger_error(tk->as->ledger))
		tracer_oom(t, "ledger");
}

/* x rounded up to whole pages of the traced machine. */
static uint64_t page_up(const struct tracer *t, uint64_t x)
{
	return (x + t->page_size - 1) & ~(t->page_size - 1);
}

/* In seccomp mode a munmap whose arguments the kernel accepts can fail only with
 * ENOMEM when splitting a mapping would pass vm.max_map_count. Its exit stop is
 * then worth skipping (one ptrace stop instead of two), except when the result is
 * wanted: --log prints it, --verify cross-checks everything. */
static bool munmap_needs_no_exit(const struct tracer *t, const struct mem_call *c)
{
	const uint64_t user_top = 1ULL << 47; /* x86_64 4-level paging */

	if (!t->seccomp || t->log || t->opt->verify || c->arch != VM_ARCH_X86_64)
		return false;
	if (c->addr & (t->page_size - 1) || c->len == 0 || c->len > user_top)
		return false;
	return c->addr + page_up(t, c->len) <= user_top;
}

void mem_entry(struct tracer *t, struct task *tk, uint32_t arch, uint64_t nr,
	       const uint64_t args[6])
{
	struct mem_call *c = &tk->call;

	tk->in_call = false;
	region_vec_reset(&tk->pending);
	if (t->oom) /* out of memory: nothing is recorded any more */
		return;
	if (decode_entry(arch, nr, args, read_tracee, tk, c) || c->op == MEM_NONE)
		return;
	switch (c->op) {
	case MEM_CLONE:
		tk->clone_flags = c->clone_flags;
		tk->clone_flags_known = true;
		return;
	case MEM_EXEC:
		return;
	case MEM_MUNMAP:
		if (recording(tk))
			ledger_take(tk->as->ledger, c->addr, c->len, &tk->pending);
		if (munmap_needs_no_exit(t, c)) {
			/* it cannot fail but at vm.max_map_count: save its exit stop */
			t->events[MEM_MUNMAP]++;
			if (recording(tk))
				notify_unmap(tk, c->addr, c->len);
			check_ledger(t, tk);
			region_vec_reset(&tk->pending);
			return;
		}
		break;
	case MEM_SHMDT:
		if (recording(tk))
			ledger_take_shm(tk->as->ledger, c->addr, &tk->pending);
		break;
	case MEM_MREMAP:
		if (recording(tk) && c->len)
			ledger_take(tk->as->ledger, c->addr, c->len, &tk->pending);
		break;
	default:
		break;
	}
	check_ledger(t, tk);
	tk->in_call = true;
}

void mem_abandon(struct tracer *t, struct task *tk)
{
	(void)t;
	tk->in_call = false;
	region_vec_reset(&tk->pending);
}

/* The length the kernel maps: whole pages, or whole huge pages for MAP_HUGETLB. */
static uint64_t map_length(const struct tracer *t, const struct mem_call *c)
{
	uint64_t page = t->page_size;

	if (c->op == MEM_MMAP && (c->flags & MAP_HUGETLB)) {
		unsigned shift = (c->flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
		page = shift ? 1ULL << shift : 2ULL << 20;
	}
	return (c->len + page - 1) & ~(page - 1);
}

/* Intern the stack just captured (describing its frames the first time). */
static uint32_t intern_stack(struct tracer *t, struct unwinder *uw, const uint64_t *pcs, unsigned n)
{
	bool is_new = false;
	uint32_t id = stacks_intern(t->stacks, pcs, n, &is_new);

	if (!id && n)
		tracer_oom(t, "call stacks");
	if (id && is_new)
		unwinder_describe(uw, t->stacks, id);
	if (unwinder_error(uw))
		tracer_oom(t, "unwinder");
	return id;
}

static uint32_t capture_site(struct tracer *t, struct task *tk)
{
	uint64_t pcs[CLI_MAX_DEPTH];
	unsigned depth = t->opt->depth;
	const struct unwind_sample *s = NULL;

	if (!depth)
		return 0; /* the unwinder picks libdw for a 32-bit process by itself */
	if (depth > CLI_MAX_DEPTH)
		depth = CLI_MAX_DEPTH;
	if (tk->as->kernel_events) {
		/* the thread ran on: unwind the registers and stack the kernel copied */
		s = kevents_current_sample(t->kev);
		if (!s)
			return 0;
	}
	if (!tk->as->uw) {
		errno = 0;
		tk->as->uw = s ? unwinder_new_sampled(t->opt->unwinder, tk->as->pid, t->paths)
			       : unwinder_new(t->opt->unwinder, tk->tid, t->paths);
		if (!tk->as->uw && errno == ENOMEM)
			tracer_oom(t, "unwinder");
	}
	if (!tk->as->uw)
		return 0;
	unsigned n = s ? unwinder_capture_sample(tk->as->uw, tk->tid, s, pcs, depth)
		       : unwinder_capture(tk->as->uw, tk->tid, pcs, depth);
	return intern_stack(t, tk->as->uw, pcs, n);
}

static void notify_unmap(struct task *tk, uint64_t start, uint64_t len)
{
	if (tk->as->uw && len)
		unwinder_mapping_changed(tk->as->uw, start, start + len, false);
}

static struct region proto_region(struct tracer *t, struct task *tk)
{
	const struct mem_call *c = &tk->call;
	struct region r = {
		.tid = tk->tid,
		.op = c->op,
		.time_ms = tracer_time_ms(t),
		.origin = REGION_TRACED,
	};

	switch (c->op) {
	case MEM_MMAP:
		r.prot = c->prot;
		r.flags = c->flags;
		r.kind = (c->flags & MAP_ANONYMOUS) ? REGION_ANON : REGION_FILE;
		break;
	case MEM_MREMAP: /* what an unknown old range grows into */
		r.prot = PROT_READ | PROT_WRITE;
		break;
	case MEM_BRK:
		r.prot = PROT_READ | PROT_WRITE;
		r.kind = REGION_BRK;
		break;
	case MEM_SHMAT:
		r.prot = (c->flags & SHM_RDONLY) ? PROT_READ : PROT_READ | PROT_WRITE;
		if (c->flags & SHM_EXEC)
			r.prot |= PROT_EXEC;
		r.flags = c->flags;
		r.kind = REGION_SHM;
		break;
	default:
		break;
	}
	return r;
}

static uint32_t file_path(struct tracer *t, struct task *tk, int fd, uint64_t start, uint64_t end)
{
	char buf[PATH_MAX], link[96];
	uint32_t id;
	ssize_t n;

	if (tk->as->kernel_events) {
		/* applied after the fact: the fd may be closed or reused by now, the
		 * mapping itself names its file for as long as it exists */
		snprintf(link, sizeof(link), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
			 (int)tk->as->pid, start, end);
		n = readlink(link, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			return strtab_intern(t->paths, buf);
		}
	}
	if (fd < 0 || procfs_fd_path(tk->tid, fd, buf, sizeof(buf)))
		return 0;
	id = strtab_intern(t->paths, buf);
	if (!id)
		tracer_oom(t, "file paths");
	return id;
}

static void apply_mmap(struct tracer *t, struct task *tk, uint64_t addr)
{
	const struct mem_call *c = &tk->call;
	struct region r = proto_region(t, tk);

	r.start = addr;
	r.end = addr + map_length(t, c);
	if (r.kind == REGION_FILE)
		r.path = file_path(t, tk, (int)c->fd, r.start, r.end);
	r.site = capture_site(t, tk);
	ledger_insert(tk->as->ledger, &r);
	if (!tk->as->uw)
		return;
	if ((c->prot & PROT_EXEC) && r.kind == REGION_FILE)
		unwinder_mapping_changed(tk->as->uw, r.start, r.end, true);
	else if (c->flags & MAP_FIXED) /* it may have replaced part of a module */
		unwinder_mapping_changed(tk->as->uw, r.start, r.end, false);
}

/* The segment's size as the process sees it: its own maps after the call. An
 * shmid names a segment of the caller's IPC namespace, so asking shmctl here
 * could describe another segment (a process in a container). */
static uint64_t shm_size(struct tracer *t, struct task *tk, uint64_t addr)
{
	struct maps_entry *e = NULL;
	uint64_t size = 0;
	long n = procfs_maps(tk->tid, &e);

	if (n == -ENOMEM)
		tracer_oom(t, "shm size");
	for (long i = 0; i < n; i++)
		if (e[i].start == addr)
			size = e[i].end - e[i].start;
	free(e);
	return size;
}

static void apply_success(struct tracer *t, struct task *tk, const struct mem_result *res)
{
	const struct mem_call *c = &tk->call;
	struct region r;

	switch (c->op) {
	case MEM_MMAP:
		apply_mmap(t, tk, res->value);
		break;
	case MEM_MUNMAP:
		notify_unmap(tk, c->addr, c->len);
		break;
	case MEM_SHMDT:
		for (size_t i = 0; i < tk->pending.n; i++)
			notify_unmap(tk, tk->pending.v[i].start,
				     tk->pending.v[i].end - tk->pending.v[i].start);
		break;
	case MEM_MREMAP:
		/* the region keeps what it was (the ledger copies it from the pieces
		 * taken at entry) and belongs to this, its latest resizing call */
		r = proto_region(t, tk);
		r.site = capture_site(t, tk);
		ledger_mremap_finish(tk->as->ledger, &tk->pending, c->addr, c->len, res->value,
				     c->new_len, (unsigned)c->flags, &r);
		notify_unmap(tk, c->addr, c->len);
		break;
	case MEM_BRK:
		r = proto_region(t, tk);
		if (res->value > ledger_brk_current(tk->as->ledger) &&
		    ledger_brk_start(tk->as->ledger))
			r.site = capture_site(t, tk);
		ledger_brk(tk->as->ledger, res->value, &r);
		break;
	case MEM_SHMAT:
		r = proto_region(t, tk);
		r.start = res->value;
		r.end = res->value + shm_size(t, tk, res->value);
		r.site = capture_site(t, tk);
		if (r.end > r.start)
			ledger_insert(tk->as->ledger, &r);
		break;
	default:
		break;
	}
}

static void log_call(struct tracer *t, struct task *tk, const struct mem_result *res)
{
	char line[1024];
	sigset_t held;
	int prefix;

	if (!t->log)
		return;
	prefix = snprintf(line, sizeof(line), "%d ", tk->tid);
	format_call_at(line + prefix, sizeof(line) - prefix, prefix, &tk->call, res);
	signals_hold(&held);
	fputs(line, t->log);
	fputc('\n', t->log);
	signals_release(&held);
}

void mem_exit(struct tracer *t, struct task *tk, int64_t rval, bool is_error)
{
	struct mem_result res;

	if (!tk->in_call)
		return;
	tk->in_call = false;
	if (t->oom) {
		region_vec_reset(&tk->pending);
		return;
	}
	if (decode_is_restart(rval, is_error)) {
		/* it will be restarted and seen again at a fresh entry */
		if (recording(tk))
			ledger_put_back(tk->as->ledger, &tk->pending);
		check_ledger(t, tk);
		region_vec_reset(&tk->pending);
		return;
	}
	if (decode_exit(&tk->call, rval, is_error, read_tracee, tk, &res)) {
		res.is_error = is_error;
		res.err = is_error ? (int)-rval : 0;
		res.value = (uint64_t)rval;
	}
	if (tk->as && tk->as->ignored) {
		region_vec_reset(&tk->pending);
		return;
	}
	log_call(t, tk, &res);
	if (res.is_error) {
		t->failed++;
		if (recording(tk))
			ledger_put_back(tk->as->ledger, &tk->pending);
	} else {
		t->events[tk->call.op]++;
		if (recording(tk))
			apply_success(t, tk, &res);
	}
	check_ledger(t, tk);
	region_vec_reset(&tk->pending);
}
