/* speed.c -- `mmshare speed`: get and set through the public API against the limits of the machine. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxh_x86dispatch.h>

#include "mmshare.h"
#include "bench_run.h"
#include "cli.h"
#include "commands.h"
#include "stats.h"

#define ROUNDS    9             /* every loop once a round; the median round is reported */
#define LOOP_NS   4000000.0     /* one loop's length, about */

static const char speed_usage[] =
	"usage: mmshare speed\n"
	"One process, no contention: get and set through the public API (mutex, seqlock) against\n"
	"the limits of this machine (memcpy, XXH3 through libxxhash's dispatch, a bare robust mutex\n"
	"around memcpy, a bare seqlock read) for 64 B, 4 KiB, 64 KiB and 1 MiB values, in ns per\n"
	"operation, and the ratios the README's targets are stated in. Every loop runs once a round,\n"
	"%d rounds interleaved, and its median round is reported: compare within one run.\n";

/* What the loops work on: two private buffers, a bare area, and one handle per backend. */
struct speed_ctx {
	size_t size;
	unsigned char *src, *dst;       /* the value written; the buffer read into */
	unsigned char *src_base, *dst_base;     /* what to free */
	struct bare { pthread_mutex_t mutex; uint64_t seq, len; unsigned char data[]; } *bare;
	struct mms *mutex, *seqlock;
};

typedef void (*loop_fn)(struct speed_ctx *c, uint64_t n);

static void *volatile memcpy_opaque = memcpy;   /* so the copy is never folded away */

static void loop_memcpy(struct speed_ctx *c, uint64_t n)
{
	void *(*copy)(void *, const void *, size_t) = memcpy_opaque;

	while (n--)
		copy(c->dst, c->src, c->size);
}

static void loop_xxh3(struct speed_ctx *c, uint64_t n)
{
	uint64_t h = 0;

	while (n--)
		h += XXH3_64bits_withSeed_dispatch(c->src, c->size, c->size);
	__asm__ volatile("" : : "r"(h));
}

static void loop_bare_mutex(struct speed_ctx *c, uint64_t n)
{
	void *(*copy)(void *, const void *, size_t) = memcpy_opaque;

	size_t len;

	while (n--) {
		pthread_mutex_lock(&c->bare->mutex);
		len = c->bare->len;
		if (len <= c->size)
			copy(c->dst, c->bare->data, len);
		pthread_mutex_unlock(&c->bare->mutex);
	}
}

/* The textbook read: the length, then plain memcpy, between two loads of the sequence. */
static void loop_bare_seqlock(struct speed_ctx *c, uint64_t n)
{
	void *(*copy)(void *, const void *, size_t) = memcpy_opaque;
	uint64_t s1, s2, len;

	while (n--)
		do {
			s1 = __atomic_load_n(&c->bare->seq, __ATOMIC_ACQUIRE);
			len = __atomic_load_n(&c->bare->len, __ATOMIC_RELAXED);
			if (len <= c->size)
				copy(c->dst, c->bare->data, len);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = __atomic_load_n(&c->bare->seq, __ATOMIC_RELAXED);
		} while (s1 != s2 || (s1 & 1));
}

static void get_loop(struct mms *m, struct speed_ctx *c, uint64_t n)
{
	size_t len;

	while (n--)
		if (mms_get(m, c->dst, c->size, &len))
			abort();
}

static void set_loop(struct mms *m, struct speed_ctx *c, uint64_t n)
{
	while (n--)
		if (mms_set(m, c->src, c->size))
			abort();
}

static void loop_mutex_get(struct speed_ctx *c, uint64_t n) { get_loop(c->mutex, c, n); }
static void loop_seqlock_get(struct speed_ctx *c, uint64_t n) { get_loop(c->seqlock, c, n); }
static void loop_mutex_set(struct speed_ctx *c, uint64_t n) { set_loop(c->mutex, c, n); }
static void loop_seqlock_set(struct speed_ctx *c, uint64_t n) { set_loop(c->seqlock, c, n); }

enum { L_MEMCPY, L_XXH3, L_BARE_MUTEX, L_BARE_SEQLOCK, L_MUTEX_GET, L_SEQLOCK_GET, L_MUTEX_SET,
       L_SEQLOCK_SET, L_N };

static const struct { const char *name; loop_fn fn; } loops[L_N] = {
	[L_MEMCPY] = { "memcpy", loop_memcpy },
	[L_XXH3] = { "XXH3", loop_xxh3 },
	[L_BARE_MUTEX] = { "mutex+memcpy", loop_bare_mutex },
	[L_BARE_SEQLOCK] = { "seq read", loop_bare_seqlock },
	[L_MUTEX_GET] = { "mutex get", loop_mutex_get },
	[L_SEQLOCK_GET] = { "seqlock get", loop_seqlock_get },
	[L_MUTEX_SET] = { "mutex set", loop_mutex_set },
	[L_SEQLOCK_SET] = { "seqlock set", loop_seqlock_set },
};

static int ctx_open(struct speed_ctx *c, size_t size)
{
	pthread_mutexattr_t attr;
	size_t bare_len = sizeof(*c->bare) + size;

	memset(c, 0, sizeof(*c));
	c->size = size;
	/* Page-aligned and apart, at different offsets: no false store/load conflicts in the floors. */
	c->src = aligned_alloc(4096, ((size + 4095) & ~(size_t)4095) + 8192);  /* C11: a multiple */
	c->dst = aligned_alloc(4096, ((size + 4095) & ~(size_t)4095) + 8192);
	if (c->src && c->dst) {
		c->src_base = c->src;
		c->dst_base = c->dst;
		c->dst += 2048;
	}
	c->bare = mmap(NULL, bare_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!c->src || !c->dst || c->bare == MAP_FAILED)
		return MMS_ESYS;
	memset(c->src, 0x5a, size);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&c->bare->mutex, &attr);
	pthread_mutexattr_destroy(&attr);
	memcpy(c->bare->data, c->src, size);
	c->bare->len = size;
	return mms_new(&c->mutex, "mutex", size) ?: mms_new(&c->seqlock, "seqlock", size) ?:
	       mms_set(c->mutex, c->src, size) ?: mms_set(c->seqlock, c->src, size);
}

static void ctx_close(struct speed_ctx *c)
{
	mms_free(c->mutex);
	mms_free(c->seqlock);
	if (c->bare && c->bare != MAP_FAILED)
		munmap(c->bare, sizeof(*c->bare) + c->size);
	free(c->src_base);
	free(c->dst_base);
}

/* Operations that take about LOOP_NS, from a short trial. */
static uint64_t loop_length(struct speed_ctx *c, loop_fn fn)
{
	uint64_t n = 16, t0;
	double ns;

	for (;;) {
		t0 = bench_now_ns();
		fn(c, n);
		ns = (double)(bench_now_ns() - t0);
		if (ns > LOOP_NS / 8 || n > (1ULL << 32))
			return (uint64_t)fmax(1, n * LOOP_NS / fmax(ns, 1));
		n *= 4;
	}
}

/* ns per operation of every loop at one size: the median of ROUNDS interleaved rounds. */
static int measure(size_t size, double *ns)
{
	struct speed_ctx c;
	double per[L_N][ROUNDS];
	uint64_t n[L_N], t0;
	int l, r, err = ctx_open(&c, size);

	for (l = 0; !err && l < L_N; l++)
		n[l] = loop_length(&c, loops[l].fn);
	for (r = 0; !err && r < ROUNDS; r++)
		for (l = 0; l < L_N; l++) {
			t0 = bench_now_ns();
			loops[l].fn(&c, n[l]);
			per[l][r] = (double)(bench_now_ns() - t0) / (double)n[l];
		}
	for (l = 0; !err && l < L_N; l++)
		ns[l] = stats_median(per[l], ROUNDS);
	ctx_close(&c);
	return err;
}

static void print_target(const char *what, double ratio, double limit, int at_most)
{
	int met = at_most ? ratio <= limit : ratio >= limit;

	printf("  %-58s %6.2f  (target %s %.2f: %s)\n", what, ratio, at_most ? "<=" : ">=", limit,
	       met ? "met" : "MISSED");
}

static int speed_run(int argc, char **argv)
{
	static const size_t sizes[] = { 64, 4096, 65536, 1 << 20 };
	double ns[4][L_N];
	char usage[sizeof(speed_usage) + 16];
	size_t s;
	int l, r, err;

	snprintf(usage, sizeof(usage), speed_usage, ROUNDS);
	r = cli_no_options(argc, argv, usage);
	if (r)
		return r > 0 ? MMS_EXIT_OK : MMS_EXIT_USAGE;
	printf("%-8s", "size");
	for (l = 0; l < L_N; l++)
		printf(" %12s", loops[l].name);
	printf("   (ns per operation, median of %d interleaved rounds)\n", ROUNDS);
	for (s = 0; s < 4; s++) {
		err = measure(sizes[s], ns[s]);
		if (err) {
			fprintf(stderr, "mmshare speed: %zu B: cannot set up: %s\n", sizes[s],
				mms_strerror(err));
			return MMS_EXIT_FAIL;
		}
		printf("%-8zu", sizes[s]);
		for (l = 0; l < L_N; l++)
			printf(" %12.1f", ns[s][l]);
		printf("\n");
		fflush(stdout);
	}
	for (s = 0; s < 4; s++)
		if (ns[s][L_MEMCPY] > ns[s][L_BARE_MUTEX] || ns[s][L_BARE_SEQLOCK] > ns[s][L_BARE_MUTEX])
			printf("warning: at %zu B a floor is slower than the bare mutex around memcpy "
			       "(%.1f, %.1f > %.1f ns): this run's ratios against it mean little\n",
			       sizes[s], ns[s][L_MEMCPY], ns[s][L_BARE_SEQLOCK], ns[s][L_BARE_MUTEX]);
	printf("ratios, in this run:\n");
	print_target("mutex get 64 B / bare mutex + memcpy", ns[0][L_MUTEX_GET] / ns[0][L_BARE_MUTEX],
		     1.5, 1);
	print_target("seqlock get 64 B / bare seqlock read",
		     ns[0][L_SEQLOCK_GET] / ns[0][L_BARE_SEQLOCK], 3, 1);
	printf("  %-58s %6.2f  (the checksum alone is %.2f of the bare read)\n",
	       "seqlock get 64 B / (bare seqlock read + XXH3)",
	       ns[0][L_SEQLOCK_GET] / (ns[0][L_BARE_SEQLOCK] + ns[0][L_XXH3]),
	       ns[0][L_XXH3] / ns[0][L_BARE_SEQLOCK]);
	print_target("mutex get 4 KiB / (bare mutex + memcpy + XXH3)",
		     ns[1][L_MUTEX_GET] / (ns[1][L_BARE_MUTEX] + ns[1][L_XXH3]), 1.3, 1);
	print_target("seqlock get 4 KiB / mutex get 4 KiB", ns[1][L_SEQLOCK_GET] / ns[1][L_MUTEX_GET],
		     1.1, 1);
	print_target("mutex get 1 MiB, share of memcpy's speed", ns[3][L_MEMCPY] / ns[3][L_MUTEX_GET],
		     0.55, 0);
	return MMS_EXIT_OK;
}

const struct mms_command mms_cmd_speed = {
	.name = "speed",
	.summary = "get and set through the API against memcpy, XXH3 and bare locks, one process",
	.run = speed_run,
};
