/* tracer/unwind.c - remote unwinding (tracer/unwind.h). The libunwind backend
 * replaces libunwind-ptrace's slow accessors: registers from one PTRACE_GETREGS,
 * memory through a small per-capture page cache filled with process_vm_readv,
 * unwind tables through a per-address-space module map (from /proc/PID/maps,
 * re-read only when a module may have changed) with one libunwind-ptrace handle
 * per module so each keeps its parsed image. The libdw backend wraps
 * dwfl_getthread_frames. Both share the module map used to describe frames. */
#include <elf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <libunwind-ptrace.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include "tracer/unwind.h"

#define PAGE_SIZE_BYTES	 4096ULL
#define PAGE_MASK_BITS	 (~(PAGE_SIZE_BYTES - 1))
#define PAGE_CACHE_SLOTS 8

struct map_range {
	uint64_t start, end;
	size_t module; /* index into modules */
};

struct module {
	uint32_t path;	 /* strtab id */
	uint64_t bias;	 /* load bias: pc - bias = ELF address */
	uint64_t base;	 /* lowest mapping of the file */
	bool unwindable; /* a 64-bit x86 ELF image libunwind may open */
	void *upt;	 /* libunwind-ptrace handle keeping this module's image */
	uint64_t lo, hi; /* span of all its mappings */
};

struct cached_page {
	uint64_t page;
	uint64_t gen; /* valid when == unwinder gen */
	unsigned char data[PAGE_SIZE_BYTES];
};

struct unwinder {
	enum unwinder_kind kind;
	pid_t pid;
	struct strtab *modules_tab;
	/* module map */
	struct module *mods;
	size_t nmods;
	struct map_range *ranges; /* sorted by start */
	size_t nranges;
	bool stale;   /* re-read /proc/PID/maps before the next use */
	bool retried; /* an unknown IP already caused a re-read since the last change */
	/* per capture */
	pid_t tid;
	uint64_t gen;
	bool regs_valid;
	struct user_regs_struct regs;
	struct cached_page pages[PAGE_CACHE_SLOTS];
	unsigned next_victim;
	/* libunwind */
	unw_addr_space_t as;
	/* libdw */
	Dwfl *dwfl;
	bool dwfl_stale;
	struct unwinder_stats stats;
};

/* ---- the module map ---- */

static int read_remote(struct unwinder *u, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};

	u->stats.mem_reads++;
	return process_vm_readv(u->tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

/* Load bias from the ELF header mapped at the file's first mapping. */
static void probe_elf(struct unwinder *u, struct module *m, uint64_t base_offset)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	m->bias = m->base - base_offset;
	m->unwindable = false;
	if (base_offset != 0 || read_remote(u, m->base, &eh, sizeof(eh)))
		return;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(ph))
		return;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (read_remote(u, m->base + eh.e_phoff + (uint64_t)i * sizeof(ph), &ph,
				sizeof(ph)))
			return;
		if (ph.p_type == PT_LOAD) {
			m->bias = m->base - (ph.p_vaddr & PAGE_MASK_BITS);
			break;
		}
	}
	m->unwindable = true;
}

static void drop_modules(struct unwinder *u)
{
	for (size_t i = 0; i < u->nmods; i++)
		if (u->mods[i].upt)
			_UPT_destroy(u->mods[i].upt);
	free(u->mods);
	free(u->ranges);
	u->mods = NULL;
	u->ranges = NULL;
	u->nmods = u->nranges = 0;
}

static size_t find_or_add_module(struct unwinder *u, uint32_t path, size_t *cap)
{
	for (size_t i = u->nmods; i-- > 0;)
		if (u->mods[i].path == path)
			return i;
	if (u->nmods == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct module *v = realloc(u->mods, ncap * sizeof(*v));

		if (!v)
			return SIZE_MAX;
		u->mods = v;
		*cap = ncap;
	}
	u->mods[u->nmods] = (struct module){.path = path, .lo = UINT64_MAX};
	return u->nmods++;
}

static int add_range(struct unwinder *u, uint64_t start, uint64_t end, size_t mod, size_t *cap)
{
	if (u->nranges == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct map_range *v = realloc(u->ranges, ncap * sizeof(*v));

		if (!v)
			return -1;
		u->ranges = v;
		*cap = ncap;
	}
	u->ranges[u->nranges++] = (struct map_range){start, end, mod};
	return 0;
}

static bool same_file(const char *path, const struct stat *want)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

/* A path to the mapped file that the symbolizer (in our mount namespace) can open.
 * /proc/PID/maps names files as the tracee sees them: a process in another mount
 * namespace (a container) may name a file that the host does not have, or has
 * another file at. Then /proc/PID/root/PATH reaches the tracee's own file. */
static uint32_t intern_module_path(struct unwinder *u, const char *path, uint64_t start,
				   uint64_t end)
{
	char buf[PATH_MAX + 32];
	struct stat want;

	snprintf(buf, sizeof(buf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)u->tid, start,
		 end);
	if (stat(buf, &want) == 0 && !same_file(path, &want)) {
		snprintf(buf, sizeof(buf), "/proc/%d/root%s", (int)u->tid, path);
		if (same_file(buf, &want))
			return strtab_intern(u->modules_tab, buf);
	}
	return strtab_intern(u->modules_tab, path);
}

/* Re-read /proc/PID/maps. File mappings become modules (one per path); the
 * libunwind handles of modules that did not move are kept. */
static int refresh_modules(struct unwinder *u)
{
	struct module *old = u->mods;
	size_t nold = u->nmods, mcap = 0, rcap = 0;
	char fname[64], *line = NULL, last_path[PATH_MAX] = "";
	uint32_t last_id = 0;
	size_t linecap = 0;
	FILE *f;

	u->stats.maps_reads++;
	snprintf(fname, sizeof(fname), "/proc/%d/maps", (int)u->tid);
	f = fopen(fname, "re");
	if (!f)
		return -1;
	u->mods = NULL;
	u->nmods = 0;
	free(u->ranges);
	u->ranges = NULL;
	u->nranges = 0;
	while (getline(&line, &linecap, f) > 0) {
		unsigned long long start, end, off;
		int path_at = 0;
		char perms[8];
		size_t m;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &off,
			   &path_at) < 4 ||
		    path_at == 0 || (line[path_at] != '/' && strncmp(line + path_at, "[vdso]", 6)))
			continue; /* files, and the vDSO (an i386 syscall's innermost frame) */
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line + path_at, last_path)) {
			snprintf(last_path, sizeof(last_path), "%s", line + path_at);
			last_id = intern_module_path(u, last_path, start, end);
		}
		m = find_or_add_module(u, last_id, &mcap);
		if (m == SIZE_MAX || add_range(u, start, end, m, &rcap))
			break;
		if (start < u->mods[m].lo) {
			u->mods[m].lo = start;
			u->mods[m].base = start;
			probe_elf(u, &u->mods[m], off);
		}
		if (end > u->mods[m].hi)
			u->mods[m].hi = end;
	}
	free(line);
	fclose(f);
	/* keep the parsed images of modules that stayed where they were */
	for (size_t i = 0; i < nold; i++) {
		struct module *o = &old[i];
		bool kept = false;

		for (size_t j = 0; o->upt && j < u->nmods && !kept; j++) {
			struct module *n = &u->mods[j];

			if (n->path == o->path && n->base == o->base && n->bias == o->bias &&
			    !n->upt) {
				n->upt = o->upt;
				kept = true;
			}
		}
		if (o->upt && !kept)
			_UPT_destroy(o->upt);
	}
	free(old);
	u->stale = false;
	if (u->as)
		unw_flush_cache(u->as, 0, 0);
	u->dwfl_stale = true;
	return 0;
}

static const struct map_range *find_range(const struct unwinder *u, uint64_t addr)
{
	size_t lo = 0, hi = u->nranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->ranges[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr < u->ranges[lo - 1].end)
		return &u->ranges[lo - 1];
	return NULL;
}

/* The module holding addr; an unknown addr re-reads the maps once per change. */
static struct module *module_at(struct unwinder *u, uint64_t addr)
{
	const struct map_range *r = find_range(u, addr);

	if (!r && !u->retried) {
		u->retried = true;
		if (refresh_modules(u) == 0)
			r = find_range(u, addr);
	}
	return r ? &u->mods[r->module] : NULL;
}

void unwinder_mapping_changed(struct unwinder *u, uint64_t start, uint64_t end, bool exec)
{
	if (!u)
		return;
	if (exec) {
		/* a new module may explain an IP that was unknown so far */
		u->stale = true;
		u->retried = false;
		return;
	}
	for (size_t i = 0; i < u->nmods && !u->stale; i++)
		if (start < u->mods[i].hi && end > u->mods[i].lo)
			u->stale = true;
}

/* ---- libunwind accessors ---- */

/* libunwind hands our accessors the argument of whoever called them (a module's
 * UPT handle inside _UPT_find_proc_info), so the capture in progress is here. */
static __thread struct unwinder *current;

static struct cached_page *cached_page(struct unwinder *u, uint64_t page)
{
	struct cached_page *p;

	for (unsigned i = 0; i < PAGE_CACHE_SLOTS; i++)
		if (u->pages[i].gen == u->gen && u->pages[i].page == page)
			return &u->pages[i];
	p = &u->pages[u->next_victim];
	if (read_remote(u, page, p->data, PAGE_SIZE_BYTES)) {
		p->gen = 0;
		return NULL;
	}
	u->next_victim = (u->next_victim + 1) % PAGE_CACHE_SLOTS;
	p->page = page;
	p->gen = u->gen;
	return p;
}

/* PROT_NONE and other pages process_vm_readv refuses: PEEKDATA forces them. */
static int peek_word(struct unwinder *u, uint64_t addr, unw_word_t *val)
{
	long w;

	u->stats.peeks++;
	errno = 0;
	w = ptrace(PTRACE_PEEKDATA, u->tid, (void *)(uintptr_t)addr, NULL);
	if (w == -1 && errno)
		return -1;
	*val = (unw_word_t)w;
	return 0;
}

static int read_word(struct unwinder *u, uint64_t addr, unw_word_t *val)
{
	uint64_t page = addr & PAGE_MASK_BITS, in = addr - page;
	struct cached_page *p = cached_page(u, page);

	if (!p)
		return peek_word(u, addr, val);
	if (in + sizeof(*val) <= PAGE_SIZE_BYTES) {
		memcpy(val, p->data + in, sizeof(*val));
		return 0;
	}
	/* straddles two pages */
	unsigned char buf[sizeof(*val)];
	size_t first = PAGE_SIZE_BYTES - in;

	memcpy(buf, p->data + in, first);
	p = cached_page(u, page + PAGE_SIZE_BYTES);
	if (!p)
		return peek_word(u, addr, val);
	memcpy(buf + first, p->data, sizeof(buf) - first);
	memcpy(val, buf, sizeof(buf));
	return 0;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
	(void)as;
	(void)arg;
	if (write || !current)
		return -UNW_EINVAL;
	return read_word(current, addr, val) ? -UNW_EINVAL : 0;
}

static unsigned long long *reg_slot(struct user_regs_struct *r, unw_regnum_t reg)
{
	switch (reg) {
	case UNW_X86_64_RAX:
		return &r->rax;
	case UNW_X86_64_RDX:
		return &r->rdx;
	case UNW_X86_64_RCX:
		return &r->rcx;
	case UNW_X86_64_RBX:
		return &r->rbx;
	case UNW_X86_64_RSI:
		return &r->rsi;
	case UNW_X86_64_RDI:
		return &r->rdi;
	case UNW_X86_64_RBP:
		return &r->rbp;
	case UNW_X86_64_RSP:
		return &r->rsp;
	case UNW_X86_64_R8:
		return &r->r8;
	case UNW_X86_64_R9:
		return &r->r9;
	case UNW_X86_64_R10:
		return &r->r10;
	case UNW_X86_64_R11:
		return &r->r11;
	case UNW_X86_64_R12:
		return &r->r12;
	case UNW_X86_64_R13:
		return &r->r13;
	case UNW_X86_64_R14:
		return &r->r14;
	case UNW_X86_64_R15:
		return &r->r15;
	case UNW_X86_64_RIP:
		return &r->rip;
	default:
		return NULL;
	}
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
	struct unwinder *u = current;
	unsigned long long *slot;

	(void)as;
	(void)arg;
	if (!u)
		return -UNW_EBADREG;
	if (!u->regs_valid) {
		if (ptrace(PTRACE_GETREGS, u->tid, NULL, &u->regs))
			return -UNW_EBADREG;
		u->regs_valid = true;
	}
	slot = reg_slot(&u->regs, reg);
	if (!slot)
		return -UNW_EBADREG;
	if (write)
		*slot = *val; /* only the cached copy: we never resume through libunwind */
	else
		*val = *slot;
	return 0;
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
			void *arg)
{
	(void)as, (void)reg, (void)val, (void)write, (void)arg;
	return -UNW_EBADREG;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			  int need_unwind_info, void *arg)
{
	struct unwinder *u = current;
	struct module *m;

	(void)arg;
	if (!u)
		return -UNW_ENOINFO;
	u->stats.proc_infos++;
	m = module_at(u, ip);
	if (!m || !m->unwindable)
		return -UNW_ENOINFO;
	if (!m->upt) {
		m->upt = _UPT_create(u->tid);
		if (!m->upt)
			return -UNW_ENOMEM;
	}
	return _UPT_find_proc_info(as, ip, pi, need_unwind_info, m->upt);
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dil_addr, void *arg)
{
	(void)as, (void)dil_addr, (void)arg;
	return -UNW_ENOINFO; /* no JIT-registered unwind info */
}

static int get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len,
			 unw_word_t *off, void *arg)
{
	(void)as, (void)addr, (void)buf, (void)len, (void)off, (void)arg;
	return -UNW_ENOINFO; /* symbolization happens at report time, with libdw */
}

static unw_accessors_t fast_accessors;

static void init_accessors(void)
{
	fast_accessors = _UPT_accessors;
	fast_accessors.find_proc_info = find_proc_info;
	fast_accessors.put_unwind_info = _UPT_put_unwind_info;
	fast_accessors.get_dyn_info_list_addr = get_dyn_info_list_addr;
	fast_accessors.access_mem = access_mem;
	fast_accessors.access_reg = access_reg;
	fast_accessors.access_fpreg = access_fpreg;
	fast_accessors.get_proc_name = get_proc_name;
}

static unsigned capture_libunwind(struct unwinder *u, uint64_t *pcs, unsigned max)
{
	unw_cursor_t c;
	unsigned n = 0;

	if (unw_init_remote(&c, u->as, u) < 0)
		return 0;
	while (n < max) {
		unw_word_t ip;

		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		if (n && pcs[n - 1] == ip)
			break;
		pcs[n++] = ip;
		if (unw_step(&c) <= 0)
			break;
	}
	return n;
}

/* ---- libdw ---- */

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

static int report_dwfl_modules(struct unwinder *u)
{
	dwfl_report_begin(u->dwfl);
	if (dwfl_linux_proc_report(u->dwfl, u->pid) != 0) {
		dwfl_report_end(u->dwfl, NULL, NULL);
		return -1;
	}
	if (dwfl_report_end(u->dwfl, NULL, NULL) != 0)
		return -1;
	u->dwfl_stale = false;
	return 0;
}

struct dw_walk {
	uint64_t *pcs;
	unsigned n, max;
};

static int dw_frame(Dwfl_Frame *frame, void *arg)
{
	struct dw_walk *w = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(frame, &pc, NULL) || pc == 0)
		return DWARF_CB_ABORT;
	if (w->n && w->pcs[w->n - 1] == pc)
		return DWARF_CB_ABORT;
	w->pcs[w->n++] = pc;
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static unsigned capture_libdw(struct unwinder *u, uint64_t *pcs, unsigned max)
{
	struct dw_walk w = {pcs, 0, max};

	if (u->dwfl_stale && report_dwfl_modules(u))
		return 0;
	/* -1 after some frames is the end of the stack on some systems */
	dwfl_getthread_frames(u->dwfl, u->tid, dw_frame, &w);
	return w.n;
}

/* ---- the interface ---- */

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

static int init_libdw(struct unwinder *u)
{
	unsetenv("DEBUGINFOD_URLS");
	u->dwfl = dwfl_begin(&proc_callbacks);
	if (!u->dwfl || report_dwfl_modules(u))
		return -1;
	/* true: the tracer holds the threads in ptrace-stops; libdw must not attach */
	return dwfl_linux_proc_attach(u->dwfl, u->pid, true) == 0 ? 0 : -1;
}

static int init_libunwind(struct unwinder *u)
{
	if (!fast_accessors.access_mem)
		init_accessors();
	u->as = unw_create_addr_space(&fast_accessors, 0);
	if (!u->as)
		return -1;
	/* remote address spaces start with caching off */
	unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
	return 0;
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
	u->pid = pid;
	u->modules_tab = modules;
	u->gen = 1;
	u->tid = pid;
	if (refresh_modules(u))
		goto fail;
	if (kind == UNWINDER_LIBDW ? init_libdw(u) : init_libunwind(u))
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
	if (u->as)
		unw_destroy_addr_space(u->as);
	if (u->dwfl)
		dwfl_end(u->dwfl);
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
	current = u;
	n = u->kind == UNWINDER_LIBDW ? capture_libdw(u, pcs, max) : capture_libunwind(u, pcs, max);
	current = NULL;
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
			stacks_set_module(t, id, i, m->path, pc - m->bias);
	}
}

void unwinder_get_stats(const struct unwinder *u, struct unwinder_stats *out)
{
	*out = u->stats;
}

enum unwinder_kind unwinder_get_kind(const struct unwinder *u)
{
	return u->kind;
}
