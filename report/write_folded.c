/* report/write_folded.c - the folded report (one "frame;frame;... bytes" line per
 * site, for flame-graph tools) of docs/interface.md. */
#include <inttypes.h>
#include <string.h>

#include "report/report_priv.h"

/* A frame name without the separators of the folded format. */
static void folded_str(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p == ';' || *p < 0x20 || *p == 0x7f ? '_' : *p, f);
}

static void folded_frame(FILE *f, const struct frame_info *fr)
{
	if (fr->function) {
		folded_str(f, fr->function);
		return;
	}
	if (!fr->module) {
		fprintf(f, "0x%" PRIx64, fr->pc);
		return;
	}
	folded_str(f, base_name(fr->module));
	if (fr->offset) /* without a function, a resolver may put the module offset here */
		fprintf(f, "+0x%" PRIx64, fr->offset);
}

static void folded_site(struct report_ctx *c, const struct site *s)
{
	const char *exe = pid_exe(c->d, region_pid(c->d, s->regs[0]));
	FILE *f = c->out;

	folded_str(f, exe ? base_name(exe) : "[unknown]");
	for (size_t i = s->nframes; i > s->callsite; i--) {
		fputc(';', f);
		folded_frame(f, &s->frames[i - 1]);
	}
	fprintf(f, ";%s %" PRIu64 "\n", op_name(s->regs[0]->op), s->bytes);
}

void write_folded(struct report_ctx *c)
{
	for (size_t i = 0; i < c->nsites; i++)
		if (!c->sites[i].suppressed || c->o->all)
			folded_site(c, &c->sites[i]);
}
