/* test_tpl_fuzz.c -- images the checker accepts must unpack in bounds; what it refuses, shown. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>

#include "tpl_specimens.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

/*
 * make test tries TT_MUTANTS mutants of valid images, plus every flags byte on every specimen.
 * For a longer run, MMS_FUZZ_IMAGES=N raises the number of mutants to N, e.g.
 *   MMS_FUZZ_IMAGES=5000000 build/tests/mms_tests \
 *     --filter tpl_fuzz/checker_agrees_with_tpl_bounds --verbose
 * The mutants come from a fixed seed: a longer run tries the same first ones, then more.
 */
#define TT_MUTANTS      19500
#define TT_MAX_MUTANT   512             /* bytes: mutants grow, seeds are at most half this */
#define TT_BATCH        1024            /* images one child process loads and unpacks in turn */
#define TT_HANG_SECONDS 120             /* a child stuck this long is a failure, not waited for */

static const int tt_seeds[] = { 8, 10, 11, 12, 14, 15, 17, 18, 19, 6, 7, 22, 23 };
#define TT_NSEEDS ((int)(sizeof(tt_seeds) / sizeof(tt_seeds[0])))

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

	switch (tt_rand() % 10) {
	case 8:                         /* the flags byte: one of tpl's two bits, or anything */
		if (*len > 3 && tt_rand() % 2)
			buf[3] ^= (unsigned char)(1u << (tt_rand() % 2));
		else if (*len > 3)
			buf[3] = (unsigned char)tt_rand();
		return;
	case 9:                         /* a format character, for another that tpl knows */
		if (*len > 8 && buf[8])
			buf[8 + tt_rand() % strnlen((const char *)buf + 8, *len - 8)] =
				(unsigned char)"AS($)BiucsfIUjv#"[tt_rand() % 16];
		return;
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

/* ---- loading and unpacking images in child processes ---- */

/* What loading and unpacking one image did; the crashes are also a child's exit codes. */
enum tt_outcome {
	TT_CLEAN,               /* loaded and unpacked in bounds */
	TT_REFUSED,             /* tpl_load refused it */
	TT_NOMAP,               /* no map of its format to load it with */
	TT_OOB,                 /* faulted past the image's end, within a uint32 length of it */
	TT_FATAL,               /* tpl called its fatal hook: exit() in a real program */
	TT_SEGV,                /* faulted elsewhere */
	TT_OTHER,               /* died otherwise: a sanitizer's report, another signal, a hang */
	TT_NOUTCOMES
};

/* Images to load in children, and what they did; shared between the test and its children. */
struct tt_batch {
	size_t n;
	size_t cur;                     /* the image a child is at */
	/*
	 * What the checker said of the images. For refused ones, crashes are expected (children's
	 * stderr goes to /dev/null) and only images of their specimen's format are loaded: tpl
	 * spins for seconds on some others (an A(...) that tpl_map left without children, with
	 * 2^31 elements).
	 */
	int accepted;
	int id[TT_BATCH];               /* the specimen an image comes from */
	size_t len[TT_BATCH];
	unsigned char *img[TT_BATCH];   /* malloc'd by the test, read by its children */
	unsigned char outcome[TT_BATCH];
};

static struct tt_batch *tt_batch_new(int accepted)
{
	struct tt_batch *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(b, MAP_FAILED);
	b->accepted = accepted;
	return b;
}

/* A copy of img whose last byte is followed by an inaccessible page; NULL if none can be made. */
struct tt_guard { unsigned char *base, *img; size_t maplen; };

static unsigned char *tt_guard_copy(struct tt_guard *g, const void *img, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), pages = (len + pg - 1) / pg + 1;

	g->maplen = (pages + 1) * pg;
	g->base = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->base == MAP_FAILED)
		return NULL;
	if (mprotect(g->base + pages * pg, pg, PROT_NONE)) {
		munmap(g->base, g->maplen);
		return NULL;
	}
	g->img = g->base + pages * pg - len;
	memcpy(g->img, img, len);
	return g->img;
}

static const unsigned char *tt_img_end;        /* the end of the image being unpacked */

/*
 * End the child for a bad access at a: a read past the image when a lies within a uint32
 * length of its end (a large memcpy may touch its far end first), a fault otherwise.
 */
static void tt_exit_for(const void *a)
{
	const unsigned char *p = a;

	_exit(tt_img_end && p >= tt_img_end && (uint64_t)(p - tt_img_end) <= UINT32_MAX + 8ull ?
	      TT_OOB : TT_SEGV);
}

static void tt_on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	tt_exit_for(si->si_addr);
}

#ifdef __SANITIZE_ADDRESS__
/* ASan checks memcpy's whole range before copying: its report, not a fault, shows the read. */
static void tt_on_asan_report(void)
{
	tt_exit_for(__asan_get_report_address());
}
#endif

static void tt_child_fatal(const char *fmt, ...)
{
	(void)fmt;
	_exit(TT_FATAL);
}

#define TT_ANY_ARGS 16

/*
 * A map for a format no specimen has, when tpl_map takes only pointers for it (no '#'): all of
 * them point at one scratch area, larger than what tpl_unpack writes through them (at most 8
 * bytes for each S(...) field of a format of MMS_TPL_MAX_FMT bytes, or one tpl_bin). Unused
 * arguments are ignored. NULL when the format needs '#' lengths or more arguments than these.
 */
static tpl_node *tt_map_any(const char *fmt)
{
	static uint64_t scratch[2 * MMS_TPL_MAX_FMT];
	void *p = scratch;
	size_t nargs = 0;
	const char *c;

	for (c = fmt; *c; c++)
		nargs += strchr("cijvuIUfsBS", *c) != NULL;
	if (strchr(fmt, '#') || nargs > TT_ANY_ARGS)
		return NULL;
	return tpl_map((char *)fmt, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p);
}

/*
 * In a child: load img (from specimen id, whose format it may no longer have) and unpack it all,
 * first from a guarded copy (a read past its end faults), then from a malloc'd one (ASan's
 * bounds). tpl_load decides from a malloc'd copy whether to go on: its own walk stays in bounds.
 */
static enum tt_outcome tt_round_trip(int id, const unsigned char *img, size_t len, int any)
{
	const char *fmt = (const char *)img + 8;
	enum tt_outcome o = TT_REFUSED;
	unsigned char *copy;
	struct tt_guard g;
	tpl_node *tn = NULL;

	if (len > 8 && memchr(fmt, 0, len - 8))         /* refused images may have no format */
		tn = strcmp(fmt, tt_fmt[id]) == 0 ? tt_map(id) : any ? tt_map_any(fmt) : NULL;
	if (!tn)
		return TT_NOMAP;
	copy = malloc(len);
	if (!copy)
		_exit(TT_OTHER);
	memcpy(copy, img, len);
	if (tpl_load(tn, TPL_MEM, copy, len) == 0) {
		o = TT_OTHER;
		if (tt_guard_copy(&g, img, len)) {
			tt_img_end = g.img + len;
			if (tpl_load(tn, TPL_MEM, g.img, len) == 0) {
				tt_unpack_all(tn, fmt);
				tt_img_end = copy + len;
				if (tpl_load(tn, TPL_MEM, copy, len) == 0) {
					tt_unpack_all(tn, fmt);
					o = TT_CLEAN;
				}
			}
			tt_img_end = NULL;
			munmap(g.base, g.maplen);
		}
	}
	tpl_free(tn);
	free(copy);
	return o;
}

/* In a child: the images of b from b->cur on; a crash ends the child with its outcome. */
static void tt_batch_child(struct tt_batch *b)
{
	struct sigaction sa = { .sa_sigaction = tt_on_segv, .sa_flags = SA_SIGINFO };
	int fd;

	if (!b->accepted) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
	}
	alarm(TT_HANG_SECONDS);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
#ifdef __SANITIZE_ADDRESS__
	__asan_set_death_callback(tt_on_asan_report);
#endif
	tpl_hook.fatal = tt_child_fatal;
	tpl_hook.oops = tt_silent_oops;
	for (; b->cur < b->n; b->cur++)
		b->outcome[b->cur] = (unsigned char)tt_round_trip(b->id[b->cur], b->img[b->cur],
								   b->len[b->cur], b->accepted);
	_exit(0);
}

/* Every image of b through tt_round_trip, in children: after a crash, a new one goes on. */
static void tt_batch_run(struct tt_batch *b)
{
	pid_t pid;
	int st;

	for (b->cur = 0; b->cur < b->n; b->cur++) {
		pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0)
			tt_batch_child(b);
		st = child_status(pid);
		if (b->cur < b->n)
			b->outcome[b->cur] = st == TT_OOB || st == TT_FATAL || st == TT_SEGV ?
					     (unsigned char)st : TT_OTHER;
	}
}

/* Forget b's images. */
static void tt_batch_clear(struct tt_batch *b)
{
	while (b->n)
		free(b->img[--b->n]);
}

/* What one image does in a child (an image the checker refuses, to show why). */
static enum tt_outcome tt_outcome_of(int id, const unsigned char *img, size_t len)
{
	struct tt_batch *b = tt_batch_new(0);
	enum tt_outcome o;

	b->id[0] = id;
	b->len[0] = len;
	b->img[0] = (unsigned char *)img;
	b->n = 1;
	tt_batch_run(b);
	o = b->outcome[0];
	munmap(b, sizeof(*b));
	return o;
}

/* ---- the fuzz: every image through the checker, then through tpl in a child ---- */

static int tt_is_crash(int outcome)
{
	return outcome >= TT_OOB;
}

/* img[0..len) in hex, at most 64 bytes of it, in a buffer that the next call overwrites. */
static const char *tt_hex(const unsigned char *img, size_t len)
{
	static char out[2 * 64 + 1];
	size_t k;

	for (k = 0; k < len && k < 64; k++)
		snprintf(out + 2 * k, 3, "%02x", img[k]);
	out[2 * k] = 0;
	return out;
}

struct tt_tally {
	unsigned long mutants, handmade, accepted;
	unsigned long acc[TT_NOUTCOMES], ref[TT_NOUTCOMES];     /* outcomes, accepted or refused */
	struct tt_batch *accb, *refb;
	int crash_id;                   /* the first accepted image that crashed: -1 for none */
	size_t crash_len;
	unsigned char crash_img[64];
};

static unsigned long tt_crashes(const unsigned long *out)
{
	unsigned long n = 0;
	int o;

	for (o = 0; o < TT_NOUTCOMES; o++)
		n += tt_is_crash(o) ? out[o] : 0;
	return n;
}

/* Count what b's images did and forget them. */
static void tt_flush(struct tt_tally *t, struct tt_batch *b)
{
	unsigned long *out = b == t->accb ? t->acc : t->ref;
	size_t k;

	tt_batch_run(b);
	for (k = 0; k < b->n; k++) {
		out[b->outcome[k]]++;
		if (b == t->accb && tt_is_crash(b->outcome[k]) && t->crash_id < 0) {
			t->crash_id = b->id[k];
			t->crash_len = b->len[k];
			memcpy(t->crash_img, b->img[k], b->len[k] < 64 ? b->len[k] : 64);
		}
	}
	tt_batch_clear(b);
}

/* Check img and queue it for a child with the images the checker took the same view of. */
static void tt_try(struct tt_tally *t, int id, const unsigned char *img, size_t len)
{
	struct tt_batch *b = t->refb;

	if (mms_tpl_image_check(img, len) == 0) {
		t->accepted++;
		b = t->accb;
	}
	b->id[b->n] = id;
	b->len[b->n] = len;
	b->img[b->n] = malloc(len);
	cr_assert_not_null(b->img[b->n]);
	memcpy(b->img[b->n++], img, len);
	if (b->n == TT_BATCH)
		tt_flush(t, b);
}

/* Specimen id's image from make(id, &len) with every flags byte. */
static void tt_flags_sweep(struct tt_tally *t, int id,
			   unsigned char *(*make)(int id, size_t *len))
{
	unsigned char *img;
	unsigned flags;
	size_t len;

	img = make(id, &len);

	for (flags = 0; flags < 256; flags++) {
		img[3] = (unsigned char)flags;
		tt_try(t, id, img, len);
		t->handmade++;
	}
	free(img);
}

/* Every flags byte on tpl's image of every specimen, and on the images of tpl 1.2's strings. */
static void tt_fuzz_flags(struct tt_tally *t)
{
	int id;

	for (id = 0; id < TT_NSPEC; id++)
		tt_flags_sweep(t, id, tt_image);
	tt_flags_sweep(t, TT_OLD_SS, tt_old_string_image);
	tt_flags_sweep(t, TT_OLD_SAC, tt_old_string_image);
}

/* How many mutants: TT_MUTANTS, or more when MMS_FUZZ_IMAGES asks for more. */
static unsigned long tt_fuzz_count(void)
{
	const char *env = getenv("MMS_FUZZ_IMAGES");
	unsigned long n = env ? strtoul(env, NULL, 10) : 0;

	return n > TT_MUTANTS ? n : TT_MUTANTS;
}

/* n mutants: one to three mutations of a seed, most with the length word made to fit. */
static void tt_fuzz_mutants(struct tt_tally *t, unsigned long n)
{
	unsigned char *seed[TT_NSEEDS], mut[TT_MAX_MUTANT];
	size_t slen[TT_NSEEDS], mlen;
	int s, k;

	for (s = 0; s < TT_NSEEDS; s++) {
		seed[s] = tt_image(tt_seeds[s], &slen[s]);
		cr_assert_leq(slen[s], sizeof(mut) / 2);
	}
	for (; t->mutants < n; t->mutants++) {
		s = (int)(t->mutants % TT_NSEEDS);
		memcpy(mut, seed[s], slen[s]);
		mlen = slen[s];
		for (k = 1 + (int)(tt_rand() % 3); k > 0; k--)
			tt_mutate(mut, &mlen, sizeof(mut));
		if (mlen >= 8 && tt_rand() % 4)
			tt_put_u32(mut + 4, (uint32_t)mlen);    /* past the length check */
		tt_try(t, tt_seeds[s], mut, mlen);
	}
	for (s = 0; s < TT_NSEEDS; s++)
		free(seed[s]);
}

Test(tpl_fuzz, checker_agrees_with_tpl_bounds)
{
	struct tt_tally t = { .crash_id = -1 };
	unsigned long crashes;

	t.accb = tt_batch_new(1);
	t.refb = tt_batch_new(0);
	tt_fuzz_flags(&t);
	tt_fuzz_mutants(&t, tt_fuzz_count());
	tt_flush(&t, t.accb);
	tt_flush(&t, t.refb);
	crashes = tt_crashes(t.acc);
	cr_log_info("tpl fuzz: %lu images tried (%lu mutants, %lu hand-made), %lu accepted: "
		    "%lu loaded and unpacked in bounds, %lu refused by tpl_load, %lu with no map "
		    "to load them; crashes %lu. Of the refused, tpl_load took %lu: %lu read past "
		    "the image, %lu hit tpl's fatal (exit), %lu other failures\n",
		    t.mutants + t.handmade, t.mutants, t.handmade, t.accepted, t.acc[TT_CLEAN],
		    t.acc[TT_REFUSED], t.acc[TT_NOMAP], crashes,
		    t.ref[TT_CLEAN] + tt_crashes(t.ref), t.ref[TT_OOB], t.ref[TT_FATAL],
		    t.ref[TT_SEGV] + t.ref[TT_OTHER]);
	cr_expect_eq(crashes, 0, "an accepted image crashed (%lu OOB, %lu fatal, %lu SEGV, %lu "
		     "other); the first, of specimen %d, %zu bytes, begins %s", t.acc[TT_OOB],
		     t.acc[TT_FATAL], t.acc[TT_SEGV], t.acc[TT_OTHER], t.crash_id, t.crash_len,
		     tt_hex(t.crash_img, t.crash_len < 64 ? t.crash_len : 64));
	cr_expect_gt(t.acc[TT_CLEAN], 100, "the fuzz reaches tpl_unpack");
	cr_expect_gt(t.ref[TT_OOB], 0, "some refused images really make tpl read out of bounds");
	cr_expect_gt(t.ref[TT_FATAL], 0, "and some make tpl_load call its fatal hook");
	munmap(t.accb, sizeof(*t.accb));
	munmap(t.refb, sizeof(*t.refb));
	TT_NO_LEAKS();
}

Test(tpl_fuzz, tpl_reads_out_of_bounds_where_checker_refuses)
{
	unsigned char img[64], *old;
	size_t len;

	len = tt_craft(img, 0, "A(i)", NULL, 0, (uint32_t[]){ 0x80000000u }, 4);
	cr_assert_eq(mms_tpl_image_check(img, len), MMS_EFORMAT);
	cr_expect_eq(tt_outcome_of(6, img, len), TT_OOB,
		     "tpl_unpack reads an element past the end of an A(i) of 2^31 elements");
	len = tt_craft(img, 2, "A(s)", NULL, 0, (uint32_t[]){ 0xffffffffu }, 4);
	cr_assert_eq(mms_tpl_image_check(img, len), MMS_EFORMAT);
	cr_expect_eq(tt_outcome_of(8, img, len), TT_OOB, "same for A(s)");
	old = tt_old_string_image(TT_OLD_SS, &len);
	cr_assert_eq(mms_tpl_image_check(old, len), MMS_EFORMAT);
	cr_expect_eq(tt_outcome_of(TT_OLD_SS, old, len), TT_OOB, "tpl 1.2 strings, read as 1.3's");
	free(old);
}

Test(tpl_fuzz, tpl_load_dies_where_checker_refuses)
{
	unsigned char *img;
	size_t len;

	img = tt_old_string_image(TT_OLD_SAC, &len);
	cr_assert_eq(mms_tpl_image_check(img, len), MMS_EFORMAT);
	cr_expect_eq(tt_outcome_of(TT_OLD_SAC, img, len), TT_FATAL,
		     "tpl_unpackA0 reads the count from the string and calls the fatal hook");
	free(img);
}
