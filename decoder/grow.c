/* decoder/grow.c - overflow-checked array growth (decoder/grow.h). */
#include "decoder/grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

void *grow_array(void *ptr, size_t *cap, size_t need, size_t elem, size_t min_cap)
{
	size_t ncap = *cap ? *cap : (min_cap ? min_cap : 1);
	void *p;

	if (need <= *cap)
		return ptr;
	if (elem == 0) {
		errno = EINVAL;
		return NULL;
	}
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem) {
		errno = ENOMEM;
		return NULL;
	}
	p = realloc(ptr, ncap * elem);
	if (!p)
		return NULL;
	*cap = ncap;
	return p;
}
