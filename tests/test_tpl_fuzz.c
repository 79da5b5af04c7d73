/* test_tpl_fuzz.c -- mutated images: the ones the checker accepts must unpack in bounds. */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>

#include "tpl_specimens.h"

#define TT_MUTANTS_PER_SEED 1500
#define TT_CHILD_CLEAN  0
#define TT_CHILD_OOB    3       /* faulted on the guard page right after the image */
#define TT_CHILD_FATAL  4       /* tpl called its fatal hook: exit() in a real program */
#define TT_CHILD_SEGV   5       /* faulted elsewhere */

static const int tt_seeds[] = { 8, 10, 11, 12, 14, 15, 17, 18, 19, 6, 7 };

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
