/* tracer/modmap.c - the unwinder's module map (tracer/unwind_priv.h): the file
 * mappings of /proc/PID/maps as modules (one per path, with load bias and span)
 * and sorted ranges, re-read only when a module may have changed. Both backends
 * use it; frames are described (module + offset) from it. */
#include <elf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "decoder/grow.h"
#include "tracer/unwind_priv.h"

int read_remote(struct unwinder *u, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};

	u->stats.mem_reads++;
	return process_vm_readv(u->tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

/* The GNU build-id in a PT_NOTE segment of the mapped image, as hex, interned;
 * 0 when there is none. Read from the tracee's memory: it names the code that
 * runs, whatever happened to the file since. */
static uint32_t read_build_id(struct unwinder *u, uint64_t addr, uint64_t size)
{
	unsigned char buf[512];
	char hex[2 * 64 + 1];
	size_t at = 0;

	if (size > sizeof(buf))
		size = sizeof(buf);
	if (size < sizeof(Elf64_Nhdr) || read_remote(u, addr, buf, size))
		return 0;
	while (at + sizeof(Elf64_Nhdr) <= size) {
		Elf64_Nhdr nh;
		memcpy(&nh, buf + at, sizeof(nh));
		size_t name_at = at + sizeof(nh);
		size_t desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
		size_t next = desc_at + ((nh.n_descsz + 3) & ~3u);
		if (next > size || next <= at)
			return 0;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp(buf + name_at, "GNU", 4) && nh.n_descsz && nh.n_descsz <= 64) {
			for (unsigned i = 0; i < nh.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x", buf[desc_at + i]);
			uint32_t id = strtab_intern(u->modules_tab, hex);
			if (!id)
				u->oom = true;
			return id;
		}
		at = next;
	}
	return 0;
}

/* Load bias (and build-id) from the ELF header mapped at the file's first mapping. */
static void probe_elf(struct unwinder *u, struct module *m, uint64_t base_offset)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[32];
	bool have_load = false;
	const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	m->bias = m->base - base_offset;
	m->unwindable = false;
	m->build_id = 0;
	if (base_offset != 0 || read_remote(u, m->base, &eh, sizeof(eh)))
		return;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(ph[0]))
		return;
	unsigned nph = eh.e_phnum < 32 ? eh.e_phnum : 32;
	if (read_remote(u, m->base + eh.e_phoff, ph, nph * sizeof(ph[0])))
		return; /* one read for the whole table */
	for (unsigned i = 0; i < nph && !have_load; i++) {
		if (ph[i].p_type == PT_LOAD) {
			/* the kernel maps the segment from its page start */
			m->bias = m->base - (ph[i].p_vaddr & ~(page - 1));
			have_load = true;
		}
	}
	m->unwindable = true;
	for (unsigned i = 0; i < nph && !m->build_id; i++)
		if (ph[i].p_type == PT_NOTE)
			m->build_id = read_build_id(u, m->bias + ph[i].p_vaddr, ph[i].p_filesz);
}

void drop_modules(struct unwinder *u)
{
	for (size_t i = 0; i < u->nmods; i++)
		if (u->mods[i].upt && u->backend->module_gone)
			u->backend->module_gone(u, &u->mods[i]);
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
	struct module *v = grow_array(u->mods, cap, u->nmods + 1, sizeof(*v), 32);

	if (!v)
		return SIZE_MAX;
	u->mods = v;
	u->mods[u->nmods] = (struct module){.path = path, .lo = UINT64_MAX};
	return u->nmods++;
}

static int add_range(struct unwinder *u, uint64_t start, uint64_t end, size_t mod, size_t *cap)
{
	struct map_range *v = grow_array(u->ranges, cap, u->nranges + 1, sizeof(*v), 64);

	if (!v)
		return -1;
	u->ranges = v;
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

int refresh_modules(struct unwinder *u)
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
		if (!last_id || m == SIZE_MAX || add_range(u, start, end, m, &rcap)) {
			u->oom = true;
			break;
		}
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
		if (o->upt && !kept && u->backend->module_gone)
			u->backend->module_gone(u, o);
	}
	free(old);
	u->stale = false;
	if (u->backend->maps_changed)
		u->backend->maps_changed(u);
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

struct module *module_at(struct unwinder *u, uint64_t addr)
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
