/* test_tpl_glue.c -- tpl values through mms_set_tpl/mms_get_tpl, and tpl's hooks around them.
 * Round trips, EEMPTY/EFORMAT, malformed images per backend: the cases in harness/cases/tpl.c. */
#include <errno.h>

#include "sysv.h"
#include "tpl_glue.h"
#include "tpl_specimens.h"

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

/*
 * mms_get_tpl loads exactly what the image checker accepts. The backend does not matter here;
 * that every backend refuses malformed images without a crash is the conformance case
 * tpl.malformed_images.
 */
Test(tpl_glue, loads_only_what_the_checker_accepts)
{
	unsigned char buf[256];
	struct mms *m;
	tpl_node *tn;
	size_t len, k;
	int n, err, valid;

	cr_assert_eq(mms_new(&m, mms_backends()[0], sizeof(buf)), 0);
	for (n = 0; n < 400; n++) {
		len = tt_rand() % sizeof(buf);
		for (k = 0; k < len; k++)
			buf[k] = (unsigned char)tt_rand();
		if (n % 2 && len >= 8) {        /* half of them look like an A(i) image at first */
			tt_craft(buf, tt_tpl_flags("A(i)"), "A(i)", NULL, 0, NULL, 0);
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

/*
 * Defect: an image in tpl 1.2's string format (flags 0) passed the checker and tpl_load, and
 * tpl_unpack then read far past it (see tt_old_string_image).
 */
Test(tpl_glue, old_string_format_is_EFORMAT)
{
	unsigned char *img;
	char *s1 = NULL, *s2 = NULL;
	struct mms *m;
	tpl_node *tn;
	size_t len;
	int err;

	img = tt_old_string_image(TT_OLD_SS, &len);
	cr_assert_eq(mms_new(&m, mms_backends()[0], 2 * len), 0);
	cr_assert_eq(mms_set(m, img, len), 0);
	tn = tpl_map("ss", &s1, &s2);
	err = mms_get_tpl(m, tn);
	cr_expect_eq(err, MMS_EFORMAT, "mms_get_tpl returned %d", err);
	if (!err) {                             /* a program trusts the 0 and unpacks */
		tpl_unpack(tn, 0);
		free(s1);
		free(s2);
	}
	tpl_free(tn);
	mms_free(m);
	free(img);
	TT_NO_LEAKS();
}

/* ---- a fatal error inside tpl_load: who owns the private copy ---- */

/* A copy of img[0..len) from tpl_hook.malloc, as mms_get_tpl hands to tpl. */
static void *tt_tpl_copy(const void *img, size_t len)
{
	void *buf = tpl_hook.malloc(len);

	cr_assert_not_null(buf);
	memcpy(buf, img, len);
	return buf;
}

/*
 * Defect: "sA(c)" in tpl 1.2's string format passes tpl_sanity, tpl_load gives the node the
 * buffer (TPL_UFREE), then tpl_unpackA0 reads the array count from the string's byte and calls
 * the fatal hook (tpl_fuzz.tpl_load_dies_where_checker_refuses shows it does). The glue freed the
 * buffer on that error and tpl_free(tn) freed it again. The image checker refuses such images
 * now, so the guarded load is called directly.
 */
Test(tpl_glue, fatal_inside_tpl_load_frees_once)
{
	unsigned char *img, *good;
	size_t len, glen;
	char c = 0, *s = NULL;
	tpl_node *tn;

	img = tt_old_string_image(TT_OLD_SAC, &len);
	cr_assert_eq(mms_tpl_image_check(img, len), MMS_EFORMAT, "the checker refuses it");
	tn = tpl_map("sA(c)", &s, &c);
	cr_expect_eq(mms_tpl_load_unchecked(tn, tt_tpl_copy(img, len), len), MMS_EFORMAT);
	tpl_free(tn);                           /* frees the node's copy: the glue must not have */

	/* a node that kept the copy loads again: tpl_load's reset releases it */
	tn = tpl_map("sA(c)", &s, &c);
	s = "z";
	c = 'q';
	tpl_pack(tn, 1);
	tpl_pack(tn, 0);
	cr_assert_eq(tpl_dump(tn, TPL_MEM, &good, &glen), 0);
	tpl_free(tn);
	tn = tpl_map("sA(c)", &s, &c);
	cr_expect_eq(mms_tpl_load_unchecked(tn, tt_tpl_copy(img, len), len), MMS_EFORMAT);
	cr_expect_eq(mms_tpl_load_unchecked(tn, good, glen), 0);
	s = NULL;
	c = 0;
	cr_expect_eq(tpl_unpack(tn, 0), 1);
	cr_expect_eq(tpl_unpack(tn, 1), 1);
	cr_expect_eq(c, 'q');
	tt_expect_str(s, "z");
	tpl_free(tn);
	free(img);
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

static void *tt_first_block;     /* what tt_fail_after_first handed out */
static int tt_first_freed;

static void *tt_fail_after_first(size_t n)
{
	static int calls;

	if (calls++)
		return NULL;
	tt_first_block = malloc(n);
	return tt_first_block;
}

static void tt_free_watching_first(void *p)
{
	tt_first_freed |= p && p == tt_first_block;
	free(p);
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
	tpl_hook.free = tt_free_watching_first;
	errno = 0;
	err = mms_get_tpl(m, tn);
	tpl_hook.malloc = malloc;
	tpl_hook.free = free;
	if (err != MMS_ESYS || errno != ENOMEM)
		return 5;
	if (!tt_first_freed)            /* the node never took the copy: the glue frees it */
		return 7;
	/* tn is left half reset by tpl (not freed); outside mms calls fatal chains */
	tpl_gather(99);
	return 6;
}

/*
 * The child ends in _exit, from tpl's fatal hook, without mms_free: a sysv semaphore set it made
 * outlives it (README, "The sysv set and its cleanup"). Remove it, so test runs leave none.
 */
static void tt_remove_sets_of(pid_t dead)
{
	struct mms_sysv_set sets[64];
	size_t n, k;

	if (mms_sysv_sets(sets, 64, &n))
		return;
	for (k = 0; k < n && k < 64; k++)
		if (sets[k].creator == dead)
			mms_sysv_remove_stale(sets[k].id);
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
	cr_expect_eq(child_status(pid), 42, "0-7: a check failed; 42: fatal reached the old hook");
	tt_remove_sets_of(pid);
	got = read(pipefd[0], out, sizeof(out) - 1);
	cr_expect_eq(got, 0, "tpl printed: %.*s", (int)(got > 0 ? got : 0), out);
	close(pipefd[0]);
}
