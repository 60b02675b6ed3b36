/* decoder/strtab.h - interned strings (file paths, module names) by small id. */
#ifndef VMLEAK_DECODER_STRTAB_H
#define VMLEAK_DECODER_STRTAB_H

#include <stdint.h>

struct strtab;

struct strtab *strtab_new(void);
void strtab_free(struct strtab *t);
/* Id of s (>= 1), interning a copy on first sight; 0 on allocation failure or s == NULL. */
uint32_t strtab_intern(struct strtab *t, const char *s);
/* The string for id, or NULL for 0 or an unknown id. */
const char *strtab_get(const struct strtab *t, uint32_t id);

#endif
