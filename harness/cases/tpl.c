/* tpl.c -- cases: structured values through mms_set_tpl/mms_get_tpl, and images that are not. */
#include <stdlib.h>
#include <tpl.h>

#include "cases.h"

#define TPL_AREA 4096
#define TPL_RANDOM_IMAGES 400

static const char *const words[] = { "a", "", NULL, "a longer string, with spaces" };

/* The nested value A(S(is)) A(A(i)) A(s) B s, and what it unpacks into. */
struct nested {
	struct { int i; char *s; } pair;        /* an element of A(S(is)) */
	int i;                                  /* an element of the inner A(i) */
	char *s;                                /* an element of A(s) */
	tpl_bin b;                              /* the root's blob */
	char *root_s;                           /* the root's string */
};

static tpl_node *nested_map(struct nested *r)
{
	return tpl_map("A(S(is))A(A(i))A(s)Bs", &r->pair, &r->i, &r->s, &r->b, &r->root_s);
}

static void nested_pack(tpl_node *tn, struct nested *r)
{
	int k, q;

	for (k = 0; k < 4; k++) {
		r->pair.i = k;
		r->pair.s = (char *)words[k];
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
		r->s = (char *)words[3 - k];
		tpl_pack(tn, 4);
	}
	r->b = (tpl_bin){ "\0blob\xff", 6 };
	r->root_s = "root";
	tpl_pack(tn, 0);
}

/* Whether a string tpl handed out is want (both may be NULL); frees it. */
static int same_string(char *got, const char *want)
{
	int same = (!got && !want) || (got && want && !strcmp(got, want));

	free(got);
	return same;
}

/* Unpack what nested_pack packed, checking every value. */
static int nested_verify(struct conform_ctx *c, tpl_node *tn, struct nested *r)
{
	int k, q, ok;

	CHECK(c, tpl_unpack(tn, 0) == 1, "tpl_unpack of the root did not return 1");
	ok = r->b.sz == 6 && !memcmp(r->b.addr, "\0blob\xff", 6);
	free(r->b.addr);
	CHECK(c, ok, "the blob came back as %u bytes", r->b.sz);
	CHECK(c, same_string(r->root_s, "root"), "the root string changed");
	for (k = 0; tpl_unpack(tn, 1) > 0; k++)
		CHECK(c, k < 4 && r->pair.i == k && same_string(r->pair.s, words[k]),
		      "A(S(is)) element %d changed", k);
	CHECK(c, k == 4, "A(S(is)) came back with %d elements, not 4", k);
	for (k = 0; tpl_unpack(tn, 2) > 0; k++) {
		for (q = 0; tpl_unpack(tn, 3) > 0; q++)
			CHECK(c, r->i == 10 * k + q, "A(A(i)) element [%d][%d] changed", k, q);
		CHECK(c, q == k, "A(A(i)) element %d came back with %d elements", k, q);
	}
	CHECK(c, k == 4, "A(A(i)) came back with %d elements, not 4", k);
	for (k = 0; tpl_unpack(tn, 4) > 0; k++)
		CHECK(c, k < 4 && same_string(r->s, words[3 - k]), "A(s) element %d changed", k);
	CHECK(c, k == 4, "A(s) came back with %d elements, not 4", k);
	return CONFORM_PASS;
}

static int nested_store(struct conform_ctx *c, struct mms *m)
{
	struct nested r = { { 0, NULL }, 0, NULL, { NULL, 0 }, NULL };
	tpl_node *tn = nested_map(&r);

	CHECK(c, tn, "tpl_map refused the nested format");
	nested_pack(tn, &r);
	CHECK_OK(c, mms_set_tpl(m, tn));
	tpl_free(tn);
	return CONFORM_PASS;
}

static int nested_load(struct conform_ctx *c, struct mms *m)
{
	struct nested r = { { 0, NULL }, 0, NULL, { NULL, 0 }, NULL };
	tpl_node *tn = nested_map(&r);

	CHECK(c, tn, "tpl_map refused the nested format");
	CHECK_OK(c, mms_get_tpl(m, tn));
	if (nested_verify(c, tn, &r))
		return CONFORM_FAIL;
	tpl_free(tn);
	return CONFORM_PASS;
}

/* A nested value round-trips; a get does not consume it; both work under the caller's lock. */
static int round_trip(struct conform_ctx *c)
{
	struct mms *m;

	CHECK_OK(c, mms_new(&m, c->backend, TPL_AREA));
	if (nested_store(c, m) || nested_load(c, m) || nested_load(c, m))
		return CONFORM_FAIL;
	CHECK_OK(c, mms_lock(m));
	if (nested_store(c, m) || nested_load(c, m))
		return CONFORM_FAIL;
	CHECK_OK(c, mms_unlock(m));
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(tpl_round_trip,
	.name = "tpl.round_trip",
	.summary = "A(S(is))A(A(i))A(s)Bs with NULL and empty strings round-trips, held or not",
	.run = round_trip,
	.timeout_s = 10);

/* mms_get_tpl with fmt mapped onto scratch variables: its code. */
static int get_as(struct mms *m, const char *fmt)
{
	int i = 0, six[6] = { 0 };
	char *s = NULL;
	tpl_node *tn;
	int err;

	if (!strcmp(fmt, "i#"))
		tn = tpl_map("i#", six, 2);
	else if (strchr(fmt, 's'))
		tn = tpl_map((char *)fmt, &i, &s);
	else
		tn = tpl_map((char *)fmt, &i);
	if (!tn)
		return MMS_EINVAL;
	err = mms_get_tpl(m, tn);
	tpl_free(tn);
	return err;
}

/* Empty is MMS_EEMPTY; another format, or another fixed length, is MMS_EFORMAT. */
static int empty_and_other_format(struct conform_ctx *c)
{
	static const char *const other[] = { "i", "A(s)", "S(is)", "A(A(i))", "A(i)" };
	int i = 5, three[3] = { 2, 3, 4 }, got[3] = { 0 };
	struct mms *m;
	tpl_node *tn;
	size_t k;

	CHECK_OK(c, mms_new(&m, c->backend, TPL_AREA));
	CHECK_RC(c, get_as(m, "A(i)"), MMS_EEMPTY);
	tn = tpl_map("i#", three, 3);
	tpl_pack(tn, 0);
	CHECK_OK(c, mms_set_tpl(m, tn));
	tpl_free(tn);
	for (k = 0; k < sizeof(other) / sizeof(other[0]); k++)
		CHECK(c, get_as(m, other[k]) == MMS_EFORMAT, "stored i# (3), asked %s: %s",
		      other[k], conform_code(get_as(m, other[k])));
	CHECK(c, get_as(m, "i#") == MMS_EFORMAT, "stored i# of 3, asked i# of 2: %s",
	      conform_code(get_as(m, "i#")));
	tn = tpl_map("i#", got, 3);
	CHECK_OK(c, mms_get_tpl(m, tn));
	CHECK(c, tpl_unpack(tn, 0) == 1 && got[2] == 4, "the right map did not unpack the value");
	tpl_free(tn);
	tn = tpl_map("A(i)", &i);
	tpl_pack(tn, 1);
	CHECK_OK(c, mms_set_tpl(m, tn));
	tpl_free(tn);
	CHECK_RC(c, get_as(m, "i#"), MMS_EFORMAT);
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(tpl_empty_and_other_format,
	.name = "tpl.empty_and_other_format",
	.summary = "get_tpl of nothing is MMS_EEMPTY; of another format or fixed length MMS_EFORMAT",
	.run = empty_and_other_format,
	.timeout_s = 10);

/* The image tpl dumps for A(i) holding n ints, malloc'd. */
static unsigned char *ai_image(int n, size_t *len)
{
	void *img = NULL;
	tpl_node *tn;
	int i;

	tn = tpl_map("A(i)", &i);
	for (i = 0; i < n; i++)
		tpl_pack(tn, 1);
	if (tpl_dump(tn, TPL_MEM, &img, len))
		img = NULL;
	tpl_free(tn);
	return img;
}

/* Store bytes as a raw value, then mms_get_tpl them as A(i): 0 (unpacked in full) or a code. */
static int load_ai(struct mms *m, const void *bytes, size_t len, int *err)
{
	tpl_node *tn;
	int i;

	*err = mms_set(m, bytes, len);
	if (*err)
		return -1;
	tn = tpl_map("A(i)", &i);
	*err = mms_get_tpl(m, tn);
	if (!*err)
		while (tpl_unpack(tn, 1) > 0)
			;
	tpl_free(tn);
	return 0;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random bytes, half of them behind the start of a real A(i) image: 0 or MMS_EFORMAT, no crash. */
static int random_images(struct conform_ctx *c, struct mms *m, const unsigned char *real)
{
	unsigned char buf[256];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint32_t total;
	size_t len, k;
	int n, err;

	for (n = 0; n < TPL_RANDOM_IMAGES; n++) {
		len = xorshift(&seed) % sizeof(buf);
		for (k = 0; k < len; k++)
			buf[k] = (unsigned char)xorshift(&seed);
		if (n % 2 && len >= 13) {
			memcpy(buf, real, 13);          /* "tpl", flags, length, "A(i)\0" */
			total = (uint32_t)len;
			memcpy(buf + 4, &total, 4);
		}
		CHECK(c, !load_ai(m, buf, len, &err), "storing %zu random bytes said %s", len,
		      conform_code(err));
		CHECK(c, err == 0 || err == MMS_EFORMAT, "get_tpl of random bytes %d said %s", n,
		      conform_code(err));
	}
	return CONFORM_PASS;
}

/*
 * Stored bytes that are not an image of the format: every prefix of a real one, one byte more,
 * a count far beyond the image, random bytes. MMS_EFORMAT (random bytes may also load, and then
 * unpack in bounds); never a crash, which the runner would report.
 */
static int malformed_images(struct conform_ctx *c)
{
	unsigned char *real, *img;
	uint32_t huge = 0x7fffffff;
	size_t len, cut;
	struct mms *m;
	int err;

	real = ai_image(3, &len);
	CHECK(c, real && len >= 17 && !memcmp(real + 8, "A(i)", 5), "tpl_dump gave no A(i) image");
	CHECK_OK(c, mms_new(&m, c->backend, TPL_AREA));
	CHECK(c, !load_ai(m, real, len, &err) && err == 0, "a real image said %s", conform_code(err));
	for (cut = 0; cut < len; cut++) {
		CHECK(c, !load_ai(m, real, cut, &err), "storing a prefix said %s", conform_code(err));
		CHECK(c, err == MMS_EFORMAT, "the first %zu of %zu bytes of an image said %s", cut,
		      len, conform_code(err));
	}
	img = calloc(1, len + 1);
	CHECK(c, img, "out of memory");
	memcpy(img, real, len);
	CHECK(c, !load_ai(m, img, len + 1, &err) && err == MMS_EFORMAT,
	      "an image with a byte more said %s", conform_code(err));
	memcpy(img + 13, &huge, 4);             /* the count of A(i) */
	CHECK(c, !load_ai(m, img, len, &err) && err == MMS_EFORMAT,
	      "an image whose count is 2^31 - 1 said %s", conform_code(err));
	if (random_images(c, m, real))
		return CONFORM_FAIL;
	free(img);
	free(real);
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(tpl_malformed_images,
	.name = "tpl.malformed_images",
	.summary = "truncated, overlong, huge-count and 400 random images: MMS_EFORMAT, never a crash",
	.run = malformed_images,
	.timeout_s = 20);

/* A tpl value longer than size is MMS_ETOOBIG and the stored one stays. */
static int oversize_keeps_old(struct conform_ctx *c)
{
	struct mms *m;
	tpl_node *tn;
	int i = 77, k;

	CHECK_OK(c, mms_new(&m, c->backend, 64));
	tn = tpl_map("A(i)", &i);
	tpl_pack(tn, 1);
	CHECK_OK(c, mms_set_tpl(m, tn));
	tpl_free(tn);
	tn = tpl_map("A(i)", &i);
	for (k = 0; k < 100; k++)
		tpl_pack(tn, 1);
	CHECK_RC(c, mms_set_tpl(m, tn), MMS_ETOOBIG);
	tpl_free(tn);
	tn = tpl_map("A(i)", &i);
	CHECK_OK(c, mms_get_tpl(m, tn));
	i = 0;
	CHECK(c, tpl_unpack(tn, 1) > 0 && i == 77, "the stored element is %d, not 77", i);
	CHECK(c, tpl_unpack(tn, 1) == 0, "more than the one element stored");
	tpl_free(tn);
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(tpl_oversize_keeps_old,
	.name = "tpl.oversize_keeps_old",
	.summary = "a tpl value longer than size is MMS_ETOOBIG; the stored one still unpacks",
	.run = oversize_keeps_old,
	.timeout_s = 10);
