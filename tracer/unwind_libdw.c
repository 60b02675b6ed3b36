/* tracer/unwind_libdw.c - the elfutils libdw backend: dwfl_getthread_frames on
 * a Dwfl attached to the stopped threads (--unwinder=libdw, and i386 tracees,
 * which the x86_64 libunwind cannot unwind). */
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracer/unwind_priv.h"

/* Unwinding needs the call frame information that loaded code carries
 * (.eh_frame, or .debug_frame in the file itself, as in Go programs). Looking up
 * separate debug files (libc6-dbg's) would make libdw open and decompress their
 * DWARF in every traced process: 10-30 ms each, for nothing that .eh_frame does
 * not already say. Symbolization (report/symbolize.c) does use them. */
static int no_separate_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
				 Dwarf_Addr base, const char *file_name, const char *debuglink_file,
				 GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name;
	(void)debuglink_file, (void)debuglink_crc, (void)debuginfo_file_name;
	return -1;
}

/* The process whose modules libdw is opening: ELF files are loaded lazily, from
 * inside dwfl_getthread_frames, and the callback has no other way to know. */
static __thread pid_t loading_pid;

/* dwfl_linux_proc_find_elf opens the path that /proc/PID/maps names in our own
 * mount namespace, where a process in a container may have no such file (or
 * another one). Open it through /proc/PID/root, which is the same file for a
 * process in our namespace; deleted files and the vDSO still go to libdw. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *module_name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	char path[PATH_MAX];
	size_t len = strlen(module_name);
	int fd;

	if (loading_pid <= 0 || module_name[0] != '/' ||
	    (len > 10 && !strcmp(module_name + len - 10, " (deleted)")) ||
	    snprintf(path, sizeof(path), "/proc/%d/root%s", (int)loading_pid, module_name) >=
		    (int)sizeof(path))
		goto fallback;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fallback;
	*elfp = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	*file_name = strdup(path);
	if (*elfp && *file_name)
		return fd;
	elf_end(*elfp);
	*elfp = NULL;
	free(*file_name);
	*file_name = NULL;
	close(fd);
fallback:
	return dwfl_linux_proc_find_elf(mod, userdata, module_name, base, file_name, elfp);
}

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = no_separate_debuginfo,
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
	loading_pid = u->tid; /* stopped and alive: the tgid may be a zombie leader */
	/* -1 after some frames is the end of the stack on some systems */
	dwfl_getthread_frames(u->dwfl, u->tid, dw_frame, &w);
	loading_pid = 0;
	return w.n;
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

static void fini_libdw(struct unwinder *u)
{
	if (u->dwfl)
		dwfl_end(u->dwfl);
}

static void libdw_maps_changed(struct unwinder *u)
{
	u->dwfl_stale = true;
}

const struct unwind_backend unwind_libdw = {
	.init = init_libdw,
	.fini = fini_libdw,
	.capture = capture_libdw,
	.maps_changed = libdw_maps_changed,
};
