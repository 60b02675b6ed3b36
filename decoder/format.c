/* decoder/format.c - prints decoded memory syscalls in strace 6.1's default notation, byte
 * for byte: argument order and styles (NULL / hex addresses, decimal lengths, fds as ints,
 * offsets as 0 or 0x..), the flag names in the order of strace's tables, the "= " column at
 * 40, hex results for mmap/mremap/brk/shmat, and "-1 EXXX (message)" failures. Also the
 * flag strings the report uses. Checked against lines strace itself printed
 * (tests/golden/memcalls.strace, tests/check_format.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <linux/mman.h>

#include "decoder/format.h"

#define STRACE_RESULT_COLUMN 40 /* strace's default -a: "= " starts at this column */

#define MAP_TYPE_MASK 0xfULL /* MAP_TYPE */
#define MAP_HUGE_BITS ((uint64_t)MAP_HUGE_MASK << MAP_HUGE_SHIFT)

/* Output that counts like snprintf: len is what would have been written. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	size_t room = o->len < o->size ? o->size - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static int finish(struct out *o)
{
	if (o->size && o->len >= o->size)
		o->buf[o->size - 1] = '\0';
	else if (o->size && o->len == 0)
		o->buf[0] = '\0';
	return (int)o->len;
}

struct flag_name {
	uint64_t value;
	const char *name;
};

/* strace's xlat tables, in strace's order (which is the order it prints in). */
static const struct flag_name prot_names[] = {
	{PROT_READ, "PROT_READ"},	    {PROT_WRITE, "PROT_WRITE"},
	{PROT_EXEC, "PROT_EXEC"},	    {PROT_SEM, "PROT_SEM"},
	{PROT_GROWSDOWN, "PROT_GROWSDOWN"}, {PROT_GROWSUP, "PROT_GROWSUP"},
};

static const struct flag_name map_type_names[] = {
	{MAP_SHARED, "MAP_SHARED"},
	{MAP_PRIVATE, "MAP_PRIVATE"},
	{MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE"},
	{0, "MAP_FILE"},
};

/* MAP_32BIT exists only on x86; the rest are the generic values. */
static const struct flag_name map_flag_names[] = {
	{MAP_FIXED, "MAP_FIXED"},
	{MAP_ANONYMOUS, "MAP_ANONYMOUS"},
	{MAP_32BIT, "MAP_32BIT"},
	{MAP_NORESERVE, "MAP_NORESERVE"},
	{MAP_POPULATE, "MAP_POPULATE"},
	{MAP_NONBLOCK, "MAP_NONBLOCK"},
	{MAP_GROWSDOWN, "MAP_GROWSDOWN"},
	{MAP_DENYWRITE, "MAP_DENYWRITE"},
	{MAP_EXECUTABLE, "MAP_EXECUTABLE"},
	{MAP_LOCKED, "MAP_LOCKED"},
	{MAP_STACK, "MAP_STACK"},
	{MAP_HUGETLB, "MAP_HUGETLB"},
	{MAP_SYNC, "MAP_SYNC"},
	{MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"},
};

static const struct flag_name mremap_names[] = {
	{MREMAP_MAYMOVE, "MREMAP_MAYMOVE"},
	{MREMAP_FIXED, "MREMAP_FIXED"},
	{MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP"},
};

static const struct flag_name shm_names[] = {
	{SHM_RDONLY, "SHM_RDONLY"},
	{SHM_RND, "SHM_RND"},
	{SHM_REMAP, "SHM_REMAP"},
	{SHM_EXEC, "SHM_EXEC"},
};

#define NAMES(t) t, sizeof(t) / sizeof((t)[0])

/* Names of the set flags joined by '|', then the unknown rest in hex. skip is a flag the
 * architecture does not have. Returns how many names were printed. */
static int put_flag_names(struct out *o, uint64_t flags, const struct flag_name *t, size_t n,
			  uint64_t skip, uint64_t *rest)
{
	int printed = 0;

	for (size_t i = 0; i < n; i++) {
		if (!t[i].value || t[i].value == skip || (flags & t[i].value) != t[i].value)
			continue;
		put(o, "%s%s", printed ? "|" : "", t[i].name);
		flags &= ~t[i].value;
		printed++;
	}
	*rest = flags;
	return printed;
}

/* strace's printflags: zero_name (or "0") for 0, unknown bits as "|0x.." after names or
 * "0x.. / * PREFIX_??? * /" alone. */
static void put_flags(struct out *o, uint64_t flags, const struct flag_name *t, size_t n,
		      const char *zero_name, const char *prefix)
{
	uint64_t rest;
	int printed;

	if (!flags) {
		put(o, "%s", zero_name ? zero_name : "0");
		return;
	}
	printed = put_flag_names(o, flags, t, n, 0, &rest);
	if (!rest)
		return;
	if (printed)
		put(o, "|%#" PRIx64, rest);
	else
		put(o, "%#" PRIx64 " /* %s_??? */", rest, prefix);
}

static void put_prot(struct out *o, uint64_t prot)
{
	put_flags(o, prot, NAMES(prot_names), "PROT_NONE", "PROT");
}

static void put_map_type(struct out *o, uint64_t type)
{
	for (size_t i = 0; i < sizeof(map_type_names) / sizeof(map_type_names[0]); i++) {
		if (map_type_names[i].value == type) {
			put(o, "%s", map_type_names[i].name);
			return;
		}
	}
	put(o, "%#" PRIx64 " /* MAP_??? */", type);
}

/* strace prints the type (low 4 bits) by value, then the flag bits, then the MAP_HUGE_*
 * size as "N<<MAP_HUGE_SHIFT". strace 6.1 looks only at the low 32 bits. */
static void put_map_flags(struct out *o, uint64_t flags, bool has_map_32bit)
{
	uint64_t huge, rest;

	flags = (uint32_t)flags;
	put_map_type(o, flags & MAP_TYPE_MASK);
	flags &= ~MAP_TYPE_MASK;
	huge = flags & MAP_HUGE_BITS;
	flags &= ~MAP_HUGE_BITS;
	if (flags) {
		put(o, "|");
		if (put_flag_names(o, flags, NAMES(map_flag_names), has_map_32bit ? 0 : MAP_32BIT,
				   &rest))
			put(o, rest ? "|" : "");
		if (rest)
			put(o, "%#" PRIx64, rest);
	}
	if (huge)
		put(o, "|%" PRIu64 "<<MAP_HUGE_SHIFT", huge >> MAP_HUGE_SHIFT);
}

int format_prot(char *buf, size_t size, uint64_t prot)
{
	struct out o = {buf, size, 0};

	put_prot(&o, prot);
	return finish(&o);
}

int format_map_flags(char *buf, size_t size, uint64_t flags)
{
	struct out o = {buf, size, 0};

	put_map_flags(&o, flags, true);
	return finish(&o);
}

int format_mremap_flags(char *buf, size_t size, uint64_t flags)
{
	struct out o = {buf, size, 0};

	put_flags(&o, flags, NAMES(mremap_names), NULL, "MREMAP");
	return finish(&o);
}

void format_prot_rwx(char out[4], uint64_t prot)
{
	out[0] = prot & PROT_READ ? 'r' : '-';
	out[1] = prot & PROT_WRITE ? 'w' : '-';
	out[2] = prot & PROT_EXEC ? 'x' : '-';
	out[3] = '\0';
}

/* strace's printaddr: NULL or lowercase hex. */
static void put_addr(struct out *o, uint64_t addr)
{
	if (addr)
		put(o, "%#" PRIx64, addr);
	else
		put(o, "NULL");
}

static bool is_x86(const struct mem_call *c)
{
	return c->arch == VM_ARCH_X86_64 || c->arch == VM_ARCH_I386;
}

static void put_mmap_args(struct out *o, const struct mem_call *c)
{
	if (c->mem_fault) { /* i386 old mmap whose argument block could not be read */
		put_addr(o, (uint32_t)c->args[0]);
		return;
	}
	put_addr(o, c->addr);
	put(o, ", %" PRIu64 ", ", c->len);
	put_prot(o, c->prot);
	put(o, ", ");
	put_map_flags(o, c->flags, is_x86(c));
	put(o, ", %d, ", (int)c->fd);
	if (c->offset)
		put(o, "%#" PRIx64, c->offset);
	else
		put(o, "0");
}

static void put_mremap_args(struct out *o, const struct mem_call *c)
{
	put_addr(o, c->addr);
	put(o, ", %" PRIu64 ", %" PRIu64 ", ", c->len, c->new_len);
	put_flags(o, c->flags, NAMES(mremap_names), NULL, "MREMAP");
	if ((c->flags & (MREMAP_MAYMOVE | MREMAP_FIXED)) == (MREMAP_MAYMOVE | MREMAP_FIXED)) {
		put(o, ", ");
		put_addr(o, c->new_addr);
	}
}

static void put_shmat_args(struct out *o, const struct mem_call *c)
{
	put(o, "%d, ", (int)c->shmid);
	put_addr(o, c->addr);
	put(o, ", ");
	put_flags(o, (uint32_t)c->flags, NAMES(shm_names), NULL, "SHM");
}

static void put_args(struct out *o, const struct mem_call *c)
{
	switch (c->op) {
	case MEM_MMAP:
		put_mmap_args(o, c);
		break;
	case MEM_MUNMAP:
		put_addr(o, c->addr);
		put(o, ", %" PRIu64, c->len);
		break;
	case MEM_MREMAP:
		put_mremap_args(o, c);
		break;
	case MEM_BRK:
	case MEM_SHMDT:
		put_addr(o, c->addr);
		break;
	case MEM_SHMAT:
		put_shmat_args(o, c);
		break;
	default:
		put(o, "...");
		break;
	}
}

/* The kernel's restart codes, which strace prints as "= ? NAME (text)". */
static const char *const restart_text[][2] = {
	{"ERESTARTSYS", "To be restarted if SA_RESTART is set"},
	{"ERESTARTNOINTR", "To be restarted"},
	{"ERESTARTNOHAND", "To be restarted if no handler"},
	{"ENOIOCTLCMD", "No ioctl command"},
	{"ERESTART_RESTARTBLOCK", "Interrupted by signal"},
};

static void put_error(struct out *o, int err)
{
	const char *name;

	if (err >= 512 && err <= 516) {
		put(o, "? %s (%s)", restart_text[err - 512][0], restart_text[err - 512][1]);
		return;
	}
	name = strerrorname_np(err);
	if (name)
		put(o, "-1 %s (%s)", name, strerror(err));
	else
		put(o, "-1 ERRNO_%d (%s)", err, strerror(err));
}

static bool result_in_hex(enum mem_op op)
{
	return op == MEM_MMAP || op == MEM_MREMAP || op == MEM_BRK || op == MEM_SHMAT;
}

/* strace ends the call with ") ", pads to its result column and prints "= value". */
static void put_result(struct out *o, const struct mem_call *c, const struct mem_result *r,
		       size_t column)
{
	put(o, " ");
	while (column + o->len < STRACE_RESULT_COLUMN)
		put(o, " ");
	put(o, "= ");
	if (!r)
		put(o, "?");
	else if (r->is_error)
		put_error(o, r->err);
	else if (result_in_hex(c->op))
		put(o, "%#" PRIx64, r->value);
	else
		put(o, "%" PRId64, (int64_t)r->value);
}

int format_call_at(char *buf, size_t size, size_t column, const struct mem_call *c,
		   const struct mem_result *r)
{
	struct out o = {buf, size, 0};

	put(&o, "%s(", c->name ? c->name : mem_op_name(c->op));
	put_args(&o, c);
	put(&o, ")");
	put_result(&o, c, r, column);
	return finish(&o);
}

int format_call(char *buf, size_t size, const struct mem_call *c, const struct mem_result *r)
{
	return format_call_at(buf, size, 0, c, r);
}
