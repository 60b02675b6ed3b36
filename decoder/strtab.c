/* decoder/strtab.c - interned strings by small id: an open-addressing hash table of
 * ids (linear probing, power-of-two size, at most half full) over an array of
 * copies indexed by id - 1. */
#include "decoder/grow.h"
#include "decoder/strtab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct strtab {
	char **str;	 /* str[id - 1] */
	uint32_t n, cap; /* strings, capacity of str */
	uint32_t *slot;	 /* hash slots holding ids; 0 = empty */
	uint32_t nslots; /* power of two */
};

/* FNV-1a */
static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

struct strtab *strtab_new(void)
{
	return calloc(1, sizeof(struct strtab));
}

void strtab_free(struct strtab *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->n; i++)
		free(t->str[i]);
	free(t->str);
	free(t->slot);
	free(t);
}

/* The slot holding s, or the empty slot where it belongs. */
static uint32_t *find_slot(uint32_t *slot, uint32_t nslots, char **str, const char *s)
{
	uint32_t i = hash_str(s) & (nslots - 1);

	while (slot[i] && strcmp(str[slot[i] - 1], s) != 0)
		i = (i + 1) & (nslots - 1);
	return &slot[i];
}

static bool grow_slots(struct strtab *t)
{
	uint32_t nslots = t->nslots ? t->nslots * 2 : 64;
	uint32_t *slot = calloc(nslots, sizeof(*slot));

	if (!slot)
		return false;
	for (uint32_t id = 1; id <= t->n; id++)
		*find_slot(slot, nslots, t->str, t->str[id - 1]) = id;
	free(t->slot);
	t->slot = slot;
	t->nslots = nslots;
	return true;
}

static bool grow_strings(struct strtab *t)
{
	size_t cap = t->cap;
	char **str = grow_array(t->str, &cap, (size_t)t->cap + 1, sizeof(*str), 32);

	if (!str)
		return false;
	t->str = str;
	if (cap > UINT32_MAX)
		return false; /* ids are 32-bit */
	t->cap = (uint32_t)cap;
	return true;
}

uint32_t strtab_intern(struct strtab *t, const char *s)
{
	uint32_t *slot;
	char *copy;

	if (!s)
		return 0;
	if ((t->n + 1) * 2 > t->nslots && !grow_slots(t))
		return 0;
	slot = find_slot(t->slot, t->nslots, t->str, s);
	if (*slot)
		return *slot;
	if (t->n == t->cap && !grow_strings(t))
		return 0;
	copy = strdup(s);
	if (!copy)
		return 0;
	t->str[t->n++] = copy;
	*slot = t->n;
	return t->n;
}

const char *strtab_get(const struct strtab *t, uint32_t id)
{
	if (id == 0 || id > t->n)
		return NULL;
	return t->str[id - 1];
}
