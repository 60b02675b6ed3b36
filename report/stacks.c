/* report/stacks.c - interned backtraces (report/stacks.h): every distinct stack
 * of PCs is stored once in one flat frame array and found again through an
 * open-addressing hash table of ids. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/grow.h"
#include "report/stacks.h"

struct stack_entry {
	size_t first;	     /* index of frame 0 in t->frames */
	uint32_t n;	     /* frame count */
	uint32_t hash;	     /* of the PCs */
	uint32_t canon;	     /* stacks_canonical(), 0 = not computed yet */
	uint32_t canon_hash; /* of the module-relative frames */
};

struct stack_table {
	struct stack_frame *frames; /* all stacks' frames, back to back */
	size_t nframes, frames_cap;
	struct stack_entry *entries; /* entries[id - 1] */
	size_t nentries, entries_cap;
	uint32_t *slots;       /* hash slots: id, 0 = empty */
	size_t nslots;	       /* power of two */
	uint32_t *canon_slots; /* canonical ids by module-relative frames */
	size_t ncanon_slots, ncanon;
	bool oom; /* stacks_canonical could not merge a stack (stacks_error) */
};

static uint32_t hash_pcs(const uint64_t *pcs, unsigned n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;

	for (unsigned i = 0; i < n; i++) {
		h ^= pcs[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
	}
	return (uint32_t)(h ^ (h >> 32));
}

struct stack_table *stacks_new(void)
{
	struct stack_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nslots = 64;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void stacks_free(struct stack_table *t)
{
	if (!t)
		return;
	free(t->frames);
	free(t->entries);
	free(t->slots);
	free(t->canon_slots);
	free(t);
}

static bool entry_equals(const struct stack_table *t, const struct stack_entry *e,
			 const uint64_t *pcs, unsigned n, uint32_t hash)
{
	if (e->hash != hash || e->n != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (t->frames[e->first + i].pc != pcs[i])
			return false;
	return true;
}

/* Slot index where id lives or where it would go (an empty slot). */
static size_t find_slot(const struct stack_table *t, const uint64_t *pcs, unsigned n, uint32_t hash)
{
	size_t mask = t->nslots - 1;
	size_t i = hash & mask;

	while (t->slots[i]) {
		if (entry_equals(t, &t->entries[t->slots[i] - 1], pcs, n, hash))
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

static int grow_slots(struct stack_table *t)
{
	size_t nslots = t->nslots * 2;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t id = 1; id <= t->nentries; id++) {
		size_t i = t->entries[id - 1].hash & (nslots - 1);

		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = (uint32_t)id;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

uint32_t stacks_intern(struct stack_table *t, const uint64_t *pcs, unsigned n, bool *is_new)
{
	uint32_t hash;
	size_t slot;
	struct stack_entry *e, *entries;
	struct stack_frame *frames;

	if (is_new)
		*is_new = false;
	if (!t || n == 0 || t->nentries >= UINT32_MAX - 1)
		return 0;
	hash = hash_pcs(pcs, n);
	slot = find_slot(t, pcs, n, hash);
	if (t->slots[slot])
		return t->slots[slot];
	if ((t->nentries + 1) * 4 > t->nslots * 3) {
		if (grow_slots(t))
			return 0;
		slot = find_slot(t, pcs, n, hash);
	}
	frames = grow_array(t->frames, &t->frames_cap, t->nframes + n, sizeof(*frames), 64);
	if (!frames)
		return 0;
	t->frames = frames;
	entries = grow_array(t->entries, &t->entries_cap, t->nentries + 1, sizeof(*entries), 64);
	if (!entries)
		return 0;
	t->entries = entries;
	e = &t->entries[t->nentries++];
	*e = (struct stack_entry){.first = t->nframes, .n = n, .hash = hash};
	for (unsigned i = 0; i < n; i++)
		t->frames[t->nframes + i] = (struct stack_frame){.pc = pcs[i]};
	t->nframes += n;
	t->slots[slot] = (uint32_t)t->nentries;
	if (is_new)
		*is_new = true;
	return (uint32_t)t->nentries;
}

void stacks_set_module(struct stack_table *t, uint32_t id, unsigned frame, uint32_t module,
		       uint64_t offset, uint32_t build_id)
{
	struct stack_entry *e;

	if (!t || id == 0 || id > t->nentries)
		return;
	e = &t->entries[id - 1];
	if (frame >= e->n)
		return;
	t->frames[e->first + frame].module = module;
	t->frames[e->first + frame].offset = offset;
	t->frames[e->first + frame].build_id = build_id;
}

/* ---- canonical ids: stacks that name the same code ---- */

/* A frame as (module identity, address within it): build-ids are tagged apart
 * from paths so that the two id spaces cannot meet. */
static void frame_identity(const struct stack_frame *f, uint64_t *who, uint64_t *where)
{
	if (!f->module) {
		*who = 0;
		*where = f->pc;
	} else if (f->build_id) {
		*who = (1ULL << 32) | f->build_id;
		*where = f->offset;
	} else {
		*who = (2ULL << 32) | f->module;
		*where = f->offset;
	}
}

static uint32_t hash_identity(const struct stack_table *t, const struct stack_entry *e)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ e->n;

	for (uint32_t i = 0; i < e->n; i++) {
		uint64_t who, where;

		frame_identity(&t->frames[e->first + i], &who, &where);
		h ^= who;
		h *= 0xff51afd7ed558ccdULL;
		h ^= where;
		h *= 0xc4ceb9fe1a85ec53ULL;
		h ^= h >> 33;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static bool same_identity(const struct stack_table *t, const struct stack_entry *a,
			  const struct stack_entry *b)
{
	if (a->n != b->n || a->canon_hash != b->canon_hash)
		return false;
	for (uint32_t i = 0; i < a->n; i++) {
		uint64_t wa, xa, wb, xb;

		frame_identity(&t->frames[a->first + i], &wa, &xa);
		frame_identity(&t->frames[b->first + i], &wb, &xb);
		if (wa != wb || xa != xb)
			return false;
	}
	return true;
}

static int grow_canon_slots(struct stack_table *t)
{
	size_t nslots = t->ncanon_slots ? t->ncanon_slots * 2 : 64;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < t->ncanon_slots; i++) {
		uint32_t id = t->canon_slots[i];
		if (!id)
			continue;
		size_t j = t->entries[id - 1].canon_hash & (nslots - 1);
		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = id;
	}
	free(t->canon_slots);
	t->canon_slots = slots;
	t->ncanon_slots = nslots;
	return 0;
}

uint32_t stacks_canonical(struct stack_table *t, uint32_t id)
{
	struct stack_entry *e;
	size_t j;

	if (!t || id == 0 || id > t->nentries)
		return id;
	e = &t->entries[id - 1];
	if (e->canon)
		return e->canon;
	if ((t->ncanon + 1) * 4 > t->ncanon_slots * 3 && grow_canon_slots(t)) {
		t->oom = true;
		return id; /* out of memory: the stack stands alone */
	}
	e->canon_hash = hash_identity(t, e);
	j = e->canon_hash & (t->ncanon_slots - 1);
	for (; t->canon_slots[j]; j = (j + 1) & (t->ncanon_slots - 1)) {
		uint32_t other = t->canon_slots[j];
		if (other != id && same_identity(t, e, &t->entries[other - 1])) {
			e->canon = t->entries[other - 1].canon;
			return e->canon;
		}
	}
	t->canon_slots[j] = id;
	t->ncanon++;
	e->canon = id;
	return id;
}

unsigned stacks_get(const struct stack_table *t, uint32_t id, const struct stack_frame **frames)
{
	const struct stack_entry *e;

	if (!t || id == 0 || id > t->nentries) {
		if (frames)
			*frames = NULL;
		return 0;
	}
	e = &t->entries[id - 1];
	if (frames)
		*frames = &t->frames[e->first];
	return e->n;
}

int stacks_error(const struct stack_table *t)
{
	return t && t->oom ? -ENOMEM : 0;
}

size_t stacks_count(const struct stack_table *t)
{
	return t ? t->nentries : 0;
}
