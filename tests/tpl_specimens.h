/* tpl_specimens.h -- what the tpl test files share: specimens, hand-made images, unpacking. */
#ifndef MMS_TEST_TPL_SPECIMENS_H
#define MMS_TEST_TPL_SPECIMENS_H

#include <stdlib.h>
#include <tpl.h>

#include "common.h"
#include "tpl_image.h"

extern tpl_hook_t tpl_hook;     /* exported by libtpl, not declared in tpl.h */

/* Under ASan a leak only shows at exit, after the verdict: ask LeakSanitizer while testing. */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define TT_NO_LEAKS() \
	cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "leaks: see LeakSanitizer's report")
#else
#define TT_NO_LEAKS() do { } while (0)
#endif

/* ---- specimens: formats that tpl_map accepts, the variables they map, values to pack ---- */

struct tt_pair { int i; char *s; };
struct tt_ci { char c; int i; };
struct tt_cis { char c; int i; char *s; };     /* S(c$(is)): tpl lays $(...) out flat */

static struct {
	int i, i2, i6[6];
	char c, *s, *s2;
	int16_t j, jj[2];
	uint16_t v;
	uint32_t u;
	int64_t I;
	uint64_t U;
	double f;
	tpl_bin b;
	struct tt_pair pair;
	struct tt_ci ci[4];
	struct tt_cis cis[2];
} tt_v;

static const char *const tt_fmt[] = {
	"i", "s", "s", "s", "B", "B", "A(i)", "A(i)", "A(s)", "S(is)", "A(S(is))", "A(A(i))",
	"A(S(is)B)", "i#", "A(A(s))", "S(ci)#A(j#)", "cjvuIUf", "A(A(A(c)))", "iA(sA(iB))s",
	"S(c$(is))#", "i##", "", "ss", "sA(c)",
};
#define TT_NSPEC ((int)(sizeof(tt_fmt) / sizeof(tt_fmt[0])))

static const char *const tt_words[] = { "a", "", NULL, "a longer string, with spaces" };

/* Map specimen id onto tt_v. */
static inline tpl_node *tt_map(int id)
{
	const char *f = tt_fmt[id];

	switch (id) {
	case 0: case 6: case 7: case 11:
		return tpl_map((char *)f, &tt_v.i);
	case 13:
		return tpl_map((char *)f, tt_v.i6, 3);
	case 20:
		return tpl_map((char *)f, tt_v.i6, 2, 3);
	case 21:
		return tpl_map((char *)f);
	case 1: case 2: case 3: case 8:
		return tpl_map((char *)f, &tt_v.s);
	case 4: case 5:
		return tpl_map((char *)f, &tt_v.b);
	case 9: case 10:
		return tpl_map((char *)f, &tt_v.pair);
	case 12:
		return tpl_map((char *)f, &tt_v.pair, &tt_v.b);
	case 14:
		return tpl_map((char *)f, &tt_v.s);
	case 15:
		return tpl_map((char *)f, tt_v.ci, 4, tt_v.jj, 2);
	case 16:
		return tpl_map((char *)f, &tt_v.c, &tt_v.j, &tt_v.v, &tt_v.u, &tt_v.I, &tt_v.U,
			       &tt_v.f);
	case 17:
		return tpl_map((char *)f, &tt_v.c);
	case 18:
		return tpl_map((char *)f, &tt_v.i, &tt_v.s, &tt_v.i2, &tt_v.b, &tt_v.s2);
	case 19:
		return tpl_map((char *)f, tt_v.cis, 2);
	case 22:
		return tpl_map((char *)f, &tt_v.s, &tt_v.s2);
	case 23:
		return tpl_map((char *)f, &tt_v.s, &tt_v.c);
	}
	return NULL;
}

static inline void tt_set_bin(size_t n)
{
	static char blob[64] = "binary\0data\xff\x01 and more bytes after the NUL";

	tt_v.b.addr = blob;
	tt_v.b.sz = (uint32_t)n;
}

/* Pack arrays of arrays: outer element k has k inner elements (so one is empty). */
static inline void tt_pack_jagged(tpl_node *tn, int outer, int inner, int n)
{
	int k, q;

	for (k = 0; k < n; k++) {
		for (q = 0; q < k; q++) {
			tt_v.i = 10 * k + q;
			tt_v.s = (char *)tt_words[(k + q) % 4];
			tpl_pack(tn, inner);
		}
		tpl_pack(tn, outer);
	}
}

static inline void tt_pack_nested(tpl_node *tn)
{
	int k, q;

	for (k = 0; k < 3; k++) {
		for (q = 0; q < k; q++) {
			tt_v.i2 = k * 100 + q;
			tt_set_bin((size_t)(k + q) * 3);
			tpl_pack(tn, 2);
		}
		tt_v.s = (char *)tt_words[k];
		tpl_pack(tn, 1);
	}
	tt_v.i = 42;
	tt_v.s2 = "tail";
	tpl_pack(tn, 0);
}

/* Fill tt_v with specimen id's values and pack them. */
static inline void tt_pack(int id, tpl_node *tn)
{
	int k;

	memset(&tt_v, 0, sizeof(tt_v));
	switch (id) {
	case 6: case 8: case 10: case 12:
		for (k = 0; k < 5; k++) {
			tt_v.i = k * 7 - 3;
			tt_v.s = (char *)tt_words[k % 4];
			tt_v.pair = (struct tt_pair){ k, (char *)tt_words[(k + 1) % 4] };
			tt_set_bin((size_t)k);
			tpl_pack(tn, 1);
		}
		return;
	case 7:
		return;                 /* an empty array */
	case 11: case 14:
		tt_pack_jagged(tn, 1, 2, 4);
		return;
	case 17:
		for (k = 0; k < 3; k++) {
			tt_v.c = (char)('a' + k);
			tpl_pack(tn, 3);
			tpl_pack(tn, 2);
			tpl_pack(tn, 1);
		}
		return;
	case 18:
		tt_pack_nested(tn);
		return;
	}
	tt_v.i = -5;
	tt_v.s = id == 2 ? NULL : id == 3 ? "" : "hello";
	tt_set_bin(id == 5 ? 0 : 4);
	tt_v.pair = (struct tt_pair){ 9, "nine" };
	for (k = 0; k < 6; k++)
		tt_v.i6[k] = k * k;
	for (k = 0; k < 4; k++)
		tt_v.ci[k] = (struct tt_ci){ (char)('w' + k), k - 2 };
	tt_v.jj[0] = -1;
	tt_v.jj[1] = 2;
	tt_v.c = 'c';
	tt_v.j = -300;
	tt_v.v = 60000;
	tt_v.u = 4000000000u;
	tt_v.I = -(1ll << 40);
	tt_v.U = 1ull << 63;
	tt_v.f = 2.5;
	tt_v.cis[0] = (struct tt_cis){ 'x', 1, "one" };
	tt_v.cis[1] = (struct tt_cis){ 'y', 2, NULL };
	tt_v.s2 = "world";
	tpl_pack(tn, 0);
	if (id == 15) {
		tpl_pack(tn, 1);
		tpl_pack(tn, 1);
	}
	for (k = 0; id == 23 && k < 3; k++) {
		tt_v.c = (char)('a' + k);
		tpl_pack(tn, 1);
	}
}

/* The image tpl dumps for specimen id, in a malloc'd buffer. */
static inline unsigned char *tt_image(int id, size_t *len)
{
	tpl_node *tn = tt_map(id);
	void *img = NULL;

	cr_assert_not_null(tn, "tpl_map refused %s", tt_fmt[id]);
	tt_pack(id, tn);
	cr_assert_eq(tpl_dump(tn, TPL_MEM, &img, len), 0);
	tpl_free(tn);
	return img;
}

/* ---- unpacking any specimen: the A(...) tree, and a record of what tpl_unpack allocates ---- */

#define TT_MAX_A 16

static void **tt_owned;
static size_t tt_nowned, tt_capowned;

/* tpl_hook.malloc while unpacking: everything tpl_unpack allocates belongs to the caller. */
static inline void *tt_track_malloc(size_t n)
{
	void *p = malloc(n), **grown;

	if (p && tt_nowned == tt_capowned) {
		grown = realloc(tt_owned, (tt_capowned * 2 + 16) * sizeof(*grown));
		if (!grown)
			return p;
		tt_owned = grown;
		tt_capowned = tt_capowned * 2 + 16;
	}
	if (p)
		tt_owned[tt_nowned++] = p;
	return p;
}

static inline void tt_release(void)
{
	while (tt_nowned)
		free(tt_owned[--tt_nowned]);
}

/* parent[k] = index of the A(...) around A number k (0: the root); returns how many A's. */
static inline int tt_atree(const char *fmt, int *parent)
{
	int stack[64], depth = 0, na = 0, pending = 0;
	const char *c;

	for (c = fmt; *c; c++) {
		if (*c == 'A')
			pending = ++na;
		else if (*c == 'S' || *c == '$')
			pending = -1;
		else if (*c == '(') {
			stack[depth] = pending > 0 ? pending : depth ? stack[depth - 1] : 0;
			depth++;
		} else if (*c == ')')
			depth--;
		if (*c == 'A')
			parent[na] = depth ? stack[depth - 1] : 0;
	}
	return na;
}

static inline void tt_unpack_a(tpl_node *tn, const int *parent, int na, int k)
{
	int c;

	while (tpl_unpack(tn, k) > 0)
		for (c = 1; c <= na; c++)
			if (parent[c] == k)
				tt_unpack_a(tn, parent, na, c);
}

/* Unpack everything of a loaded tn the way a program would, freeing what it hands out. */
static inline void tt_unpack_all(tpl_node *tn, const char *fmt)
{
	tpl_malloc_fcn *saved = tpl_hook.malloc;
	int parent[TT_MAX_A + 1], na = tt_atree(fmt, parent), c;

	tpl_hook.malloc = tt_track_malloc;
	tpl_unpack(tn, 0);
	for (c = 1; c <= na; c++)
		if (parent[c] == 0)
			tt_unpack_a(tn, parent, na, c);
	tpl_hook.malloc = saved;
	tt_release();
}

/* ---- images made by hand ---- */

/*
 * The flags byte tpl 1.6.1 writes for fmt on this CPU (tpl_dump_to_mem): bit 0 when the CPU is
 * big-endian, bit 1 (null strings) when the format holds an 's', nothing else.
 */
static inline unsigned tt_tpl_flags(const char *fmt)
{
	return (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 1u : 0u) | (strchr(fmt, 's') ? 2u : 0u);
}

/* Write into out an image with the given flags byte, format, '#' lengths and data; its length. */
static inline size_t tt_craft(unsigned char *out, unsigned flags, const char *fmt,
			      const uint32_t *fx, size_t nfx, const void *data, size_t dlen)
{
	size_t flen = strlen(fmt) + 1, len = 8 + flen + 4 * nfx + dlen;
	uint32_t total = (uint32_t)len;

	memcpy(out, "tpl", 3);
	out[3] = (unsigned char)flags;
	memcpy(out + 4, &total, 4);
	memcpy(out + 8, fmt, flen);
	if (nfx)
		memcpy(out + 8 + flen, fx, 4 * nfx);
	if (dlen)
		memcpy(out + 8 + flen + 4 * nfx, data, dlen);
	return len;
}

static inline void tt_put_u32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline int tt_silent_oops(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

/*
 * The two images of tpl 1.2's string format (flags 0: strings carry their plain length) that
 * tpl 1.6.1 walks one way in tpl_sanity and another in tpl_load and tpl_unpack, in malloc'd
 * buffers. TT_OLD_SS: "ss" holding "x" and 64 KiB of 'y'; tpl_unpack reads the second length
 * from "x" and the next three bytes (0x01000078) and copies 16 MiB from the image.
 * TT_OLD_SAC: "sA(c)" holding "x" and no elements; tpl_load's tpl_unpackA0 reads the count from
 * "x" (0x78) and calls the fatal hook.
 */
#define TT_OLD_SS  22
#define TT_OLD_SAC 23

static inline unsigned char *tt_old_string_image(int id, size_t *len)
{
	size_t n = id == TT_OLD_SS ? 1u << 16 : 0, dlen = 4 + 1 + 4 + n;
	unsigned char *data = malloc(dlen), *img = malloc(8 + strlen(tt_fmt[id]) + 1 + dlen);

	cr_assert(data && img);
	tt_put_u32(data, 1);
	data[4] = 'x';
	tt_put_u32(data + 5, (uint32_t)n);      /* the second string's length, or the count */
	memset(data + 9, 'y', n);
	*len = tt_craft(img, 0, tt_fmt[id], NULL, 0, data, dlen);
	free(data);
	return img;
}

/* ---- a reproducible stream of pseudo-random numbers (xorshift64) ---- */

static uint64_t tt_rng = 0x9e3779b97f4a7c15ull;

static inline uint64_t tt_rand(void)
{
	tt_rng ^= tt_rng << 13;
	tt_rng ^= tt_rng >> 7;
	tt_rng ^= tt_rng << 17;
	return tt_rng;
}

#endif
