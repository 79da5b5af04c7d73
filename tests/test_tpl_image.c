/* test_tpl_image.c -- the tpl image checker against images tpl dumps, and against broken ones. */
#include "tpl_specimens.h"

static int tt_check_crafted(const char *fmt, const uint32_t *fx, size_t nfx, const void *data,
			    size_t dlen)
{
	static unsigned char buf[4096];

	return mms_tpl_image_check(buf, tt_craft(buf, tt_tpl_flags(fmt), fmt, fx, nfx, data, dlen));
}

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
	unsigned char img[32], flags = (unsigned char)tt_tpl_flags("i");
	size_t len = tt_craft(img, flags, "i", NULL, 0, "\1\0\0\0", 4);

	cr_assert_eq(mms_tpl_image_check(img, len), 0);
	img[0] = 'T';
	cr_expect_eq(mms_tpl_image_check(img, len), MMS_EFORMAT, "magic");
	img[0] = 't';
	img[3] = flags | 4;
	cr_expect_eq(mms_tpl_image_check(img, len), MMS_EFORMAT, "unknown flag");
	img[3] = flags ^ 1;
	cr_expect_eq(mms_tpl_image_check(img, len), MMS_EFORMAT, "foreign byte order");
	img[3] = flags;
	/* "iiiiiiiii" with no NUL inside the image */
	memcpy(img + 8, "iiiiiiiiiiiiiiii", 16);
	tt_put_u32(img + 4, 24);
	cr_expect_eq(mms_tpl_image_check(img, 24), MMS_EFORMAT, "runaway format string");
	cr_expect_eq(mms_tpl_image_check(img, 8), MMS_EFORMAT, "preamble only");
}

/*
 * tpl_sanity reads strings as tpl 1.2 wrote them when the null-strings flag is missing, but
 * tpl_load then overwrites the node's flags and tpl_unpack reads them as 1.3 writes them: only
 * the flags byte tpl_dump itself writes (tt_tpl_flags) makes both agree.
 */
Test(tpl_image, accepts_only_the_flags_tpl_writes)
{
	unsigned char *img;
	unsigned flags, want;
	size_t len;
	int id;

	for (id = 0; id < TT_NSPEC; id++) {
		img = tt_image(id, &len);
		want = tt_tpl_flags(tt_fmt[id]);
		cr_expect_eq(img[3], want, "tpl wrote flags %#x for \"%s\"", img[3], tt_fmt[id]);
		for (flags = 0; flags < 256; flags++) {
			img[3] = (unsigned char)flags;
			cr_expect_eq(mms_tpl_image_check(img, len), flags == want ? 0 : MMS_EFORMAT,
				     "\"%s\" with flags %#x", tt_fmt[id], flags);
		}
		free(img);
	}
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

