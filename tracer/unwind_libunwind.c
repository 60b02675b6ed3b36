/* tracer/unwind_libunwind.c - the libunwind backend (the default). It replaces
 * libunwind-ptrace's slow accessors: registers from one PTRACE_GETREGS, memory
 * through a small per-capture page cache filled with process_vm_readv (PEEKDATA
 * for pages it refuses), unwind tables through the module map with one
 * libunwind-ptrace handle per module so each keeps its parsed image. */
#include <errno.h>
#include <libunwind-ptrace.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "tracer/unwind_priv.h"

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
	if (read_remote(u, page, p->data, CACHE_BLOCK_BYTES)) {
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
	uint64_t page = addr & CACHE_BLOCK_MASK, in = addr - page;
	struct cached_page *p = cached_page(u, page);

	if (!p)
		return peek_word(u, addr, val);
	if (in + sizeof(*val) <= CACHE_BLOCK_BYTES) {
		memcpy(val, p->data + in, sizeof(*val));
		return 0;
	}
	/* straddles two pages */
	unsigned char buf[sizeof(*val)];
	size_t first = CACHE_BLOCK_BYTES - in;

	memcpy(buf, p->data + in, first);
	p = cached_page(u, page + CACHE_BLOCK_BYTES);
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
		if (!m->upt) {
			u->oom = true;
			return -UNW_ENOMEM;
		}
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

	current = u;
	if (unw_init_remote(&c, u->as, u) < 0)
		goto out;
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
out:
	current = NULL;
	return n;
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

static void fini_libunwind(struct unwinder *u)
{
	if (u->as)
		unw_destroy_addr_space(u->as);
}

static void libunwind_maps_changed(struct unwinder *u)
{
	if (u->as)
		unw_flush_cache(u->as, 0, 0);
}

static void libunwind_module_gone(struct unwinder *u, struct module *m)
{
	(void)u;
	_UPT_destroy(m->upt);
	m->upt = NULL;
}

const struct unwind_backend unwind_libunwind = {
	.init = init_libunwind,
	.fini = fini_libunwind,
	.capture = capture_libunwind,
	.maps_changed = libunwind_maps_changed,
	.module_gone = libunwind_module_gone,
};
