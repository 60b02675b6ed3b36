/* tracer/unwind_libdw.c - the elfutils libdw backend: dwfl_getthread_frames on
 * a Dwfl attached to the stopped threads (--unwinder=libdw, and i386 tracees,
 * which the x86_64 libunwind cannot unwind). */
#include <elfutils/libdwfl.h>
#include <stdlib.h>

#include "tracer/unwind_priv.h"

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
