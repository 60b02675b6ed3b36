/* decoder/grow.h - the one way vmleak grows an array: capacity doubling with every
 * size overflow-checked, and a failure that leaves the caller's array as it was.
 * In decoder/ because every layer (decoder, report, tracer) may use it. */
#ifndef VMLEAK_DECODER_GROW_H
#define VMLEAK_DECODER_GROW_H

#include <stddef.h>

/* Make room for need (>= 1) elements of elem bytes in ptr, an array of *cap
 * elements (NULL when *cap is 0). The capacity doubles, starting from min_cap,
 * until it holds need. Returns the array, maybe moved, with *cap updated; or NULL
 * when the size would overflow or realloc fails: then ptr is untouched (still the
 * caller's to use or free) and *cap unchanged. need <= *cap returns ptr as is. */
void *grow_array(void *ptr, size_t *cap, size_t need, size_t elem, size_t min_cap);

#endif
