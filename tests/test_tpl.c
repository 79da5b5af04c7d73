/* test_tpl.c -- the tpl image checker, a fuzz of it against tpl, and tpl values through mms. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
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
	"S(c$(is))#", "i##", "",
};
#define TT_NSPEC ((int)(sizeof(tt_fmt) / sizeof(tt_fmt[0])))

static const char *const tt_words[] = { "a", "", NULL, "a longer string, with spaces" };

/* Map specimen id onto tt_v. */
static tpl_node *tt_map(int id)
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
	}
	return NULL;
}

static void tt_set_bin(size_t n)
{
	static char blob[64] = "binary\0data\xff\x01 and more bytes after the NUL";

	tt_v.b.addr = blob;
	tt_v.b.sz = (uint32_t)n;
}

/* Pack arrays of arrays: outer element k has k inner elements (so one is empty). */
static void tt_pack_jagged(tpl_node *tn, int outer, int inner, int n)
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

static void tt_pack_nested(tpl_node *tn)
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
static void tt_pack(int id, tpl_node *tn)
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
	tpl_pack(tn, 0);
	if (id == 15) {
		tpl_pack(tn, 1);
		tpl_pack(tn, 1);
	}
}

/* The image tpl dumps for specimen id, in a malloc'd buffer. */
static unsigned char *tt_image(int id, size_t *len)
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
static void *tt_track_malloc(size_t n)
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

static void tt_release(void)
{
	while (tt_nowned)
		free(tt_owned[--tt_nowned]);
}

/* parent[k] = index of the A(...) around A number k (0: the root); returns how many A's. */
static int tt_atree(const char *fmt, int *parent)
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

static void tt_unpack_a(tpl_node *tn, const int *parent, int na, int k)
{
	int c;

	while (tpl_unpack(tn, k) > 0)
		for (c = 1; c <= na; c++)
			if (parent[c] == k)
				tt_unpack_a(tn, parent, na, c);
}

/* Unpack everything of a loaded tn the way a program would, freeing what it hands out. */
static void tt_unpack_all(tpl_node *tn, const char *fmt)
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

static size_t tt_craft(unsigned char *out, unsigned flags, const char *fmt, const uint32_t *fx,
		       size_t nfx, const void *data, size_t dlen)
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

static int tt_check_crafted(const char *fmt, const uint32_t *fx, size_t nfx, const void *data,
			    size_t dlen)
{
	static unsigned char buf[4096];

	return mms_tpl_image_check(buf, tt_craft(buf, 2, fmt, fx, nfx, data, dlen));
}

static void tt_put_u32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static int tt_silent_oops(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

/* ---- (a) the checker against images tpl dumps, and against broken ones ---- */

Test(tpl_image, accepts_what_tpl_dumps)
{
	unsigned char *img;
	tpl_node *tn;
	size_t len;
	int id;

	for (id = 0; id < TT_NSPEC; id++) {
		img = tt_image(id, &len);
		cr_expect_eq(mms_tpl_image_check(img, len), 0, "refused tpl's own image of \"%s\"",
			     tt_fmt[id]);
		tn = tt_map(id);
		cr_assert_eq(tpl_load(tn, TPL_MEM, img, len), 0);
		tt_unpack_all(tn, tt_fmt[id]);
		tpl_free(tn);
		free(img);
	}
	TT_NO_LEAKS();
}

Test(tpl_image, tpl_refuses_B_inside_S)
{
	tpl_print_fcn *saved = tpl_hook.oops;

	tpl_hook.oops = tt_silent_oops;
	cr_expect_null(tpl_map("A(S(isB))", &tt_v.pair), "tpl 1.6.1 has no B inside S(...)");
	tpl_hook.oops = saved;
}

Test(tpl_image, rejects_every_truncation)
{
	unsigned char *img, *cut;
	size_t len, l;
	int id;

	for (id = 0; id < TT_NSPEC; id++) {
		img = tt_image(id, &len);
		for (l = 0; l < len; l++) {
			cut = malloc(l ? l : 1);
			memcpy(cut, img, l);
			cr_expect_eq(mms_tpl_image_check(cut, l), MMS_EFORMAT, "%s cut at %zu",
				     tt_fmt[id], l);
			if (l >= 8) {
				tt_put_u32(cut + 4, (uint32_t)l);
				cr_expect_eq(mms_tpl_image_check(cut, l), MMS_EFORMAT,
					     "%s cut at %zu, length word patched", tt_fmt[id], l);
			}
			free(cut);
		}
		free(img);
	}
}

Test(tpl_image, rejects_wrong_length_and_trailing_bytes)
{
	unsigned char *img, *big;
	size_t len;
	int id;

	for (id = 0; id < TT_NSPEC; id++) {
		img = tt_image(id, &len);
		big = malloc(len + 1);
		memcpy(big, img, len);
		big[len] = 0;
		cr_expect_eq(mms_tpl_image_check(big, len + 1), MMS_EFORMAT, "trailing byte");
		tt_put_u32(big + 4, (uint32_t)len + 1);
		cr_expect_eq(mms_tpl_image_check(big, len + 1), MMS_EFORMAT, "trailing, patched");
		cr_expect_eq(mms_tpl_image_check(big, len), MMS_EFORMAT, "length word too big");
		tt_put_u32(big + 4, (uint32_t)len - 1);
		cr_expect_eq(mms_tpl_image_check(big, len), MMS_EFORMAT, "length word too small");
		tt_put_u32(big + 4, (uint32_t)len);
		cr_expect_eq(mms_tpl_image_check(big, len), 0);
		cr_expect_eq(mms_tpl_image_check(NULL, len), MMS_EFORMAT);
		free(big);
		free(img);
	}
}

Test(tpl_image, rejects_huge_counts_that_tpl_loads)
{
	static const uint32_t huge[] = { 0x80000000u, 0xffffffffu };
	unsigned char img[64];
	uint32_t zero = 0;
	tpl_node *tn;
	size_t len;
	int k;

	for (k = 0; k < 2; k++) {
		len = tt_craft(img, 0, "A(i)", NULL, 0, &huge[k], 4);
		cr_expect_eq(mms_tpl_image_check(img, len), MMS_EFORMAT, "count %#x", huge[k]);
		/* tpl's own check reads the count as an int: "no elements", and loads it */
		tn = tpl_map("A(i)", &tt_v.i);
		cr_expect_eq(tpl_load(tn, TPL_MEM, img, len), 0, "tpl_sanity passes count %#x",
			     huge[k]);
		/*
		 * tpl_unpack takes it as unsigned: the first element it unpacks lies at the very
		 * end of the image (no data bytes follow the count), and it would go on for
		 * 2^31 and more elements of 4 bytes. Shown by running it in
		 * tpl_fuzz.tpl_reads_out_of_bounds_where_checker_refuses; here only the count.
		 */
		cr_expect_lt(tpl_Alen(tn, 1), 0, "tpl reports a negative length");
		tpl_free(tn);
	}
	cr_expect_eq(tt_check_crafted("A(i)", NULL, 0, &zero, 4), 0, "an empty array is fine");
	len = tt_craft(img, 2, "A(s)", NULL, 0, &huge[0], 4);
	cr_expect_eq(mms_tpl_image_check(img, len), MMS_EFORMAT);
	cr_expect_eq(tt_check_crafted("A(i)", NULL, 0, (uint32_t[]){ 0x7fffffff }, 4), MMS_EFORMAT,
		     "a count needs its bytes");
	cr_expect_eq(tt_check_crafted("B", NULL, 0, (uint32_t[]){ 0x80000000u }, 4), MMS_EFORMAT);
	cr_expect_eq(tt_check_crafted("s", NULL, 0, (uint32_t[]){ 0xffffffffu }, 4), MMS_EFORMAT);
	cr_expect_eq(tt_check_crafted("s", NULL, 0, (uint32_t[]){ 2 }, 4), MMS_EFORMAT);
	cr_expect_eq(tt_check_crafted("s", NULL, 0, (uint32_t[]){ 2, 0x41 }, 5), 0);
}

Test(tpl_image, rejects_fxlens_tpl_map_cannot_have)
{
	static const uint32_t ones[11] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	int32_t data[4] = { 1, 2, 3, 4 };

	cr_expect_eq(tt_check_crafted("i#", (uint32_t[]){ 4 }, 1, data, 16), 0);
	cr_expect_eq(tt_check_crafted("i#", (uint32_t[]){ 0 }, 1, data, 0), MMS_EFORMAT);
	cr_expect_eq(tt_check_crafted("i#", (uint32_t[]){ 0x80000000u }, 1, data, 16), MMS_EFORMAT);
	cr_expect_eq(tt_check_crafted("i#", (uint32_t[]){ 5 }, 1, data, 16), MMS_EFORMAT);
	cr_expect_eq(tt_check_crafted("i#", NULL, 0, NULL, 0), MMS_EFORMAT, "lengths missing");
	cr_expect_eq(tt_check_crafted("c##", (uint32_t[]){ 0x10000, 0x10000 }, 2, data, 16),
		     MMS_EFORMAT, "a product of lengths beyond the image");
	cr_expect_eq(tt_check_crafted("c###########", ones, 11, data, 1), MMS_EFORMAT,
		     "tpl allows 10 contiguous #");
	cr_expect_eq(tt_check_crafted("c##########", ones, 10, data, 1), 0);
}

Test(tpl_image, rejects_bad_formats)
{
	static const char *const bad[] = {
		"x", "i(", "A(", "A()", "A)", "(i)", "i)", "A(i", "S(A(i))", "S(B)", "S(S(i))",
		"$(i)", "#", "B#", "A(i)#", "S(i$(c)#)", "iA", "iS", "AS(i)", "S$(i)", "A(#i)",
		"A(i)A", "A(i))", "S(i)S", "i\x01", "i ",
	};
	size_t k, npound;
	const char *c;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		for (npound = 0, c = bad[k]; *c; c++)
			npound += *c == '#';
		cr_expect_eq(tt_check_crafted(bad[k], (uint32_t[]){ 1, 1 }, npound,
					      "\0\0\0\0\0\0\0\0\0\0\0\0", 12),
			     MMS_EFORMAT, "format \"%s\"", bad[k]);
	}
	cr_expect_eq(tt_check_crafted("S(i$(c$(j)))", NULL, 0, "\1\0\0\0c\2\0", 7), 0);
}

Test(tpl_image, rejects_bad_preamble_and_format_without_nul)
{
	unsigned char img[32];
	size_t len = tt_craft(img, 2, "i", NULL, 0, "\1\0\0\0", 4);

	cr_assert_eq(mms_tpl_image_check(img, len), 0);
	img[0] = 'T';
	cr_expect_eq(mms_tpl_image_check(img, len), MMS_EFORMAT, "magic");
	img[0] = 't';
	img[3] = 2 | 4;
	cr_expect_eq(mms_tpl_image_check(img, len), MMS_EFORMAT, "unknown flag");
	img[3] = 2 | (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 0 : 1);
	cr_expect_eq(mms_tpl_image_check(img, len), MMS_EFORMAT, "foreign byte order");
	img[3] = 0;
	cr_expect_eq(mms_tpl_image_check(img, len), 0, "no null-strings flag is fine");
	/* "iiiiiiiii" with no NUL inside the image */
	memcpy(img + 8, "iiiiiiiiiiiiiiii", 16);
	tt_put_u32(img + 4, 24);
	cr_expect_eq(mms_tpl_image_check(img, 24), MMS_EFORMAT, "runaway format string");
	cr_expect_eq(mms_tpl_image_check(img, 8), MMS_EFORMAT, "preamble only");
}

Test(tpl_image, nesting_and_format_length_limits)
{
	char fmt[MMS_TPL_MAX_FMT + 8];
	uint32_t zero = 0;
	int d, k;

	for (d = MMS_TPL_MAX_DEPTH; d <= MMS_TPL_MAX_DEPTH + 1; d++) {
		memset(fmt, 0, sizeof(fmt));
		for (k = 0; k < d; k++) {
			fmt[2 * k] = 'A';
			fmt[2 * k + 1] = '(';
		}
		fmt[2 * d] = 'c';
		memset(fmt + 2 * d + 1, ')', (size_t)d);
		cr_expect_eq(tt_check_crafted(fmt, NULL, 0, &zero, 4),
			     d > MMS_TPL_MAX_DEPTH ? MMS_EFORMAT : 0, "depth %d", d);
	}
	memset(fmt, 0, sizeof(fmt));
	memset(fmt, 'c', MMS_TPL_MAX_FMT);
	cr_expect_eq(tt_check_crafted(fmt, NULL, 0, fmt, MMS_TPL_MAX_FMT), 0);
	fmt[MMS_TPL_MAX_FMT] = 'c';
	cr_expect_eq(tt_check_crafted(fmt, NULL, 0, fmt, MMS_TPL_MAX_FMT + 1), MMS_EFORMAT);
}

/* ---- (b) fuzz: mutants the checker accepts must unpack in bounds; refused ones, shown ---- */

#define TT_MUTANTS_PER_SEED 1500
#define TT_CHILD_CLEAN  0
#define TT_CHILD_OOB    3       /* faulted on the guard page right after the image */
#define TT_CHILD_FATAL  4       /* tpl called its fatal hook: exit() in a real program */
#define TT_CHILD_SEGV   5       /* faulted elsewhere */

static const int tt_seeds[] = { 8, 10, 11, 12, 14, 15, 17, 18, 19, 6, 7 };

static uint64_t tt_rng = 0x9e3779b97f4a7c15ull;

static uint64_t tt_rand(void)
{
	tt_rng ^= tt_rng << 13;
	tt_rng ^= tt_rng >> 7;
	tt_rng ^= tt_rng << 17;
	return tt_rng;
}

static uint32_t tt_interesting(uint32_t old, size_t len)
{
	static const uint32_t v[] = { 0, 1, 2, 3, 4, 0x7fffffff, 0x80000000u, 0x80000001u,
				      0xfffffffeu, 0xffffffffu, 0x10000 };

	switch (tt_rand() % 6) {
	case 0: return old + 1;
	case 1: return old - 1;
	case 2: return old * 2;
	case 3: return (uint32_t)len;
	case 4: return (uint32_t)(tt_rand() % 64);
	default: return v[tt_rand() % (sizeof(v) / sizeof(v[0]))];
	}
}

/* A random offset past the format whose uint32 is small: most likely a count or a length. */
static size_t tt_small_word(const unsigned char *buf, size_t len)
{
	size_t start = 8 + strnlen((const char *)buf + 8, len > 8 ? len - 8 : 0) + 1, at, k;
	uint32_t v;

	if (len < start + 4)
		return 4;
	at = start + tt_rand() % (len - start - 3);
	for (k = 0; k < len - start - 3; k++, at = at + 1 < len - 3 ? at + 1 : start) {
		memcpy(&v, buf + at, 4);
		if (v < 64)
			return at;
	}
	return at;
}

/* Apply one mutation to buf[0..*len) (capacity cap). */
static void tt_mutate(unsigned char *buf, size_t *len, size_t cap)
{
	size_t at, k, n;
	uint32_t old;

	switch (tt_rand() % 8) {
	case 6:
	case 7:                         /* a count or length word, aimed at */
		if (*len < 12)
			return;
		at = tt_small_word(buf, *len);
		memcpy(&old, buf + at, 4);
		tt_put_u32(buf + at, tt_interesting(old, *len));
		return;
	case 0:
		buf[tt_rand() % *len] ^= (unsigned char)(1u << (tt_rand() % 8));
		return;
	case 1:
		buf[tt_rand() % *len] = (unsigned char)tt_rand();
		return;
	case 2:
	case 3:                         /* a count or length word, anywhere past the magic */
		if (*len < 8)
			return;
		at = 4 + tt_rand() % (*len - 7);
		memcpy(&old, buf + at, 4);
		tt_put_u32(buf + at, tt_interesting(old, *len));
		return;
	case 4:
		*len = tt_rand() % *len;
		if (*len == 0)
			*len = 1;
		return;
	default:
		n = 1 + tt_rand() % 8;
		for (k = 0; k < n && *len < cap; k++)
			buf[(*len)++] = (unsigned char)tt_rand();
		return;
	}
}

/* A copy of img whose last byte is followed by an inaccessible page. */
struct tt_guard { unsigned char *base, *img; size_t maplen; };

static unsigned char *tt_guard_copy(struct tt_guard *g, const void *img, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), pages = (len + pg - 1) / pg + 1;

	g->maplen = (pages + 1) * pg;
	g->base = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(g->base, MAP_FAILED);
	cr_assert_eq(mprotect(g->base + pages * pg, pg, PROT_NONE), 0);
	g->img = g->base + pages * pg - len;
	memcpy(g->img, img, len);
	return g->img;
}

static const unsigned char *tt_guard_lo, *tt_guard_hi;

static void tt_on_segv(int sig, siginfo_t *si, void *uc)
{
	const unsigned char *a = si->si_addr;

	(void)sig;
	(void)uc;
	_exit(a >= tt_guard_lo && a < tt_guard_hi ? TT_CHILD_OOB : TT_CHILD_SEGV);
}

static void tt_child_fatal(const char *fmt, ...)
{
	(void)fmt;
	_exit(TT_CHILD_FATAL);
}

/* tpl_unpack allocates what the image says; a garbage length must not abort the child. */
static void *tt_capped_malloc(size_t n)
{
	return n > (64u << 20) ? NULL : malloc(n);
}

/* In a child: load img (which tpl_load accepts) from a guarded copy and unpack it all. */
static int tt_unpack_in_child(int id, const unsigned char *img, size_t len)
{
	struct sigaction sa = { .sa_sigaction = tt_on_segv, .sa_flags = SA_SIGINFO };
	struct tt_guard g;
	tpl_node *tn;
	pid_t pid;
	int fd;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid)
		return child_status(pid);
	fd = open("/dev/null", O_WRONLY);
	dup2(fd, 2);                    /* a sanitizer's report of the fault is expected noise */
	alarm(20);
	tt_guard_copy(&g, img, len);
	tt_guard_lo = g.img + len;
	tt_guard_hi = g.base + g.maplen;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	tpl_hook.fatal = tt_child_fatal;
	tpl_hook.oops = tt_silent_oops;
	tpl_hook.malloc = tt_capped_malloc;
	tn = tt_map(id);
	if (tpl_load(tn, TPL_MEM, g.img, len) != 0)
		_exit(6);
	tt_unpack_all(tn, tt_fmt[id]);
	_exit(TT_CHILD_CLEAN);
}

struct tt_tally {
	unsigned mutants, accepted, accepted_loaded, refused_loaded, oob, fatal, other;
};

/* The checker accepted mut: tpl must load-or-refuse it and unpack it inside its bounds. */
static void tt_accepted(int id, const unsigned char *mut, size_t len, struct tt_tally *t)
{
	unsigned char *copy = malloc(len), *guarded;
	struct tt_guard g;
	tpl_node *tn = tt_map(id);

	t->accepted++;
	memcpy(copy, mut, len);
	if (tpl_load(tn, TPL_MEM, copy, len) == 0) {
		t->accepted_loaded++;
		tt_unpack_all(tn, tt_fmt[id]);          /* ASan watches copy's bounds */
		guarded = tt_guard_copy(&g, mut, len);
		cr_assert_eq(tpl_load(tn, TPL_MEM, guarded, len), 0);
		tt_unpack_all(tn, tt_fmt[id]);          /* the guard page watches them here */
		munmap(g.base, g.maplen);
	}
	tpl_free(tn);
	free(copy);
}

/* The checker refused mut: when tpl would load it anyway, see what unpacking it does. */
static void tt_refused(int id, const unsigned char *mut, size_t len, struct tt_tally *t)
{
	unsigned char *copy = malloc(len);
	tpl_node *tn = tt_map(id);
	int loads, st;

	memcpy(copy, mut, len);
	loads = tpl_load(tn, TPL_MEM, copy, len) == 0;
	tpl_free(tn);
	free(copy);
	if (!loads)
		return;
	t->refused_loaded++;
	st = tt_unpack_in_child(id, mut, len);
	if (st == TT_CHILD_OOB)
		t->oob++;
	else if (st == TT_CHILD_FATAL)
		t->fatal++;
	else if (st != TT_CHILD_CLEAN)
		t->other++;
}

Test(tpl_fuzz, checker_agrees_with_tpl_bounds, .timeout = 300)
{
	struct tt_tally t = { 0 };
	tpl_print_fcn *saved = tpl_hook.oops;
	unsigned char *img, mut[512];
	size_t len, mlen, s;
	int m, k;

	tpl_hook.oops = tt_silent_oops;
	for (s = 0; s < sizeof(tt_seeds) / sizeof(tt_seeds[0]); s++) {
		img = tt_image(tt_seeds[s], &len);
		cr_assert_leq(len, sizeof(mut) / 2);
		for (m = 0; m < TT_MUTANTS_PER_SEED; m++) {
			memcpy(mut, img, len);
			mlen = len;
			for (k = 1 + (int)(tt_rand() % 3); k > 0; k--)
				tt_mutate(mut, &mlen, sizeof(mut));
			if (mlen >= 8 && tt_rand() % 4)
				tt_put_u32(mut + 4, (uint32_t)mlen);    /* past the length check */
			t.mutants++;
			if (mms_tpl_image_check(mut, mlen) == 0)
				tt_accepted(tt_seeds[s], mut, mlen, &t);
			else
				tt_refused(tt_seeds[s], mut, mlen, &t);
		}
		free(img);
	}
	tpl_hook.oops = saved;
	cr_log_info("tpl fuzz: %u mutants, %u accepted (%u loaded and unpacked in bounds); "
		    "of the refused, tpl_load took %u: %u read past the image, %u hit tpl's "
		    "fatal (exit), %u other failures\n", t.mutants, t.accepted, t.accepted_loaded,
		    t.refused_loaded, t.oob, t.fatal, t.other);
	cr_expect_gt(t.accepted_loaded, 100, "the fuzz reaches tpl_unpack");
	cr_expect_gt(t.oob, 0, "some refused mutants really make tpl read out of bounds");
	TT_NO_LEAKS();
}

Test(tpl_fuzz, tpl_reads_out_of_bounds_where_checker_refuses)
{
	unsigned char img[64];
	size_t len;

	len = tt_craft(img, 0, "A(i)", NULL, 0, (uint32_t[]){ 0x80000000u }, 4);
	cr_assert_eq(mms_tpl_image_check(img, len), MMS_EFORMAT);
	cr_expect_eq(tt_unpack_in_child(6, img, len), TT_CHILD_OOB,
		     "tpl_unpack reads an element past the end of an A(i) of 2^31 elements");
	len = tt_craft(img, 2, "A(s)", NULL, 0, (uint32_t[]){ 0xffffffffu }, 4);
	cr_assert_eq(mms_tpl_image_check(img, len), MMS_EFORMAT);
	cr_expect_eq(tt_unpack_in_child(8, img, len), TT_CHILD_OOB, "same for A(s)");
}

/* ---- (c) values through the library, once per backend ---- */

#define TT_AREA 4096

/* The nested value: A(S(is)) A(A(i)) A(s) B s, and what it unpacks into. */
struct tt_rt {
	struct tt_pair pair;
	int i;
	char *s, *root_s;
	tpl_bin b;
};

static tpl_node *tt_rt_map(struct tt_rt *r)
{
	return tpl_map("A(S(is))A(A(i))A(s)Bs", &r->pair, &r->i, &r->s, &r->b, &r->root_s);
}

static void tt_rt_pack(tpl_node *tn, struct tt_rt *r)
{
	int k, q;

	for (k = 0; k < 4; k++) {
		r->pair = (struct tt_pair){ k, (char *)tt_words[k] };
		tpl_pack(tn, 1);
	}
	for (k = 0; k < 4; k++) {
		for (q = 0; q < k; q++) {
			r->i = 10 * k + q;
			tpl_pack(tn, 3);
		}
		tpl_pack(tn, 2);
	}
	for (k = 0; k < 4; k++) {
		r->s = (char *)tt_words[3 - k];
		tpl_pack(tn, 4);
	}
	r->b = (tpl_bin){ "\0blob\xff", 6 };
	r->root_s = "root";
	tpl_pack(tn, 0);
}

static void tt_expect_str(char *got, const char *want)
{
	if (!want || !got)
		cr_expect_eq(got, want, "want \"%s\"", want ? want : "(null)");
	else
		cr_expect_str_eq(got, want);
	free(got);
}

/* Unpack what tt_rt_pack packed, checking every value. */
static void tt_rt_verify(tpl_node *tn, struct tt_rt *r)
{
	int k = 0, q, outer = 0;

	cr_assert_eq(tpl_unpack(tn, 0), 1, "tpl_unpack of the root returns 1");
	cr_expect_eq(r->b.sz, 6);
	cr_expect_arr_eq(r->b.addr, "\0blob\xff", 6);
	free(r->b.addr);
	tt_expect_str(r->root_s, "root");
	for (k = 0; tpl_unpack(tn, 1) > 0; k++) {
		cr_expect_eq(r->pair.i, k);
		tt_expect_str(r->pair.s, tt_words[k]);
	}
	cr_expect_eq(k, 4);
	for (outer = 0; tpl_unpack(tn, 2) > 0; outer++) {
		for (q = 0; tpl_unpack(tn, 3) > 0; q++)
			cr_expect_eq(r->i, 10 * outer + q);
		cr_expect_eq(q, outer);
	}
	cr_expect_eq(outer, 4);
	for (k = 0; tpl_unpack(tn, 4) > 0; k++)
		tt_expect_str(r->s, tt_words[3 - k]);
	cr_expect_eq(k, 4);
}

static void tt_store_rt(struct mms *m)
{
	struct tt_rt r = { 0 };
	tpl_node *tn = tt_rt_map(&r);

	tt_rt_pack(tn, &r);
	cr_assert_eq(mms_set_tpl(m, tn), 0);
	tpl_free(tn);
}

static void tt_load_rt(struct mms *m)
{
	struct tt_rt r = { 0 };
	tpl_node *tn = tt_rt_map(&r);

	cr_assert_eq(mms_get_tpl(m, tn), 0);
	tt_rt_verify(tn, &r);
	tpl_free(tn);
}

BACKEND_PARAMS(tpl_glue, nested_round_trip)
ParameterizedTest(int *i, tpl_glue, nested_round_trip)
{
	struct mms *m;

	cr_assert_eq(mms_new(&m, backend_at(i), TT_AREA), 0);
	tt_store_rt(m);
	tt_load_rt(m);
	tt_load_rt(m);                  /* a get does not consume the value */
	cr_assert_eq(mms_lock(m), 0);
	tt_store_rt(m);                 /* under the caller's lock */
	tt_load_rt(m);
	cr_assert_eq(mms_unlock(m), 0);
	mms_free(m);
	TT_NO_LEAKS();
}

BACKEND_PARAMS(tpl_glue, reloading_frees_the_private_copy)
ParameterizedTest(int *i, tpl_glue, reloading_frees_the_private_copy)
{
	struct tt_rt r = { 0 };
	struct mms *m;
	tpl_node *tn;

	cr_assert_eq(mms_new(&m, backend_at(i), TT_AREA), 0);
	tt_store_rt(m);
	tn = tt_rt_map(&r);
	cr_assert_eq(mms_get_tpl(m, tn), 0);
	cr_assert_eq(mms_get_tpl(m, tn), 0, "tpl_load releases the first copy");
	tt_rt_verify(tn, &r);
	tpl_free(tn);
	tn = tt_map(6);
	cr_assert_eq(mms_get_tpl(m, tn), MMS_EFORMAT);
	cr_assert_eq(mms_get_tpl(m, tn), MMS_EFORMAT, "a refused copy is not kept");
	tpl_free(tn);
	mms_free(m);
	TT_NO_LEAKS();
}

BACKEND_PARAMS(tpl_glue, every_specimen_round_trips)
ParameterizedTest(int *i, tpl_glue, every_specimen_round_trips)
{
	unsigned char *want, *got;
	size_t wlen, glen;
	struct mms *m;
	tpl_node *tn;
	int id;

	cr_assert_eq(mms_new(&m, backend_at(i), TT_AREA), 0);
	for (id = 0; id < TT_NSPEC; id++) {
		want = tt_image(id, &wlen);
		tn = tt_map(id);
		tt_pack(id, tn);
		cr_assert_eq(mms_set_tpl(m, tn), 0, "%s", tt_fmt[id]);
		tpl_free(tn);
		tn = tt_map(id);
		cr_assert_eq(mms_get_tpl(m, tn), 0, "%s", tt_fmt[id]);
		tt_unpack_all(tn, tt_fmt[id]);
		tpl_free(tn);
		/* what is stored is byte for byte what tpl dumps */
		got = malloc(TT_AREA);
		cr_assert_eq(mms_get(m, got, TT_AREA, &glen), 0);
		cr_expect_eq(glen, wlen, "%s", tt_fmt[id]);
		cr_expect_arr_eq(got, want, wlen < glen ? wlen : glen);
		free(got);
		free(want);
	}
	mms_free(m);
	TT_NO_LEAKS();
}

BACKEND_PARAMS(tpl_glue, large_value_grows_the_copy)
ParameterizedTest(int *i, tpl_glue, large_value_grows_the_copy)
{
	size_t n = 3 * 4096 + 17, k;
	unsigned char *blob = malloc(n);
	tpl_bin b = { blob, (uint32_t)n };
	struct mms *m;
	tpl_node *tn;

	for (k = 0; k < n; k++)
		blob[k] = (unsigned char)(k * 31);
	cr_assert_eq(mms_new(&m, backend_at(i), 1 << 16), 0);
	tn = tpl_map("B", &b);
	tpl_pack(tn, 0);
	cr_assert_eq(mms_set_tpl(m, tn), 0);
	tpl_free(tn);
	b = (tpl_bin){ NULL, 0 };
	tn = tpl_map("B", &b);
	cr_assert_eq(mms_get_tpl(m, tn), 0);
	cr_assert_eq(tpl_unpack(tn, 0), 1, "tpl_unpack of the root returns 1");
	cr_expect_eq(b.sz, n);
	cr_expect_arr_eq(b.addr, blob, n);
	free(b.addr);
	tpl_free(tn);
	free(blob);
	mms_free(m);
	TT_NO_LEAKS();
}

BACKEND_PARAMS(tpl_glue, empty_area_is_EEMPTY)
ParameterizedTest(int *i, tpl_glue, empty_area_is_EEMPTY)
{
	struct mms *m;
	tpl_node *tn;

	cr_assert_eq(mms_new(&m, backend_at(i), TT_AREA), 0);
	tn = tt_map(6);
	cr_expect_eq(mms_get_tpl(m, tn), MMS_EEMPTY);
	tpl_free(tn);
	mms_free(m);
	TT_NO_LEAKS();
}

BACKEND_PARAMS(tpl_glue, other_format_is_EFORMAT)
ParameterizedTest(int *i, tpl_glue, other_format_is_EFORMAT)
{
	struct mms *m;
	tpl_node *tn;
	int other[] = { 8, 9, 10, 0, 11, 13 };
	size_t k;

	cr_assert_eq(mms_new(&m, backend_at(i), TT_AREA), 0);
	tn = tt_map(6);                 /* A(i) */
	tt_pack(6, tn);
	cr_assert_eq(mms_set_tpl(m, tn), 0);
	tpl_free(tn);
	for (k = 0; k < sizeof(other) / sizeof(other[0]); k++) {
		tn = tt_map(other[k]);
		cr_expect_eq(mms_get_tpl(m, tn), MMS_EFORMAT, "stored A(i), asked %s",
			     tt_fmt[other[k]]);
		tpl_free(tn);
	}
	/* same format string, other fixed length: i# of 3 stored, i# of 2 asked */
	tn = tt_map(13);
	tt_pack(13, tn);
	cr_assert_eq(mms_set_tpl(m, tn), 0);
	tpl_free(tn);
	tn = tpl_map("i#", tt_v.i6, 2);
	cr_expect_eq(mms_get_tpl(m, tn), MMS_EFORMAT);
	tpl_free(tn);
	tn = tt_map(13);
	cr_expect_eq(mms_get_tpl(m, tn), 0, "the right map still loads");
	cr_expect_eq(tpl_unpack(tn, 0), 1);
	cr_expect_eq(tt_v.i6[2], 4);
	tpl_free(tn);
	mms_free(m);
	TT_NO_LEAKS();
}

BACKEND_PARAMS(tpl_glue, random_bytes_are_EFORMAT)
ParameterizedTest(int *i, tpl_glue, random_bytes_are_EFORMAT)
{
	unsigned char buf[256];
	struct mms *m;
	tpl_node *tn;
	size_t len, k;
	int n, err, valid;

	cr_assert_eq(mms_new(&m, backend_at(i), sizeof(buf)), 0);
	for (n = 0; n < 400; n++) {
		len = tt_rand() % sizeof(buf);
		for (k = 0; k < len; k++)
			buf[k] = (unsigned char)tt_rand();
		if (n % 2 && len >= 8) {        /* half of them look like an A(i) image at first */
			tt_craft(buf, 2, "A(i)", NULL, 0, NULL, 0);
			tt_put_u32(buf + 4, (uint32_t)len);
		}
		valid = mms_tpl_image_check(buf, len) == 0;
		cr_assert_eq(mms_set(m, buf, len), 0);
		tn = tt_map(6);
		err = mms_get_tpl(m, tn);
		if (err == 0) {
			cr_expect(valid, "loaded bytes the checker refuses");
			tt_unpack_all(tn, tt_fmt[6]);
		} else {
			cr_expect_eq(err, MMS_EFORMAT);
		}
		tpl_free(tn);
	}
	mms_free(m);
	TT_NO_LEAKS();
}

BACKEND_PARAMS(tpl_glue, too_big_keeps_the_old_value)
ParameterizedTest(int *i, tpl_glue, too_big_keeps_the_old_value)
{
	struct mms *m;
	tpl_node *tn;
	int k;

	cr_assert_eq(mms_new(&m, backend_at(i), 64), 0);
	tn = tpl_map("A(i)", &tt_v.i);
	tt_v.i = 77;
	tpl_pack(tn, 1);
	cr_assert_eq(mms_set_tpl(m, tn), 0);
	tpl_free(tn);
	tn = tpl_map("A(i)", &tt_v.i);
	for (k = 0; k < 100; k++)
		tpl_pack(tn, 1);
	cr_expect_eq(mms_set_tpl(m, tn), MMS_ETOOBIG);
	tpl_free(tn);
	tn = tpl_map("A(i)", &tt_v.i);
	cr_assert_eq(mms_get_tpl(m, tn), 0);
	tt_v.i = 0;
	cr_expect_gt(tpl_unpack(tn, 1), 0);
	cr_expect_eq(tt_v.i, 77);
	cr_expect_eq(tpl_unpack(tn, 1), 0, "one element, as stored");
	tpl_free(tn);
	mms_free(m);
	TT_NO_LEAKS();
}

BACKEND_PARAMS(tpl_glue, bad_arguments)
ParameterizedTest(int *i, tpl_glue, bad_arguments)
{
	char fmt[3 * (MMS_TPL_MAX_DEPTH + 1) + 2] = { 0 };
	struct mms *m;
	tpl_node *tn;
	int k;

	cr_assert_eq(mms_new(&m, backend_at(i), TT_AREA), 0);
	tn = tt_map(0);
	tt_pack(0, tn);
	cr_expect_eq(mms_set_tpl(NULL, tn), MMS_EINVAL);
	cr_expect_eq(mms_set_tpl(m, NULL), MMS_EINVAL);
	cr_expect_eq(mms_get_tpl(NULL, tn), MMS_EINVAL);
	cr_expect_eq(mms_get_tpl(m, NULL), MMS_EINVAL);
	tpl_free(tn);
	/* a format deeper than the checker reads is refused at set, not stored unreadable */
	for (k = 0; k <= MMS_TPL_MAX_DEPTH; k++) {
		fmt[2 * k] = 'A';
		fmt[2 * k + 1] = '(';
	}
	fmt[2 * k] = 'c';
	memset(fmt + 2 * k + 1, ')', (size_t)k);
	tn = tpl_map(fmt, &tt_v.c);
	cr_assert_not_null(tn);
	cr_expect_eq(mms_set_tpl(m, tn), MMS_EFORMAT);
	tpl_free(tn);
	tn = tt_map(0);
	cr_expect_eq(mms_get_tpl(m, tn), MMS_EEMPTY, "nothing was stored");
	tpl_free(tn);
	mms_free(m);
	TT_NO_LEAKS();
}

/* ---- tpl's hooks: silent and non-fatal inside mms calls, chained outside them ---- */

static int tt_prev_oops_calls;

static int tt_counting_oops(const char *fmt, ...)
{
	(void)fmt;
	tt_prev_oops_calls++;
	return 0;
}

static void tt_prev_fatal(const char *fmt, ...)
{
	(void)fmt;
	_exit(42);
}

static void *tt_fail_after_first(size_t n)
{
	static int calls;

	return calls++ ? NULL : malloc(n);
}

/* In a child: the checks, as an exit code (0 when all hold). */
static int tt_hooks_child(const char *backend)
{
	tpl_node *tn;
	struct mms *m;
	int err;

	tpl_hook.oops = tt_counting_oops;       /* before any mms call: these are "previous" */
	tpl_hook.fatal = tt_prev_fatal;
	if (mms_new(&m, backend, TT_AREA))
		return 1;
	tn = tt_map(6);
	tt_pack(6, tn);
	if (mms_set_tpl(m, tn))
		return 2;
	tpl_free(tn);
	tn = tt_map(8);                         /* tpl_load complains: silently */
	if (mms_get_tpl(m, tn) != MMS_EFORMAT || tt_prev_oops_calls != 0)
		return 3;
	tpl_free(tn);
	tn = tt_map(8);                         /* outside mms calls, the previous hook hears */
	if (tpl_load(tn, TPL_MEM, "not an image", (size_t)12) == 0 || tt_prev_oops_calls == 0)
		return 4;
	tpl_free(tn);
	/* a packed A(i) node: tpl_load resets it, which allocates; tpl's fatal hook fires */
	tn = tt_map(6);
	tt_pack(6, tn);
	tpl_hook.malloc = tt_fail_after_first;  /* the private copy succeeds, tpl's next fails */
	errno = 0;
	err = mms_get_tpl(m, tn);
	tpl_hook.malloc = malloc;
	if (err != MMS_ESYS || errno != ENOMEM)
		return 5;
	/* tn is left half reset by tpl (not freed); outside mms calls fatal chains */
	tpl_gather(99);
	return 6;
}

BACKEND_PARAMS(tpl_glue, hooks_never_print_or_exit)
ParameterizedTest(int *i, tpl_glue, hooks_never_print_or_exit)
{
	int pipefd[2];
	char out[256];
	ssize_t got;
	pid_t pid;

	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], 2);
		dup2(pipefd[1], 1);
		_exit(tt_hooks_child(backend_at(i)));
	}
	close(pipefd[1]);
	cr_expect_eq(child_status(pid), 42, "0-6: a check failed; 42: fatal reached the old hook");
	got = read(pipefd[0], out, sizeof(out) - 1);
	cr_expect_eq(got, 0, "tpl printed: %.*s", (int)(got > 0 ? got : 0), out);
	close(pipefd[0]);
}
