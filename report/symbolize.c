/* report/symbolize.c - report-time symbolization with libdwfl (report/symbolize.h).
 * One Dwfl per module file, reported at bias 0 so that the offsets recorded at
 * capture are its addresses; functions come from a sorted copy of the module's
 * symbol table (libdwfl's own lookup scans it linearly), lines from DWARF; every
 * (module, address) is looked up once. Never touches the network. */
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/grow.h"
#include "report/symbolize.h"

struct sym {
	uint64_t addr, size;
	const char *name;
	int rank; /* preference among aliases at one address: higher wins */
};

struct sym_module {
	bool loaded;
	Dwfl *dwfl; /* NULL when the file could not be read */
	Dwfl_Module *mod;
	struct sym *syms; /* sorted by addr, one per address */
	size_t nsyms;
	bool static_exe; /* an executable without an interpreter: its own C runtime */
};

struct memo {
	uint64_t addr;	 /* lookup address within the module */
	uint32_t module; /* 0 = empty slot */
	int line;
	const char *function;
	uint64_t func_start;
	const char *file;
	bool static_exe;
};

struct symbolizer {
	const struct stack_table *stacks;
	const struct strtab *modules;
	const struct rules *rules;
	struct sym_module *mods; /* by module id */
	size_t nmods;
	struct memo *memo; /* open addressing, power-of-two size */
	size_t nmemo, memo_cap;
	struct frame_info **site_frames; /* by stack id, filled on first resolve */
	size_t nsite_frames;
	char **owned; /* demangled names */
	size_t nowned, owned_cap;
	char *(*demangle)(const char *, char *, size_t *, int *);
	bool demangle_tried;
	bool oom; /* a lookup lost something for want of memory */
};

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

struct symbolizer *symbolizer_new(const struct stack_table *stacks, const struct strtab *modules,
				  const struct rules *rules)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	/* debuginfod would query servers for missing debug info: never. */
	unsetenv("DEBUGINFOD_URLS");
	s->stacks = stacks;
	s->modules = modules;
	s->rules = rules;
	return s;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmods; i++) {
		free(s->mods[i].syms);
		if (s->mods[i].dwfl)
			dwfl_end(s->mods[i].dwfl);
	}
	free(s->mods);
	free(s->memo);
	for (size_t i = 0; i < s->nsite_frames; i++)
		free(s->site_frames[i]);
	free(s->site_frames);
	for (size_t i = 0; i < s->nowned; i++)
		free(s->owned[i]);
	free(s->owned);
	free(s);
}

/* grow_array that zeroes the new elements: *n is the capacity, all of it in use. */
static int grow_zeroed(void **v, size_t *n, size_t need, size_t size)
{
	size_t old = *n;
	void *p = grow_array(*v, n, need, size, 16);

	if (!p)
		return -1;
	memset((char *)p + old * size, 0, (*n - old) * size);
	*v = p;
	return 0;
}

/* ---- names ---- */

static const char *keep_string(struct symbolizer *s, char *str)
{
	char **v = grow_array(s->owned, &s->owned_cap, s->nowned + 1, sizeof(*v), 64);

	if (!v) {
		free(str);
		s->oom = true;
		return NULL;
	}
	s->owned = v;
	s->owned[s->nowned++] = str;
	return str;
}

/* __cxa_demangle from the C++ runtime when it can be loaded; raw names otherwise. */
static const char *demangle(struct symbolizer *s, const char *name)
{
	char *out;
	int status = -1;

	if (strncmp(name, "_Z", 2) != 0)
		return name;
	if (!s->demangle_tried) {
		void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);

		s->demangle_tried = true;
		if (h)
			*(void **)&s->demangle = dlsym(h, "__cxa_demangle");
	}
	if (!s->demangle)
		return name;
	out = s->demangle(name, NULL, NULL, &status);
	if (status != 0 || !out) {
		free(out);
		return name;
	}
	return keep_string(s, out) ?: name;
}

/* ---- modules ---- */

static int sym_rank(const GElf_Sym *sym, const char *name)
{
	int bind = GELF_ST_BIND(sym->st_info);
	int rank = bind == STB_GLOBAL ? 3 : bind == STB_WEAK ? 2 : 1;

	/* among aliases prefer the public name: mmap over __mmap, malloc over
	 * __libc_malloc, whatever their binding; then unversioned names */
	while (*name == '_') {
		rank -= 10;
		name++;
	}
	if (strchr(name, '@') && !strstr(name, "@@"))
		rank -= 5; /* an old version; "@@" marks the default, public one */
	if (strstr(name, "_alias"))
		rank -= 8; /* glibc's internal aliases (__libc_start_main_alias_2) */
	return rank;
}

/* "pthread_create@@GLIBC_2.34" -> "pthread_create": versions are noise in a report */
static const char *unversioned(struct symbolizer *s, const char *name)
{
	const char *at = strchr(name, '@');
	char *copy;

	if (!at || at == name)
		return name;
	copy = strndup(name, (size_t)(at - name));
	if (!copy) {
		s->oom = true;
		return name;
	}
	return keep_string(s, copy) ?: name;
}

static int sym_compare(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return y->rank - x->rank; /* best alias first */
}

static int load_symbols(struct symbolizer *s, struct sym_module *m)
{
	int n = dwfl_module_getsymtab(m->mod);
	size_t k = 0;

	if (n <= 0)
		return 0;
	m->syms = calloc((size_t)n, sizeof(*m->syms));
	if (!m->syms) {
		s->oom = true;
		return -1;
	}
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name =
			dwfl_module_getsym_info(m->mod, i, &sym, &addr, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);

		if (!name || !*name || sym.st_shndx == SHN_UNDEF ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		m->syms[k++] = (struct sym){addr, sym.st_size, name, sym_rank(&sym, name)};
	}
	qsort(m->syms, k, sizeof(*m->syms), sym_compare);
	/* one entry per address: the best-ranked alias, the largest size */
	size_t out = 0;
	for (size_t i = 0; i < k; i++) {
		if (out && m->syms[out - 1].addr == m->syms[i].addr) {
			if (m->syms[i].size > m->syms[out - 1].size)
				m->syms[out - 1].size = m->syms[i].size;
			continue;
		}
		m->syms[out++] = m->syms[i];
	}
	m->nsyms = out;
	for (size_t i = 0; i < out; i++)
		m->syms[i].name = unversioned(s, m->syms[i].name);
	return 0;
}

/* DT_FLAGS_1 has DF_1_PIE in the dynamic section described by ph. */
static bool has_pie_flag(Elf *elf, const GElf_Phdr *ph)
{
	Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph->p_offset, ph->p_filesz, ELF_T_DYN);
	size_t n = d ? d->d_size / gelf_fsize(elf, ELF_T_DYN, 1, EV_CURRENT) : 0;

	for (size_t i = 0; i < n; i++) {
		GElf_Dyn dyn;

		if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag == DT_FLAGS_1)
			return (dyn.d_un.d_val & DF_1_PIE) != 0;
	}
	return false;
}

/* A statically linked executable (gcc -static, -static-pie, Go): no PT_INTERP,
 * and an ET_EXEC or a position-independent executable (DF_1_PIE), not a shared
 * library. */
static bool is_static_exe(Dwfl_Module *mod)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	GElf_Ehdr eh;
	size_t nph;
	bool pie = false;

	if (!elf || !gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &nph))
		return false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph))
			return false;
		if (ph.p_type == PT_INTERP)
			return false;
		if (ph.p_type == PT_DYNAMIC && eh.e_type == ET_DYN)
			pie = has_pie_flag(elf, &ph);
	}
	return eh.e_type == ET_EXEC || pie;
}

static struct sym_module *get_module(struct symbolizer *s, uint32_t id)
{
	struct sym_module *m;
	const char *path;

	if (grow_zeroed((void **)&s->mods, &s->nmods, (size_t)id + 1, sizeof(*s->mods))) {
		s->oom = true;
		return NULL;
	}
	m = &s->mods[id];
	if (m->loaded)
		return m->dwfl ? m : NULL;
	m->loaded = true;
	path = strtab_get(s->modules, id);
	if (!path)
		return NULL;
	m->dwfl = dwfl_begin(&offline_callbacks);
	if (!m->dwfl)
		return NULL;
	dwfl_report_begin(m->dwfl);
	/* base 0 + p_vaddr: module addresses are ELF addresses, i.e. capture offsets */
	m->mod = dwfl_report_elf(m->dwfl, path, path, -1, 0, true);
	if (dwfl_report_end(m->dwfl, NULL, NULL) != 0 || !m->mod || load_symbols(s, m)) {
		dwfl_end(m->dwfl);
		m->dwfl = NULL;
		m->mod = NULL;
		return NULL;
	}
	m->static_exe = is_static_exe(m->mod);
	return m;
}

static const struct sym *find_symbol(const struct sym_module *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nsyms;
	const struct sym *sym;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	sym = &m->syms[lo - 1];
	if (sym->size == 0 ? addr == sym->addr : addr - sym->addr < sym->size)
		return sym;
	return NULL;
}

/* ---- the (module, address) memo ---- */

static size_t memo_hash(uint32_t module, uint64_t addr)
{
	uint64_t h = (addr ^ ((uint64_t)module << 48)) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h ^ (h >> 29));
}

static struct memo *memo_slot(struct memo *v, size_t cap, uint32_t module, uint64_t addr)
{
	size_t i = memo_hash(module, addr) & (cap - 1);

	while (v[i].module && (v[i].module != module || v[i].addr != addr))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static int memo_grow(struct symbolizer *s)
{
	size_t cap = s->memo_cap ? s->memo_cap * 2 : 1024;
	struct memo *v = calloc(cap, sizeof(*v));

	if (!v)
		return -1;
	for (size_t i = 0; i < s->memo_cap; i++)
		if (s->memo[i].module)
			*memo_slot(v, cap, s->memo[i].module, s->memo[i].addr) = s->memo[i];
	free(s->memo);
	s->memo = v;
	s->memo_cap = cap;
	return 0;
}

static void resolve_address(struct symbolizer *s, uint32_t module, uint64_t addr, struct memo *e)
{
	struct sym_module *m = get_module(s, module);
	const struct sym *sym;
	Dwfl_Line *line;

	*e = (struct memo){.addr = addr, .module = module};
	if (!m)
		return;
	e->static_exe = m->static_exe;
	sym = find_symbol(m, addr);
	if (sym) {
		e->function = demangle(s, sym->name);
		e->func_start = sym->addr;
	}
	line = dwfl_module_getsrc(m->mod, addr);
	if (line) {
		int lineno = 0;
		const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);

		if (file && lineno > 0) {
			e->file = file;
			e->line = lineno;
		}
	}
}

void symbolizer_lookup(struct symbolizer *s, uint32_t module, uint64_t offset, bool caller,
		       struct frame_info *out)
{
	uint64_t addr = caller && offset ? offset - 1 : offset;
	struct memo *e, fresh;

	out->module = strtab_get(s->modules, module);
	out->function = NULL;
	out->offset = 0;
	out->file = NULL;
	out->line = 0;
	out->static_exe = false;
	if (module == 0 || !out->module)
		return;
	if ((s->nmemo + 1) * 4 > s->memo_cap * 3 && memo_grow(s))
		e = NULL;
	else
		e = memo_slot(s->memo, s->memo_cap, module, addr);
	if (!e || !e->module) {
		resolve_address(s, module, addr, &fresh);
		if (e) {
			*e = fresh;
			s->nmemo++;
		} else {
			e = &fresh;
		}
	}
	out->function = e->function;
	out->static_exe = e->static_exe;
	out->offset = e->function ? offset - e->func_start : offset; /* else: in the module */
	out->file = e->file;
	out->line = e->line;
}

/* ---- sites ---- */

static struct frame_info *site_frames(struct symbolizer *s, uint32_t stack, unsigned *n)
{
	const struct stack_frame *sf;
	struct frame_info *fi;

	*n = stacks_get(s->stacks, stack, &sf);
	if (*n == 0)
		return NULL;
	if (grow_zeroed((void **)&s->site_frames, &s->nsite_frames, (size_t)stack + 1,
			sizeof(*s->site_frames)))
		return NULL;
	if (s->site_frames[stack])
		return s->site_frames[stack];
	fi = calloc(*n, sizeof(*fi));
	if (!fi)
		return NULL;
	for (unsigned i = 0; i < *n; i++) {
		symbolizer_lookup(s, sf[i].module, sf[i].offset, i > 0, &fi[i]);
		fi[i].pc = sf[i].pc;
		fi[i].module_offset = sf[i].module ? sf[i].offset : 0;
		fi[i].build_id = sf[i].build_id ? strtab_get(s->modules, sf[i].build_id) : NULL;
	}
	s->site_frames[stack] = fi;
	return fi;
}

int symbolizer_resolve(void *ctx, uint32_t stack, const struct region *example,
		       struct report_site_info *out)
{
	struct symbolizer *s = ctx;
	unsigned n = 0;
	struct frame_info *fi = stack ? site_frames(s, stack, &n) : NULL;

	out->frames = fi;
	out->nframes = fi ? n : 0;
	out->callsite = 0;
	out->category = CAT_UNKNOWN;
	if ((stack && n && !fi) || s->oom)
		return -1;
	if (!fi)
		return 0;
	if (s->rules)
		out->category = rules_classify(s->rules, fi, n, example, &out->callsite);
	else
		out->category = CAT_PROGRAM;
	return 0;
}
