/* report/symbolize.c - report-time symbolization with libdwfl (report/symbolize.h).
 * One Dwfl per module file, reported at bias 0 so that the offsets recorded at
 * capture are its addresses; functions come from a sorted copy of the module's
 * symbol table (libdwfl's own lookup scans it linearly), lines from DWARF; every
 * (module, address) is looked up once. Separate debug files are found by libdwfl's
 * standard search (build-id, then debuglink) under the --debug-dir roots and the
 * system's; when the caller's environment holds DEBUGINFOD_URLS, that search ends
 * with elfutils' debuginfod client, whose downloads are reported to a progress
 * callback. */
#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "decoder/grow.h"
#include "report/symbolize.h"

struct sym {
	uint64_t addr, size;
	const char *name;
	int rank; /* preference among aliases at one address: higher wins */
};

struct sym_module {
	bool loaded;
	bool no_dwarf; /* no debug info was found for it */
	Dwfl *dwfl;    /* NULL when the file could not be read */
	Dwfl_Module *mod;
	struct sym *syms; /* sorted by addr, one per address */
	size_t nsyms;
	const char *path;
	double download_start; /* > 0 once a download reported progress */
	/* recorded at capture (symbolizer_set_build_id), else read from the file */
	unsigned char build_id[SYMBOLIZER_MAX_BUILD_ID];
	size_t build_id_len; /* 0: unknown */
	bool build_id_recorded;
	char build_id_hex[2 * SYMBOLIZER_MAX_BUILD_ID + 1];
	char *stand_in;	 /* the debug file read in place of a missing or other file */
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
	Dwfl_Callbacks callbacks;
	char *debuginfo_path; /* NULL: libdwfl's default */
	symbolizer_progress_fn progress;
	void *progress_ctx;
	bool network_gave_up;	    /* a slow failed download: no more for this report */
	struct sym_module *loading; /* the module get_module is loading */
	bool oom;		    /* a lookup lost something for want of memory */
};

/* libdwfl's default search path: the module's directory, its .debug
 * subdirectory, and the system root (elfutils libdwfl/libdwfl.h) */
#define DEFAULT_DEBUGINFO_PATH ":.debug:/usr/lib/debug"
/* a download that failed after this long stops the next ones (a server that
 * does not answer would otherwise cost its timeout once per module) */
#define SLOW_FAILURE_SECONDS 5.0

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct symbolizer *symbolizer_new(const struct stack_table *stacks, const struct strtab *modules,
				  const struct rules *rules)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	elf_version(EV_CURRENT); /* libelf, for the build-id checks */
	s->callbacks = (Dwfl_Callbacks){
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	s->stacks = stacks;
	s->modules = modules;
	s->rules = rules;
	return s;
}

int symbolizer_set_debug_dirs(struct symbolizer *s, const char *const *dirs, size_t n)
{
	size_t len = sizeof(DEFAULT_DEBUGINFO_PATH);
	char *path, *p;

	for (size_t i = 0; i < n; i++) {
		if (dirs[i][0] != '/' || strchr(dirs[i], ':'))
			return -1; /* libdwfl reads relative and ':' elements differently */
		len += strlen(dirs[i]) + 1;
	}
	path = malloc(len);
	if (!path)
		return -1;
	p = path;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s:", dirs[i]);
	strcpy(p, DEFAULT_DEBUGINFO_PATH);
	free(s->debuginfo_path);
	s->debuginfo_path = path;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	return 0;
}

void symbolizer_set_progress(struct symbolizer *s, symbolizer_progress_fn fn, void *ctx)
{
	s->progress = fn;
	s->progress_ctx = ctx;
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

static void set_hex(struct sym_module *m)
{
	for (size_t i = 0; i < m->build_id_len; i++)
		sprintf(m->build_id_hex + 2 * i, "%02x", m->build_id[i]);
	m->build_id_hex[2 * m->build_id_len] = '\0';
}

static int parse_hex_build_id(const char *hex, struct sym_module *m)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 || n / 2 > SYMBOLIZER_MAX_BUILD_ID)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		m->build_id[i] = (unsigned char)v;
	}
	m->build_id_len = n / 2;
	set_hex(m);
	return 0;
}

int symbolizer_set_build_id(struct symbolizer *s, uint32_t module, const unsigned char *id,
			    size_t len)
{
	struct sym_module *m;

	if (module == 0 || len == 0 || len > SYMBOLIZER_MAX_BUILD_ID)
		return -1;
	if (grow_zeroed((void **)&s->mods, &s->nmods, (size_t)module + 1, sizeof(*s->mods)))
		return -1;
	m = &s->mods[module];
	if (m->loaded)
		return -1; /* too late */
	memcpy(m->build_id, id, len);
	m->build_id_len = len;
	m->build_id_recorded = true;
	set_hex(m);
	return 0;
}

/* Unload a module, keeping what the caller said about it (its build-id). */
static void module_unload(struct sym_module *m)
{
	unsigned char id[SYMBOLIZER_MAX_BUILD_ID];
	size_t len = m->build_id_len;
	bool recorded = m->build_id_recorded;

	memcpy(id, m->build_id, sizeof(id));
	free(m->syms);
	free(m->stand_in);
	if (m->dwfl)
		dwfl_end(m->dwfl);
	*m = (struct sym_module){0};
	if (!recorded)
		return;
	memcpy(m->build_id, id, sizeof(id));
	m->build_id_len = len;
	m->build_id_recorded = true;
	set_hex(m);
}

size_t symbolizer_forget_missing(struct symbolizer *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nmods; i++) {
		if (s->mods[i].loaded && (!s->mods[i].dwfl || s->mods[i].no_dwarf)) {
			module_unload(&s->mods[i]);
			n++;
		}
	}
	s->network_gave_up = false;
	if (!n)
		return 0;
	/* every cached answer may point into a module just unloaded */
	for (size_t i = 0; i < s->memo_cap; i++)
		s->memo[i] = (struct memo){0};
	s->nmemo = 0;
	for (size_t i = 0; i < s->nsite_frames; i++) {
		free(s->site_frames[i]);
		s->site_frames[i] = NULL;
	}
	return n;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmods; i++)
		module_unload(&s->mods[i]);
	free(s->mods);
	free(s->debuginfo_path);
	free(s->memo);
	for (size_t i = 0; i < s->nsite_frames; i++)
		free(s->site_frames[i]);
	free(s->site_frames);
	for (size_t i = 0; i < s->nowned; i++)
		free(s->owned[i]);
	free(s->owned);
	free(s);
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

/* debuginfod's progress callback (it calls it about once a second while a
 * download runs, connecting included). Non-zero cancels the download. */
static int download_progress(debuginfod_client *c, long done, long total)
{
	struct symbolizer *s = debuginfod_get_user_data(c);
	struct sym_module *m = s ? s->loading : NULL;

	if (!m)
		return 0;
	if (s->network_gave_up)
		return 1;
	if (m->download_start == 0)
		m->download_start = monotonic_seconds();
	if (s->progress)
		s->progress(s->progress_ctx, m->path, done, total,
			    monotonic_seconds() - m->download_start);
	return 0;
}

static void watch_downloads(struct symbolizer *s, struct sym_module *m)
{
	debuginfod_client *c = dwfl_get_debuginfod_client(m->dwfl);

	if (!c)
		return; /* libdebuginfod could not be loaded */
	debuginfod_set_user_data(c, s);
	debuginfod_set_progressfn(c, download_progress);
}

/* A download ended (found or not): clear the progress note; a slow failure
 * stops the downloads of this report. */
static void download_done(struct symbolizer *s, struct sym_module *m)
{
	if (m->download_start == 0)
		return;
	if (m->no_dwarf && monotonic_seconds() - m->download_start > SLOW_FAILURE_SECONDS)
		s->network_gave_up = true;
	m->download_start = 0;
	if (s->progress)
		s->progress(s->progress_ctx, NULL, -1, -1, 0);
}

/* Whether the ELF file at path has the given build-id. */
static bool file_has_build_id(const char *path, const unsigned char *id, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const void *bits = NULL;
	bool same = false;
	Elf *elf;

	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf) {
		ssize_t n = dwelf_elf_gnu_build_id(elf, &bits);

		same = n > 0 && (size_t)n == len && memcmp(bits, id, len) == 0;
		elf_end(elf);
	}
	close(fd);
	return same;
}

/* The debug file of a module whose own file is gone or another build: ROOT/
 * .build-id/xx/yyyy.debug under the absolute roots of the search path, else a
 * debuginfod download (when DEBUGINFOD_URLS is set). Allocated, or NULL. */
static char *find_by_build_id(struct symbolizer *s, struct sym_module *m)
{
	const char *roots = s->debuginfo_path ? s->debuginfo_path : DEFAULT_DEBUGINFO_PATH;
	char hex[2 * SYMBOLIZER_MAX_BUILD_ID + 1];
	debuginfod_client *c;
	char *found = NULL;
	int fd;

	for (size_t i = 0; i < m->build_id_len; i++)
		sprintf(hex + 2 * i, "%02x", m->build_id[i]);
	for (const char *p = roots; *p;) {
		size_t n = strcspn(p, ":");

		if (p[0] == '/' && n > 1) {
			if (asprintf(&found, "%.*s/.build-id/%.2s/%s.debug", (int)n, p, hex,
				     hex + 2) < 0) {
				s->oom = true;
				return NULL;
			}
			if (access(found, R_OK) == 0)
				return found;
			free(found);
		}
		found = NULL;
		p += n + (p[n] == ':');
	}
	c = dwfl_get_debuginfod_client(m->dwfl);
	if (!c)
		return NULL;
	fd = debuginfod_find_debuginfo(c, m->build_id, (int)m->build_id_len, &found);
	if (fd < 0)
		return NULL;
	close(fd);
	return found;
}

/* Only regular files are opened: a module path from a saved report may name a
 * FIFO or a device, whose open or read would block. */
static bool regular_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The file to read for module m: its own when it is there and, if a build-id
 * was recorded, the same build; else a stand-in debug file; NULL if none. */
static const char *module_file(struct symbolizer *s, struct sym_module *m)
{
	bool present = regular_file(m->path);

	if (present &&
	    (!m->build_id_recorded || file_has_build_id(m->path, m->build_id, m->build_id_len)))
		return m->path;
	if (!m->build_id_recorded)
		return NULL;
	m->stand_in = find_by_build_id(s, m);
	return m->stand_in;
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

/* The module in slot id (see lookup()), loaded on first use from the file at
 * path_id, or from a stand-in when build_id (hex, recorded at capture; NULL:
 * none) says the file is another build. */
static struct sym_module *get_module(struct symbolizer *s, uint32_t id, uint32_t path_id,
				     const char *build_id)
{
	struct sym_module *m;
	Dwarf_Addr bias;
	const char *path, *file;

	if (grow_zeroed((void **)&s->mods, &s->nmods, (size_t)id + 1, sizeof(*s->mods))) {
		s->oom = true;
		return NULL;
	}
	m = &s->mods[id];
	if (m->loaded)
		return m->dwfl ? m : NULL;
	m->loaded = true;
	path = strtab_get(s->modules, path_id);
	if (!path)
		return NULL;
	if (build_id && !m->build_id_recorded && parse_hex_build_id(build_id, m) == 0)
		m->build_id_recorded = true;
	m->path = path;
	m->dwfl = dwfl_begin(&s->callbacks);
	if (!m->dwfl)
		return NULL;
	watch_downloads(s, m);
	s->loading = m;
	file = module_file(s, m);
	dwfl_report_begin(m->dwfl);
	/* base 0 + p_vaddr: module addresses are ELF addresses, i.e. capture offsets
	 * (a debug file keeps its program's program headers and addresses) */
	m->mod = file ? dwfl_report_elf(m->dwfl, path, file, -1, 0, true) : NULL;
	if (dwfl_report_end(m->dwfl, NULL, NULL) != 0 || !m->mod || load_symbols(s, m)) {
		s->loading = NULL;
		m->no_dwarf = true;
		download_done(s, m);
		dwfl_end(m->dwfl);
		m->dwfl = NULL;
		m->mod = NULL;
		return NULL;
	}
	/* look for the debug info now (the symbol table may have found it already),
	 * so that a download happens here, between the progress notes */
	if (!m->build_id_recorded) {
		const unsigned char *bits;
		GElf_Addr vaddr;
		int n = dwfl_module_build_id(m->mod, &bits, &vaddr);

		if (n > 0 && n <= SYMBOLIZER_MAX_BUILD_ID) {
			memcpy(m->build_id, bits, (size_t)n);
			m->build_id_len = (size_t)n;
			set_hex(m);
		}
	}
	m->no_dwarf = dwfl_module_getdwarf(m->mod, &bias) == NULL;
	s->loading = NULL;
	download_done(s, m);
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

static void resolve_address(struct symbolizer *s, uint32_t module, uint32_t path_id,
			    const char *build_id, uint64_t addr, struct memo *e)
{
	struct sym_module *m = get_module(s, module, path_id, build_id);
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

/* One frame. module is the slot the module's Dwfl and answers live in: the
 * strtab id of its build-id when the capture recorded one (two builds at one
 * path are two modules), else of its path; path_id names its file. */
static void lookup(struct symbolizer *s, uint32_t module, uint32_t path_id, const char *build_id,
		   uint64_t offset, bool caller, struct frame_info *out)
{
	uint64_t addr = caller && offset ? offset - 1 : offset;
	struct memo *e, fresh;

	out->module = strtab_get(s->modules, path_id);
	out->function = NULL;
	out->offset = 0;
	out->file = NULL;
	out->line = 0;
	out->build_id = NULL;
	out->module_offset = 0;
	out->static_exe = false;
	if (module == 0 || path_id == 0 || !out->module)
		return;
	out->module_offset = offset;
	if ((s->nmemo + 1) * 4 > s->memo_cap * 3 && memo_grow(s))
		e = NULL;
	else
		e = memo_slot(s->memo, s->memo_cap, module, addr);
	if (!e || !e->module) {
		resolve_address(s, module, path_id, build_id, addr, &fresh);
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
	if (module < s->nmods && s->mods[module].build_id_len)
		out->build_id = s->mods[module].build_id_hex;
}

void symbolizer_lookup(struct symbolizer *s, uint32_t module, uint64_t offset, bool caller,
		       struct frame_info *out)
{
	lookup(s, module, module, NULL, offset, caller, out);
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
		const char *build_id =
			sf[i].build_id ? strtab_get(s->modules, sf[i].build_id) : NULL;

		lookup(s, build_id ? sf[i].build_id : sf[i].module, sf[i].module, build_id,
		       sf[i].offset, i > 0, &fi[i]);
		fi[i].pc = sf[i].pc;
		fi[i].module_offset = sf[i].module ? sf[i].offset : 0;
		/* the build-id seen in memory at capture; else the file's, if read */
		if (build_id)
			fi[i].build_id = build_id;
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
