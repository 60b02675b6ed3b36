/* report/stacks.h - interned backtraces: a stack of program counters gets one
 * small id (the region's "site"), stored once however many regions share it.
 * Each frame also keeps its module and module-relative offset, recorded when the
 * stack is first seen, so a module unmapped before the report still symbolizes. */
#ifndef VMLEAK_REPORT_STACKS_H
#define VMLEAK_REPORT_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack_frame {
	uint64_t pc;	   /* absolute address in the tracee (return address for callers) */
	uint64_t offset;   /* pc relative to the module's load bias; valid when module != 0 */
	uint32_t module;   /* interned module path (decoder/strtab.h); 0 = unknown */
	uint32_t build_id; /* interned hex GNU build-id of the module; 0 = none known */
};

struct stack_table;

struct stack_table *stacks_new(void);
void stacks_free(struct stack_table *t);

/* Id (>= 1) of the stack pcs[0..n) (innermost first), interning it on first sight.
 * *is_new (may be NULL) tells the caller to fill in the frames' modules with
 * stacks_set_module. Returns 0 for n == 0 or on allocation failure. */
uint32_t stacks_intern(struct stack_table *t, const uint64_t *pcs, unsigned n, bool *is_new);
void stacks_set_module(struct stack_table *t, uint32_t id, unsigned frame, uint32_t module,
		       uint64_t offset, uint32_t build_id);
/* The site id stack id is reported under: one id shared by every stack whose
 * frames name the same code, frame by frame (same module -- its build-id, else its path -- and
 * module-relative offset; the PC where the module is unknown). The same call
 * path in separate processes, or in separate runs of one binary, gets one id
 * whatever the address layout. Call it only once the frames are described
 * (stacks_set_module): the answer is kept. */
uint32_t stacks_canonical(struct stack_table *t, uint32_t id);
/* Frames of stack id (innermost first); returns the count, 0 for an unknown id. */
unsigned stacks_get(const struct stack_table *t, uint32_t id, const struct stack_frame **frames);
size_t stacks_count(const struct stack_table *t);
/* -ENOMEM once stacks_canonical left a stack unmerged for want of memory (sticky). */
int stacks_error(const struct stack_table *t);

#endif
