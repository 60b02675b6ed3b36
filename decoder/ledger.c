/* decoder/ledger.c - the region ledger: the live regions of one address space.
 *
 * Data structure: a B+tree keyed by region start, with the 40-byte regions stored
 * inline in the leaves. Why not a red-black/AVL tree: one heap node per region costs
 * the region plus two or three links, a colour/balance word and malloc's own header,
 * about 80-90 bytes per region, over the 64-byte budget. A leaf here is one ~2.5 KiB
 * allocation holding up to 64 regions, so the overhead per region is the unused
 * slots of its leaf plus a 16-byte internal entry shared by a whole leaf. It is also
 * cache friendly (a lookup is a few binary searches over contiguous keys) and
 * iterates in address order for free.
 *
 * Keeping the leaves full (memory): an insert into a full leaf first spreads entries
 * over a neighbour with room (B*-tree style) and only splits when the neighbours are
 * full too; a split at either end of a leaf (ascending or descending insertion, which
 * is how mmap hands out addresses) leaves the old leaf full instead of two half-full
 * ones. A leaf that falls under half full merges with or borrows from a neighbour.
 *
 * Separators are exact: key[i] of an internal node is the smallest start under
 * child[i + 1]. So the last region starting at or below an address is always in the
 * leaf a descent reaches, and each operation is one or a few O(log n) descents.
 * Regions never overlap and are never merged: each keeps its own site and metadata.
 */
#include "decoder/grow.h"
#include "decoder/ledger.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef LEAF_MAX
#define LEAF_MAX 64 /* 8 + 64 * 40 = 2568 bytes: few cache misses per search, short moves */
#endif
#define INODE_MAX    64 /* children per internal node (1 KiB) */
#define MAX_DEPTH    48 /* internal nodes have >= 2 children, leaves >= 1 region */
#define ROOT_MIN_CAP 4	/* a lone root leaf grows in steps from this capacity */

struct leaf {
	uint16_t n, cap;
	uint32_t unused;
	struct region r[];
};

struct inode {
	uint32_t n;		     /* children */
	uint64_t key[INODE_MAX - 1]; /* key[i]: smallest start under child[i + 1] */
	void *child[INODE_MAX];
};

struct ledger {
	void *root;	 /* NULL when empty */
	unsigned height; /* 0: empty, 1: the root is a leaf */
	unsigned leaf_max, inode_max;
	size_t count;
	uint64_t bytes;
	size_t memory;
	uint64_t brk_start, brk_cur;
	bool lost; /* a change could not be applied exactly (out of memory) */
};

/* A root-to-leaf path: node[d] and the child (or, in the leaf, region) index idx[d]. */
struct cursor {
	unsigned depth;
	void *node[MAX_DEPTH];
	unsigned idx[MAX_DEPTH];
};

struct ledger *ledger_new_tuned(unsigned leaf_max, unsigned inode_max);

/* ---------- region_vec ---------- */

int region_vec_push(struct region_vec *vec, const struct region *r)
{
	struct region *v = grow_array(vec->v, &vec->cap, vec->n + 1, sizeof(*v), 8);

	if (!v)
		return -ENOMEM;
	vec->v = v;
	vec->v[vec->n++] = *r;
	return 0;
}

void region_vec_reset(struct region_vec *vec)
{
	vec->n = 0;
}

void region_vec_free(struct region_vec *vec)
{
	free(vec->v);
	vec->v = NULL;
	vec->n = vec->cap = 0;
}

/* ---------- ranges ---------- */

/* [start, start + PAGE_ALIGN(len)) as *end; false if empty, unaligned or wrapping. */
static bool page_range(uint64_t start, uint64_t len, uint64_t *end)
{
	if (start & (LEDGER_PAGE_SIZE - 1) || len == 0)
		return false;
	if (len > UINT64_MAX - start)
		return false;
	if (start + len > UINT64_MAX - (LEDGER_PAGE_SIZE - 1))
		return false;
	*end = LEDGER_PAGE_ALIGN(start + len);
	return true;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* ---------- nodes ---------- */

static size_t leaf_size(unsigned cap)
{
	return sizeof(struct leaf) + (size_t)cap * sizeof(struct region);
}

static struct leaf *leaf_alloc(struct ledger *l, unsigned cap)
{
	struct leaf *lf = malloc(leaf_size(cap));

	if (!lf)
		return NULL;
	lf->n = 0;
	lf->cap = cap;
	lf->unused = 0;
	l->memory += leaf_size(cap);
	return lf;
}

static void leaf_release(struct ledger *l, struct leaf *lf)
{
	l->memory -= leaf_size(lf->cap);
	free(lf);
}

static struct inode *inode_alloc(struct ledger *l)
{
	struct inode *in = malloc(sizeof(*in));

	if (!in)
		return NULL;
	in->n = 0;
	l->memory += sizeof(*in);
	return in;
}

static void inode_release(struct ledger *l, struct inode *in)
{
	l->memory -= sizeof(*in);
	free(in);
}

static unsigned leaf_min(const struct ledger *l)
{
	return l->leaf_max / 2 ? l->leaf_max / 2 : 1;
}

static unsigned inode_min(const struct ledger *l)
{
	return l->inode_max / 2 > 2 ? l->inode_max / 2 : 2;
}

static uint64_t region_len(const struct region *r)
{
	return r->end - r->start;
}

/* ---------- descent ---------- */

/* Number of keys <= addr. */
static unsigned keys_upper_bound(const uint64_t *key, unsigned n, uint64_t addr)
{
	unsigned lo = 0, hi = n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (key[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Number of regions starting at or below addr. */
static unsigned leaf_upper_bound(const struct leaf *lf, uint64_t addr)
{
	unsigned lo = 0, hi = lf->n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (lf->r[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Descend to the leaf holding the last region starting at or below addr; the leaf
 * index is where a region starting at addr would be inserted. */
static void seek(const struct ledger *l, uint64_t addr, struct cursor *c)
{
	void *node = l->root;
	unsigned d;

	c->depth = l->height;
	for (d = 0; d + 1 < l->height; d++) {
		struct inode *in = node;
		unsigned i = keys_upper_bound(in->key, in->n - 1, addr);

		c->node[d] = in;
		c->idx[d] = i;
		node = in->child[i];
	}
	if (l->height) {
		c->node[d] = node;
		c->idx[d] = leaf_upper_bound(node, addr);
	}
}

static struct leaf *cur_leaf(const struct cursor *c)
{
	return c->node[c->depth - 1];
}

static unsigned *cur_pos(struct cursor *c)
{
	return &c->idx[c->depth - 1];
}

/* Move the cursor to the first region of the next leaf; false at the last leaf. */
static bool cursor_next_leaf(struct cursor *c)
{
	int d = (int)c->depth - 2;
	void *node;

	while (d >= 0 && c->idx[d] + 1 >= ((struct inode *)c->node[d])->n)
		d--;
	if (d < 0)
		return false;
	c->idx[d]++;
	node = ((struct inode *)c->node[d])->child[c->idx[d]];
	for (d++; d < (int)c->depth; d++) {
		c->node[d] = node;
		c->idx[d] = 0;
		if (d + 1 < (int)c->depth)
			node = ((struct inode *)node)->child[0];
	}
	return true;
}

/* The first region ending above addr (it may contain addr), cursor on it; or NULL. */
static struct region *first_ending_after(const struct ledger *l, uint64_t addr, struct cursor *c)
{
	struct leaf *lf;
	unsigned *pos;

	if (!l->root)
		return NULL;
	seek(l, addr, c);
	lf = cur_leaf(c);
	pos = cur_pos(c);
	if (*pos > 0 && lf->r[*pos - 1].end > addr) {
		(*pos)--;
		return &lf->r[*pos];
	}
	if (*pos == lf->n) {
		if (!cursor_next_leaf(c))
			return NULL;
		lf = cur_leaf(c);
	}
	return &lf->r[*cur_pos(c)];
}

/* The leaf's smallest start changed: update the one separator that holds it. */
static void fix_separator(const struct cursor *c)
{
	const struct leaf *lf = cur_leaf(c);

	if (!lf->n)
		return;
	for (int d = (int)c->depth - 2; d >= 0; d--) {
		if (c->idx[d] > 0) {
			((struct inode *)c->node[d])->key[c->idx[d] - 1] = lf->r[0].start;
			return;
		}
	}
}

/* ---------- insertion ---------- */

/* Lay a's and b's regions, plus r at position vpos of the sequence when r is not
 * NULL, out again: the first na in a, the rest in b. */
static void leaf_spread(struct leaf *a, struct leaf *b, unsigned na, const struct region *r,
			unsigned vpos)
{
	struct region tmp[2 * LEAF_MAX + 1];
	unsigned n = a->n + b->n;

	memcpy(tmp, a->r, a->n * sizeof(tmp[0]));
	memcpy(tmp + a->n, b->r, b->n * sizeof(tmp[0]));
	if (r) {
		memmove(tmp + vpos + 1, tmp + vpos, (n - vpos) * sizeof(tmp[0]));
		tmp[vpos] = *r;
		n++;
	}
	memcpy(a->r, tmp, na * sizeof(tmp[0]));
	a->n = na;
	memcpy(b->r, tmp + na, (n - na) * sizeof(tmp[0]));
	b->n = n - na;
}

static void leaf_put(struct leaf *lf, unsigned pos, const struct region *r)
{
	memmove(lf->r + pos + 1, lf->r + pos, (lf->n - pos) * sizeof(lf->r[0]));
	lf->r[pos] = *r;
	lf->n++;
}

/* A full leaf with a neighbour that has room: share the regions and r between them. */
static bool leaf_insert_shifting(struct ledger *l, struct cursor *c, const struct region *r)
{
	unsigned d = c->depth - 1, pos = c->idx[d], i = c->idx[d - 1];
	struct inode *p = c->node[d - 1];
	struct leaf *lf = c->node[d];
	struct leaf *left = i > 0 ? p->child[i - 1] : NULL;
	struct leaf *right = i + 1 < p->n ? p->child[i + 1] : NULL;
	unsigned room_left = left ? l->leaf_max - left->n : 0;
	unsigned room_right = right ? l->leaf_max - right->n : 0;
	unsigned total;

	if (!room_left && !room_right)
		return false;
	if (room_left >= room_right) {
		total = left->n + lf->n + 1;
		leaf_spread(left, lf, (total + 1) / 2, r, left->n + pos);
		p->key[i - 1] = lf->r[0].start;
		return true;
	}
	total = lf->n + right->n + 1;
	leaf_spread(lf, right, total / 2, r, pos);
	p->key[i] = right->r[0].start;
	fix_separator(c);
	return true;
}

/* Insert (key, child) right after child idx[level] of node[level], splitting full
 * internal nodes upwards with nodes from pool (preallocated, so this cannot fail). */
static void inode_insert(struct ledger *l, struct cursor *c, int level, uint64_t key, void *child,
			 struct inode **pool)
{
	struct inode *in, *right, *root;
	uint64_t keys[INODE_MAX];
	void *kids[INODE_MAX + 1];
	unsigned i, n, h;

	if (level < 0) {
		root = *pool++;
		root->n = 2;
		root->key[0] = key;
		root->child[0] = l->root;
		root->child[1] = child;
		l->root = root;
		l->height++;
		return;
	}
	in = c->node[level];
	i = c->idx[level];
	n = in->n;
	if (n < l->inode_max) {
		memmove(in->key + i + 1, in->key + i, (n - 1 - i) * sizeof(in->key[0]));
		memmove(in->child + i + 2, in->child + i + 1, (n - 1 - i) * sizeof(in->child[0]));
		in->key[i] = key;
		in->child[i + 1] = child;
		in->n++;
		return;
	}
	memcpy(keys, in->key, i * sizeof(keys[0]));
	keys[i] = key;
	memcpy(keys + i + 1, in->key + i, (n - 1 - i) * sizeof(keys[0]));
	memcpy(kids, in->child, (i + 1) * sizeof(kids[0]));
	kids[i + 1] = child;
	memcpy(kids + i + 2, in->child + i + 1, (n - 1 - i) * sizeof(kids[0]));
	n++; /* children now; keys n - 1 */
	h = n / 2;
	right = *pool++;
	in->n = h;
	memcpy(in->key, keys, (h - 1) * sizeof(keys[0]));
	memcpy(in->child, kids, h * sizeof(kids[0]));
	right->n = n - h;
	memcpy(right->key, keys + h, (n - h - 1) * sizeof(keys[0]));
	memcpy(right->child, kids + h, (n - h) * sizeof(kids[0]));
	inode_insert(l, c, level - 1, keys[h - 1], right, pool);
}

/* Split a full leaf (its neighbours are full too) and insert r. */
static int leaf_insert_splitting(struct ledger *l, struct cursor *c, const struct region *r)
{
	unsigned d = c->depth - 1, pos = c->idx[d], na;
	struct inode *pool[MAX_DEPTH + 1];
	struct leaf *lf = c->node[d], *nl;
	int level, npool = 0, k;

	/* One internal node per full ancestor, plus a new root if they all are. */
	for (level = (int)d - 1; level >= 0; level--)
		if (((struct inode *)c->node[level])->n < l->inode_max)
			break;
	for (k = 0; k < (int)d - 1 - level + (level < 0); k++) {
		pool[npool] = inode_alloc(l);
		if (!pool[npool])
			goto nomem;
		npool++;
	}
	nl = leaf_alloc(l, l->leaf_max);
	if (!nl)
		goto nomem;
	if (pos == lf->n)
		na = lf->n; /* ascending: keep the old leaf full */
	else if (pos == 0)
		na = 1; /* descending: the new region alone on the left */
	else
		na = (lf->n + 1) / 2;
	leaf_spread(lf, nl, na, r, pos);
	fix_separator(c);
	inode_insert(l, c, (int)d - 1, nl->r[0].start, nl, pool);
	return 0;
nomem:
	while (npool > 0)
		inode_release(l, pool[--npool]);
	return -ENOMEM;
}

/* Grow a lone root leaf that is full but smaller than a normal leaf. */
static int root_leaf_grow(struct ledger *l, struct cursor *c)
{
	struct leaf *lf = c->node[0];
	unsigned cap = lf->cap + lf->cap / 2 + 1;
	struct leaf *grown;

	if (cap > l->leaf_max)
		cap = l->leaf_max;
	grown = realloc(lf, leaf_size(cap));
	if (!grown)
		return -ENOMEM;
	l->memory += leaf_size(cap) - leaf_size(grown->cap);
	grown->cap = cap;
	l->root = grown;
	c->node[0] = grown;
	return 0;
}

/* Insert r (overlapping nothing) at the cursor position. */
static int leaf_insert(struct ledger *l, struct cursor *c, const struct region *r)
{
	struct leaf *lf;
	int err;

	if (!l->root) {
		lf = leaf_alloc(l, ROOT_MIN_CAP < l->leaf_max ? ROOT_MIN_CAP : l->leaf_max);
		if (!lf)
			return -ENOMEM;
		l->root = lf;
		l->height = 1;
		c->depth = 1;
		c->node[0] = lf;
		c->idx[0] = 0;
	}
	lf = cur_leaf(c);
	if (lf->n == lf->cap && lf->cap < l->leaf_max) {
		err = root_leaf_grow(l, c);
		if (err)
			return err;
		lf = cur_leaf(c);
	}
	if (lf->n < lf->cap) {
		leaf_put(lf, *cur_pos(c), r);
		if (*cur_pos(c) == 0)
			fix_separator(c);
	} else if (c->depth == 1 || !leaf_insert_shifting(l, c, r)) {
		err = leaf_insert_splitting(l, c, r);
		if (err)
			return err;
	}
	l->count++;
	l->bytes += region_len(r);
	return 0;
}

/* Insert r, which overlaps nothing in the ledger. */
static int insert_region(struct ledger *l, const struct region *r)
{
	struct cursor c;

	c.depth = 0;
	if (l->root)
		seek(l, r->start, &c);
	if (leaf_insert(l, &c, r)) {
		l->lost = true;
		return -ENOMEM;
	}
	return 0;
}

/* ---------- deletion ---------- */

static void inode_remove_child(struct inode *in, unsigned i)
{
	/* drops child[i] and the key before it (key[i - 1], or key[0] for child 0) */
	unsigned k = i ? i - 1 : 0;

	memmove(in->key + k, in->key + k + 1, (in->n - 2 - k) * sizeof(in->key[0]));
	memmove(in->child + i, in->child + i + 1, (in->n - 1 - i) * sizeof(in->child[0]));
	in->n--;
}

/* b's children and keys appended to a, with sep (the smallest start under b) between. */
static void inode_absorb(struct inode *a, struct inode *b, uint64_t sep)
{
	a->key[a->n - 1] = sep;
	memcpy(a->key + a->n, b->key, (b->n - 1) * sizeof(a->key[0]));
	memcpy(a->child + a->n, b->child, b->n * sizeof(a->child[0]));
	a->n += b->n;
}

/* Move one child from the richer neighbour into node (child i of p). */
static void inode_borrow(struct inode *p, unsigned i, struct inode *in, struct inode *left,
			 struct inode *right)
{
	if (left && (!right || left->n >= right->n)) {
		memmove(in->key + 1, in->key, (in->n - 1) * sizeof(in->key[0]));
		memmove(in->child + 1, in->child, in->n * sizeof(in->child[0]));
		in->key[0] = p->key[i - 1];
		in->child[0] = left->child[left->n - 1];
		p->key[i - 1] = left->key[left->n - 2];
		left->n--;
		in->n++;
		return;
	}
	in->key[in->n - 1] = p->key[i];
	in->child[in->n] = right->child[0];
	in->n++;
	p->key[i] = right->key[0];
	memmove(right->key, right->key + 1, (right->n - 2) * sizeof(right->key[0]));
	memmove(right->child, right->child + 1, (right->n - 1) * sizeof(right->child[0]));
	right->n--;
}

static void rebalance_inode(struct ledger *l, struct cursor *c, int d)
{
	struct inode *in = c->node[d], *p, *left, *right;
	unsigned i;

	if (d == 0) {
		if (in->n == 1) {
			l->root = in->child[0];
			l->height--;
			inode_release(l, in);
		}
		return;
	}
	if (in->n >= inode_min(l))
		return;
	p = c->node[d - 1];
	i = c->idx[d - 1];
	left = i > 0 ? p->child[i - 1] : NULL;
	right = i + 1 < p->n ? p->child[i + 1] : NULL;
	if (left && left->n + in->n <= l->inode_max) {
		inode_absorb(left, in, p->key[i - 1]);
		inode_remove_child(p, i);
		inode_release(l, in);
	} else if (right && right->n + in->n <= l->inode_max) {
		inode_absorb(in, right, p->key[i]);
		inode_remove_child(p, i + 1);
		inode_release(l, right);
	} else {
		inode_borrow(p, i, in, left, right);
		return;
	}
	rebalance_inode(l, c, d - 1);
}

static void rebalance_leaf(struct ledger *l, struct cursor *c)
{
	int d = (int)c->depth - 1;
	struct leaf *lf = c->node[d], *left, *right;
	struct inode *p;
	unsigned i;

	if (d == 0) {
		if (!lf->n) {
			leaf_release(l, lf);
			l->root = NULL;
			l->height = 0;
		}
		return;
	}
	if (lf->n >= leaf_min(l))
		return;
	p = c->node[d - 1];
	i = c->idx[d - 1];
	left = i > 0 ? p->child[i - 1] : NULL;
	right = i + 1 < p->n ? p->child[i + 1] : NULL;
	if (left && left->n + lf->n <= l->leaf_max) {
		leaf_spread(left, lf, left->n + lf->n, NULL, 0);
		inode_remove_child(p, i);
		leaf_release(l, lf);
	} else if (right && right->n + lf->n <= l->leaf_max) {
		leaf_spread(lf, right, lf->n + right->n, NULL, 0);
		fix_separator(c);
		inode_remove_child(p, i + 1);
		leaf_release(l, right);
	} else if (left && (!right || left->n >= right->n)) {
		leaf_spread(left, lf, (left->n + lf->n + 1) / 2, NULL, 0);
		p->key[i - 1] = lf->r[0].start;
		return;
	} else {
		leaf_spread(lf, right, (lf->n + right->n) / 2, NULL, 0);
		p->key[i] = right->r[0].start;
		fix_separator(c);
		return;
	}
	rebalance_inode(l, c, d - 1);
}

/* Delete the region at the cursor. */
static void leaf_delete(struct ledger *l, struct cursor *c)
{
	struct leaf *lf = cur_leaf(c);
	unsigned pos = *cur_pos(c);

	l->count--;
	l->bytes -= region_len(&lf->r[pos]);
	memmove(lf->r + pos, lf->r + pos + 1, (lf->n - pos - 1) * sizeof(lf->r[0]));
	lf->n--;
	if (pos == 0)
		fix_separator(c);
	rebalance_leaf(l, c);
}

/* Remove [s, e) (valid range); pieces to out. Returns the bytes removed. */
static uint64_t remove_range(struct ledger *l, uint64_t s, uint64_t e, struct region_vec *out)
{
	uint64_t removed = 0;
	struct cursor c;
	struct region *r, piece;

	while (s < e) {
		r = first_ending_after(l, s, &c);
		if (!r || r->start >= e)
			break;
		piece = *r;
		piece.start = max_u64(r->start, s);
		piece.end = min_u64(r->end, e);
		if (r->start < piece.start && r->end > piece.end) {
			/* cut through the middle: keep the left part, re-insert the right */
			struct region rest = *r;

			rest.start = piece.end;
			r->end = piece.start;
			l->bytes -= region_len(&rest) + region_len(&piece);
			(*cur_pos(&c))++;
			if (leaf_insert(l, &c, &rest)) {
				r->end = rest.end; /* nothing changed: keep it whole */
				l->bytes += region_len(&rest) + region_len(&piece);
				l->lost = true;
				break;
			}
		} else if (r->start < piece.start) {
			r->end = piece.start;
			l->bytes -= region_len(&piece);
		} else if (r->end > piece.end) {
			r->start = piece.end;
			l->bytes -= region_len(&piece);
			if (*cur_pos(&c) == 0)
				fix_separator(&c);
		} else {
			leaf_delete(l, &c);
		}
		if (out && region_vec_push(out, &piece))
			l->lost = true;
		removed += region_len(&piece);
		s = piece.end;
	}
	return removed;
}

/* ---------- public operations ---------- */

struct ledger *ledger_new_tuned(unsigned leaf_max, unsigned inode_max)
{
	struct ledger *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->leaf_max = leaf_max < 2 ? 2 : leaf_max > LEAF_MAX ? LEAF_MAX : leaf_max;
	l->inode_max = inode_max < 4 ? 4 : inode_max > INODE_MAX ? INODE_MAX : inode_max;
	l->memory = sizeof(*l);
	return l;
}

struct ledger *ledger_new(void)
{
	return ledger_new_tuned(LEAF_MAX, INODE_MAX);
}

static void free_subtree(struct ledger *l, void *node, unsigned levels)
{
	struct inode *in = node;

	if (levels == 1) {
		leaf_release(l, node);
		return;
	}
	for (unsigned i = 0; i < in->n; i++)
		free_subtree(l, in->child[i], levels - 1);
	inode_release(l, in);
}

void ledger_clear(struct ledger *l)
{
	if (l->root)
		free_subtree(l, l->root, l->height);
	l->root = NULL;
	l->height = 0;
	l->count = 0;
	l->bytes = 0;
	l->brk_start = l->brk_cur = 0;
}

void ledger_free(struct ledger *l)
{
	if (!l)
		return;
	ledger_clear(l);
	free(l);
}

/* Deep copy of a subtree into dst's accounting; NULL on allocation failure. */
static void *copy_subtree(struct ledger *dst, const void *node, unsigned levels)
{
	const struct inode *in = node;
	struct inode *copy;

	if (levels == 1) {
		const struct leaf *lf = node;
		struct leaf *nl = leaf_alloc(dst, lf->cap);

		if (!nl)
			return NULL;
		memcpy(nl->r, lf->r, lf->n * sizeof(lf->r[0]));
		nl->n = lf->n;
		for (unsigned i = 0; i < nl->n; i++)
			if (nl->r[i].origin == REGION_TRACED)
				nl->r[i].origin = REGION_INHERITED;
		return nl;
	}
	copy = inode_alloc(dst);
	if (!copy)
		return NULL;
	for (unsigned i = 0; i < in->n; i++) {
		copy->child[i] = copy_subtree(dst, in->child[i], levels - 1);
		if (!copy->child[i]) {
			copy->n = i;
			if (i)
				free_subtree(dst, copy, levels);
			else
				inode_release(dst, copy);
			return NULL;
		}
	}
	memcpy(copy->key, in->key, (in->n - 1) * sizeof(in->key[0]));
	copy->n = in->n;
	return copy;
}

struct ledger *ledger_copy(const struct ledger *l)
{
	struct ledger *copy = ledger_new_tuned(l->leaf_max, l->inode_max);

	if (!copy)
		return NULL;
	if (l->root) {
		copy->root = copy_subtree(copy, l->root, l->height);
		if (!copy->root) {
			ledger_free(copy);
			return NULL;
		}
	}
	copy->height = l->height;
	copy->count = l->count;
	copy->bytes = l->bytes;
	copy->brk_start = l->brk_start;
	copy->brk_cur = l->brk_cur;
	copy->lost = l->lost;
	return copy;
}

/* Insert r (a valid page range) after removing whatever it overlaps. */
static int insert_region_replacing(struct ledger *l, const struct region *r)
{
	remove_range(l, r->start, r->end, NULL);
	return insert_region(l, r);
}

int ledger_insert(struct ledger *l, const struct region *r)
{
	struct region ins = *r;
	uint64_t end;

	if (r->end <= r->start || !page_range(r->start, r->end - r->start, &end))
		return -EINVAL;
	ins.end = end;
	return insert_region_replacing(l, &ins);
}

uint64_t ledger_take(struct ledger *l, uint64_t start, uint64_t len, struct region_vec *out)
{
	uint64_t end;

	if (!page_range(start, len, &end))
		return 0;
	return remove_range(l, start, end, out);
}

/* Insert a copy of proto over [s, e) into holes only. */
static int fill_holes(struct ledger *l, const struct region *proto, uint64_t s, uint64_t e)
{
	struct region hole = *proto;
	struct cursor c;
	int err = 0;

	while (s < e) {
		const struct region *r = first_ending_after(l, s, &c);
		uint64_t next = r ? r->start : UINT64_MAX, after = r ? r->end : UINT64_MAX;

		if (next > s) {
			hole.start = s;
			hole.end = min_u64(next, e);
			err = insert_region(l, &hole);
			if (err)
				return err;
		}
		s = after;
	}
	return err;
}

static bool piece_valid(const struct region *p)
{
	uint64_t end;

	return p->end > p->start && !(p->end & (LEDGER_PAGE_SIZE - 1)) &&
	       page_range(p->start, p->end - p->start, &end);
}

static int put_back(struct ledger *l, const struct region_vec *pieces)
{
	int err = 0;

	for (size_t i = 0; pieces && i < pieces->n; i++) {
		const struct region *p = &pieces->v[i];

		if (piece_valid(p) && fill_holes(l, p, p->start, p->end))
			err = -ENOMEM;
	}
	return err;
}

void ledger_put_back(struct ledger *l, const struct region_vec *pieces)
{
	put_back(l, pieces);
}

/* The checks of an mremap's ranges; old_end and new_end get the rounded ends. */
static bool mremap_ranges(uint64_t old_addr, uint64_t old_len, uint64_t new_addr, uint64_t new_len,
			  uint64_t *old_end, uint64_t *new_end)
{
	if (old_addr & (LEDGER_PAGE_SIZE - 1))
		return false;
	if (old_len == 0)
		*old_end = old_addr;
	else if (!page_range(old_addr, old_len, old_end))
		return false;
	return page_range(new_addr, new_len, new_end);
}

/* Move the pieces of the old range to the cleared new range, clipped to its length. */
static int move_pieces(struct ledger *l, const struct region_vec *pieces, uint64_t old_addr,
		       uint64_t keep_len, uint64_t new_addr)
{
	uint64_t keep_end = old_addr + keep_len;
	int err = 0;

	for (size_t i = 0; pieces && i < pieces->n; i++) {
		struct region moved = pieces->v[i];

		if (!piece_valid(&moved))
			continue;
		moved.start = max_u64(moved.start, old_addr);
		moved.end = min_u64(moved.end, keep_end);
		if (moved.start >= moved.end)
			continue;
		moved.start = moved.start - old_addr + new_addr;
		moved.end = moved.end - old_addr + new_addr;
		if (ledger_insert(l, &moved))
			err = -ENOMEM;
	}
	return err;
}

/* The piece holding old_addr: the region the kernel remaps (one VMA). */
static const struct region *remapped_region(const struct region_vec *pieces, uint64_t old_addr)
{
	for (size_t i = 0; pieces && i < pieces->n; i++)
		if (piece_valid(&pieces->v[i]) && pieces->v[i].start <= old_addr &&
		    old_addr < pieces->v[i].end)
			return &pieces->v[i];
	return NULL;
}

int ledger_mremap_finish(struct ledger *l, const struct region_vec *pieces, uint64_t old_addr,
			 uint64_t old_len, uint64_t new_addr, uint64_t new_len, unsigned flags,
			 const struct region *proto)
{
	uint64_t old_end, new_end, old_size, new_size;
	const struct region *base;
	struct region grown = *proto;
	int err = 0;

	if (!mremap_ranges(old_addr, old_len, new_addr, new_len, &old_end, &new_end))
		return -EINVAL;
	old_size = old_end - old_addr;
	new_size = new_end - new_addr;
	base = remapped_region(pieces, old_addr);
	if ((flags & MREMAP_DONTUNMAP) || old_size == 0)
		err = put_back(l, pieces);
	remove_range(l, new_addr, new_end, NULL);
	if (base) {
		grown.kind = base->kind;
		grown.prot = base->prot;
		grown.flags = base->flags;
		grown.path = base->path;
	}
	if (base && base->origin != REGION_PREEXISTING) {
		/* one region, owned by its latest resizing call */
		grown.first_site = base->first_site ? base->first_site : base->site;
		grown.origin = REGION_TRACED;
		grown.start = new_addr;
		grown.end = new_end;
		return insert_region(l, &grown) ? -ENOMEM : err;
	}
	if (move_pieces(l, pieces, old_addr, min_u64(old_size, new_size), new_addr))
		err = -ENOMEM;
	if (new_size > old_size) {
		grown.start = new_addr + old_size;
		grown.end = new_end;
		if (insert_region(l, &grown))
			err = -ENOMEM;
	}
	return err;
}

int ledger_mremap(struct ledger *l, uint64_t old_addr, uint64_t old_len, uint64_t new_addr,
		  uint64_t new_len, unsigned flags, const struct region *proto)
{
	struct region_vec pieces = {0};
	uint64_t old_end, new_end;
	int err;

	if (!mremap_ranges(old_addr, old_len, new_addr, new_len, &old_end, &new_end))
		return -EINVAL;
	remove_range(l, old_addr, old_end, &pieces);
	err = ledger_mremap_finish(l, &pieces, old_addr, old_len, new_addr, new_len, flags, proto);
	region_vec_free(&pieces);
	return err;
}

void ledger_set_brk(struct ledger *l, uint64_t start_brk, uint64_t cur_brk)
{
	l->brk_start = start_brk;
	l->brk_cur = cur_brk;
}

int ledger_brk(struct ledger *l, uint64_t new_brk, const struct region *proto)
{
	uint64_t from = max_u64(l->brk_cur, l->brk_start), lo, hi;
	struct region heap = *proto;
	int err = 0;

	if (!l->brk_start || new_brk < l->brk_start)
		goto out;
	if (new_brk > from) {
		if (new_brk > UINT64_MAX - (LEDGER_PAGE_SIZE - 1))
			goto out; /* would wrap */
		heap.start = LEDGER_PAGE_ALIGN(from);
		heap.end = LEDGER_PAGE_ALIGN(new_brk);
		heap.kind = REGION_BRK;
		if (heap.end > heap.start && insert_region_replacing(l, &heap))
			err = -ENOMEM;
	} else if (new_brk < l->brk_cur && l->brk_cur <= UINT64_MAX - (LEDGER_PAGE_SIZE - 1)) {
		lo = LEDGER_PAGE_ALIGN(new_brk);
		hi = LEDGER_PAGE_ALIGN(l->brk_cur);
		if (hi > lo)
			remove_range(l, lo, hi, NULL);
	}
out:
	l->brk_cur = new_brk;
	return err;
}

uint64_t ledger_brk_start(const struct ledger *l)
{
	return l->brk_start;
}

uint64_t ledger_brk_current(const struct ledger *l)
{
	return l->brk_cur;
}

uint64_t ledger_take_shm(struct ledger *l, uint64_t addr, struct region_vec *out)
{
	struct cursor c;
	struct region seg;
	struct leaf *lf;

	if (!l->root)
		return 0;
	seek(l, addr, &c);
	lf = cur_leaf(&c);
	if (*cur_pos(&c) == 0)
		return 0;
	seg = lf->r[*cur_pos(&c) - 1];
	if (seg.start != addr || seg.kind != REGION_SHM)
		return 0;
	(*cur_pos(&c))--;
	leaf_delete(l, &c);
	if (out && region_vec_push(out, &seg))
		l->lost = true;
	return region_len(&seg);
}

const struct region *ledger_find(const struct ledger *l, uint64_t addr)
{
	struct cursor c;
	const struct leaf *lf;
	unsigned pos;

	if (!l->root)
		return NULL;
	seek(l, addr, &c);
	lf = cur_leaf(&c);
	pos = *cur_pos(&c);
	if (pos > 0 && lf->r[pos - 1].end > addr)
		return &lf->r[pos - 1];
	return NULL;
}

const struct region *ledger_first_after(const struct ledger *l, uint64_t addr)
{
	struct cursor c;

	return first_ending_after(l, addr, &c);
}

static int visit_subtree(const void *node, unsigned levels, ledger_visit_fn fn, void *arg)
{
	const struct inode *in = node;
	int ret;

	if (levels == 1) {
		const struct leaf *lf = node;

		for (unsigned i = 0; i < lf->n; i++) {
			ret = fn(&lf->r[i], arg);
			if (ret)
				return ret;
		}
		return 0;
	}
	for (unsigned i = 0; i < in->n; i++) {
		ret = visit_subtree(in->child[i], levels - 1, fn, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int ledger_foreach(const struct ledger *l, ledger_visit_fn fn, void *arg)
{
	if (!l->root)
		return 0;
	return visit_subtree(l->root, l->height, fn, arg);
}

int ledger_error(const struct ledger *l)
{
	return l->lost ? -ENOMEM : 0;
}

size_t ledger_count(const struct ledger *l)
{
	return l->count;
}

uint64_t ledger_bytes(const struct ledger *l)
{
	return l->bytes;
}

size_t ledger_memory(const struct ledger *l)
{
	return l->memory;
}

struct totals_acc {
	struct site_total *t;
	size_t n;
};

static int add_site_total(const struct region *r, void *arg)
{
	struct totals_acc *acc = arg;

	acc->t[acc->n].site = r->site;
	acc->t[acc->n].regions = 1;
	acc->t[acc->n].bytes = region_len(r);
	acc->n++;
	return 0;
}

static int cmp_site(const void *a, const void *b)
{
	const struct site_total *x = a, *y = b;

	return (x->site > y->site) - (x->site < y->site);
}

long ledger_totals_by_site(const struct ledger *l, struct site_total **out)
{
	struct totals_acc acc = {0};
	size_t n = 0;

	*out = NULL;
	if (!l->count)
		return 0;
	acc.t = malloc(l->count * sizeof(*acc.t));
	if (!acc.t)
		return -ENOMEM;
	ledger_foreach(l, add_site_total, &acc);
	qsort(acc.t, acc.n, sizeof(*acc.t), cmp_site);
	for (size_t i = 0; i < acc.n; i++) {
		if (n && acc.t[n - 1].site == acc.t[i].site) {
			acc.t[n - 1].regions++;
			acc.t[n - 1].bytes += acc.t[i].bytes;
		} else {
			acc.t[n++] = acc.t[i];
		}
	}
	*out = acc.t;
	return (long)n;
}
