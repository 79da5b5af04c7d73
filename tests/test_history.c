/* test_history.c -- the register history checker: by hand, against brute force, at scale. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

#define CUT UINT64_MAX
#define HW(i, r, v) { .inv = (i), .resp = (r), .value = (v), .kind = HIST_WRITE }
#define HR(i, r, v) { .inv = (i), .resp = (r), .value = (v), .kind = HIST_READ }
#define HWC(i, v) { .inv = (i), .resp = CUT, .value = (v), .kind = HIST_WRITE, .cut = 1 }
#define HRC(i, v) { .inv = (i), .resp = CUT, .value = (v), .kind = HIST_READ, .cut = 1 }
#define NOPS(a) (sizeof(a) / sizeof((a)[0]))

/* Check a history and expect it linearizable. */
static void hist_t_ok(struct hist_op *ops, size_t n)
{
	struct hist_result res;
	int r = hist_check(ops, n, &res);

	cr_assert_eq(r, 0, "expected linearizable, got %d: %s", r,
		     res.violations ? res.first[0].why : "-");
	cr_assert_eq(res.violations, 0);
	cr_assert_eq(res.ops, n);
}

/* Check a history and expect exactly one violation, of that kind, with those witnesses. */
static void hist_t_bad(struct hist_op *ops, size_t n, int kind, size_t op_a, size_t op_b)
{
	struct hist_result res;
	int r = hist_check(ops, n, &res);

	cr_assert_eq(r, 1, "expected a violation, got %d", r);
	cr_assert_eq(res.violations, 1, "%zu violations, first: %s", res.violations,
		     res.first[0].why);
	cr_assert_eq(res.first[0].kind, kind, "kind %s: %s",
		     hist_violation_name(res.first[0].kind), res.first[0].why);
	cr_assert_eq(res.first[0].op_a, op_a, "op_a %zu: %s", res.first[0].op_a, res.first[0].why);
	cr_assert_eq(res.first[0].op_b, op_b, "op_b %zu: %s", res.first[0].op_b, res.first[0].why);
	cr_assert_neq(res.first[0].why[0], '\0');
}

Test(history, empty_and_initial_only)
{
	struct hist_op reads[] = { HR(5, 6, 0), HR(1, 9, 0), HR(7, 8, 0) };

	hist_t_ok(NULL, 0);
	hist_t_ok(reads, NOPS(reads));
}

Test(history, sequential)
{
	struct hist_op ops[] = {
		HR(0, 1, 0), HW(2, 3, 11), HR(4, 5, 11), HW(6, 7, 12), HR(8, 9, 12), HR(10, 11, 12),
		HW(12, 13, 13),
	};
	struct hist_result res;

	hist_t_ok(ops, NOPS(ops));
	cr_assert_eq(hist_check(ops, NOPS(ops), &res), 0);
	cr_assert_eq(res.reads, 4);
	cr_assert_eq(res.writes, 3);
	cr_assert_eq(res.cut, 0);
}

Test(history, overlapping)
{
	/* Reads concurrent with a write may see either value, in any mix that has an order. */
	struct hist_op ops[] = {
		HW(0, 10, 1),	/* 0 */
		HR(1, 2, 0),	/* 1: before w1 took effect */
		HR(3, 4, 1),	/* 2 */
		HW(5, 20, 2),	/* 3 */
		HR(6, 9, 2),	/* 4: after w2 took effect... */
		HR(7, 8, 1),	/* 5: ...though this one, inside it, saw w1: r5 < w2 < r4 */
		HR(11, 12, 2),	/* 6 */
		HR(13, 30, 3),	/* 7: reads w3, which is concurrent */
		HW(15, 25, 3),	/* 8 */
		HR(21, 22, 2),	/* 9: w3 not yet in effect */
	};

	hist_t_ok(ops, NOPS(ops));
}

Test(history, equal_times_are_concurrent)
{
	/* a.resp == b.inv does not order a before b. */
	struct hist_op stale_by_a_tie[] = { HW(0, 1, 1), HW(2, 5, 2), HR(5, 6, 1) };
	struct hist_op future_by_a_tie[] = { HR(0, 5, 1), HW(5, 6, 1) };
	struct hist_op initial_by_a_tie[] = { HW(0, 5, 1), HR(5, 6, 0) };
	struct hist_op chain[] = { HW(0, 5, 1), HR(5, 6, 1), HW(6, 7, 2), HR(7, 8, 2) };

	hist_t_ok(stale_by_a_tie, NOPS(stale_by_a_tie));
	hist_t_ok(future_by_a_tie, NOPS(future_by_a_tie));
	hist_t_ok(initial_by_a_tie, NOPS(initial_by_a_tie));
	hist_t_ok(chain, NOPS(chain));
}

Test(history, invented)
{
	struct hist_op ops[] = { HW(0, 1, 1), HR(2, 3, 1), HR(4, 5, 77) };

	hist_t_bad(ops, NOPS(ops), HIST_V_INVENTED, 2, HIST_NO_OP);
	cr_assert_str_eq(hist_violation_name(HIST_V_INVENTED), "invented");
}

Test(history, from_the_future)
{
	struct hist_op ops[] = { HW(10, 20, 1), HR(0, 5, 1) };

	hist_t_bad(ops, NOPS(ops), HIST_V_FUTURE, 1, 0);
}

Test(history, stale)
{
	/* w2 ran entirely after w1 ended and before the read of 1 began. */
	struct hist_op plain[] = { HW(0, 10, 1), HW(20, 30, 2), HR(40, 50, 1) };
	/* the same when w2 was read as well (two forward zones) */
	struct hist_op read_too[] = { HW(0, 10, 1), HW(20, 30, 2), HR(31, 32, 2), HR(40, 50, 1) };
	/* value 1 was seen by a read that ended before w2 began, w1 itself still running */
	struct hist_op via_read[] = { HW(0, 100, 1), HR(5, 10, 1), HW(20, 30, 2), HR(40, 50, 1) };

	hist_t_bad(plain, NOPS(plain), HIST_V_STALE, 2, 1);
	hist_t_bad(read_too, NOPS(read_too), HIST_V_STALE, 3, 1);
	hist_t_bad(via_read, NOPS(via_read), HIST_V_STALE, 3, 2);
}

Test(history, stale_near_misses)
{
	/* w2 began before w1 ended: w2, w1, read. */
	struct hist_op overlap_w1[] = { HW(0, 10, 1), HW(5, 30, 2), HR(40, 50, 1) };
	/* w2 ended after the read began: w1, read, w2. */
	struct hist_op overlap_read[] = { HW(0, 10, 1), HW(20, 45, 2), HR(40, 50, 1) };

	hist_t_ok(overlap_w1, NOPS(overlap_w1));
	hist_t_ok(overlap_read, NOPS(overlap_read));
}

Test(history, initial_after_write)
{
	struct hist_op after_write[] = { HW(0, 10, 1), HR(20, 30, 0) };
	/* w1 still running, but a read already returned 1 before this read of 0 began */
	struct hist_op after_read[] = { HW(0, 100, 1), HR(10, 20, 1), HR(30, 40, 0) };
	struct hist_op concurrent[] = { HW(0, 100, 1), HR(10, 20, 0), HR(30, 40, 1), HR(5, 95, 0) };

	hist_t_bad(after_write, NOPS(after_write), HIST_V_INITIAL, 1, 0);
	hist_t_bad(after_read, NOPS(after_read), HIST_V_INITIAL, 2, 1);
	hist_t_ok(concurrent, NOPS(concurrent));
}

Test(history, zone_conflicts)
{
	/*
	 * w1 ended before r2 began (w1 before w2's block) and w2 ended before r1 began (w2
	 * before w1's block), yet neither write lies inside the other's zone.
	 */
	struct hist_op backward_inside[] = { HW(0, 20, 1), HW(10, 24, 2), HR(22, 25, 2), HR(26, 30, 1) };
	/* two forward zones overlapping: reads see 1, 2, 1, 2 */
	struct hist_op crossing[] = {
		HW(0, 100, 1), HW(0, 100, 2), HR(10, 11, 1), HR(12, 13, 2), HR(14, 15, 1), HR(16, 17, 2),
	};
	struct hist_result res;

	hist_t_bad(backward_inside, NOPS(backward_inside), HIST_V_ZONE, 3, 1);
	cr_assert_eq(hist_check(crossing, NOPS(crossing), &res), 1);
	cr_assert_eq(res.first[0].kind, HIST_V_ZONE, "%s", res.first[0].why);
	cr_assert_str_eq(hist_violation_name(HIST_V_ZONE), "zone-overlap");
}

Test(history, cut_writes)
{
	/* A cut write that was read took effect; one never read may not have. */
	struct hist_op read[] = { HW(0, 5, 1), HWC(10, 2), HR(20, 30, 2), HR(40, 50, 2) };
	struct hist_op unread[] = { HW(0, 10, 1), HWC(20, 2), HR(30, 40, 1), HR(50, 60, 1) };
	struct hist_op unread_first[] = { HWC(0, 2), HW(10, 20, 1), HR(30, 40, 1) };
	/* once a read saw the cut write's value, the older value is gone */
	struct hist_op then_old[] = { HW(0, 10, 1), HWC(20, 2), HR(30, 40, 2), HR(50, 60, 1) };
	/* a cut write's value read before it was invoked */
	struct hist_op future[] = { HW(0, 1, 1), HR(2, 3, 2), HWC(10, 2) };
	struct hist_result res;

	hist_t_ok(read, NOPS(read));
	cr_assert_eq(hist_check(read, NOPS(read), &res), 0);
	cr_assert_eq(res.cut, 1);
	hist_t_ok(unread, NOPS(unread));
	hist_t_ok(unread_first, NOPS(unread_first));
	hist_t_bad(then_old, NOPS(then_old), HIST_V_ZONE, 3, 2);
	hist_t_bad(future, NOPS(future), HIST_V_FUTURE, 1, 2);
}

Test(history, cut_reads_are_ignored)
{
	struct hist_op ops[] = { HW(0, 10, 1), HRC(5, 0xdeadbeef), HR(20, 30, 1), HRC(40, 0) };
	struct hist_result res;

	cr_assert_eq(hist_check(ops, NOPS(ops), &res), 0);
	cr_assert_eq(res.cut, 2);
	cr_assert_eq(res.reads, 3);
	/* resp == UINT64_MAX alone also marks an op cut */
	ops[1].cut = 0;
	cr_assert_eq(hist_check(ops, NOPS(ops), &res), 0);
}

Test(history, bad_input)
{
	struct hist_op twice[] = { HW(0, 1, 5), HR(2, 3, 5), HW(4, 5, 5) };
	struct hist_op zero[] = { HW(0, 1, 0) };
	struct hist_op backwards[] = { HW(0, 1, 1), HR(5, 4, 1) };
	struct hist_op kind[] = { { .inv = 0, .resp = 1, .value = 1, .kind = 3 } };
	struct hist_op range[] = { HW(1ULL << 63, (1ULL << 63) + 1, 1) };
	struct hist_result res;

	cr_assert_eq(hist_check(twice, NOPS(twice), &res), -EINVAL);
	cr_assert_eq(res.first[0].kind, HIST_V_BAD_INPUT);
	cr_assert_eq(res.first[0].op_a, 2);
	cr_assert_eq(res.first[0].op_b, 0);
	cr_assert_eq(hist_check(zero, NOPS(zero), &res), -EINVAL);
	cr_assert_eq(hist_check(backwards, NOPS(backwards), &res), -EINVAL);
	cr_assert_eq(res.first[0].op_a, 1);
	cr_assert_eq(hist_check(kind, NOPS(kind), &res), -EINVAL);
	cr_assert_eq(hist_check(range, NOPS(range), NULL), -EINVAL);
	cr_assert_str_eq(hist_violation_name(HIST_V_BAD_INPUT), "bad-input");
	cr_assert_str_eq(hist_violation_name(99), "unknown");
}

static uint64_t hist_t_rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* Brute force: one value's write (if any) and its completed reads, in internal times. */
struct hist_t_bfc {
	bool has_w;
	int64_t winv, wresp;
	int nr;
	int64_t rinv[16], rresp[16];
};

/* Place cluster c's ops as early as possible from time t; INT64_MAX when impossible. */
static int64_t hist_t_place(const struct hist_t_bfc *c, int64_t t)
{
	int64_t end;
	int i;

	if (c->has_w) {
		t = t > c->winv ? t : c->winv;
		if (t > c->wresp)
			return INT64_MAX;
	}
	end = t;
	for (i = 0; i < c->nr; i++) {
		int64_t p = t > c->rinv[i] ? t : c->rinv[i];

		if (p > c->rresp[i])
			return INT64_MAX;
		end = p > end ? p : end;
	}
	return end;
}

/* Whether the clusters not in `used` can follow, in some order, from time t. */
static bool hist_t_dfs(const struct hist_t_bfc *cl, int ncl, unsigned used, int64_t t)
{
	int c;

	if (used == (1u << ncl) - 1)
		return true;
	for (c = 1; c < ncl; c++) {
		int64_t t2;

		if (used & (1u << c))
			continue;
		t2 = hist_t_place(&cl[c], t);
		if (t2 != INT64_MAX && hist_t_dfs(cl, ncl, used | (1u << c), t2))
			return true;
	}
	return false;
}

/* Linearizable by trying every order of the values; writes are values 1..nw, all present. */
static bool hist_t_brute(const struct hist_op *ops, size_t n, int nw)
{
	struct hist_t_bfc cl[8] = { { 0 } };
	size_t i;
	int64_t t;

	for (i = 0; i < n; i++) {
		const struct hist_op *o = &ops[i];
		struct hist_t_bfc *c;

		if (o->cut && o->kind == HIST_READ)
			continue;
		if (o->value > (uint64_t)nw)
			return false;
		c = &cl[o->value];
		if (o->kind == HIST_WRITE) {
			c->has_w = true;
			c->winv = (int64_t)o->inv;
			c->wresp = o->cut ? INT64_MAX : (int64_t)o->resp;
		} else {
			c->rinv[c->nr] = (int64_t)o->inv;
			c->rresp[c->nr++] = (int64_t)o->resp;
		}
	}
	t = hist_t_place(&cl[0], INT64_MIN);
	return t != INT64_MAX && hist_t_dfs(cl, nw + 1, 1, t);
}

/* A small random history with many equal times, cut ops and the odd invented value. */
static size_t hist_t_small(struct hist_op *ops, uint64_t *rng, int *nw_out)
{
	int nw = 1 + hist_t_rng(rng) % 5, nr = hist_t_rng(rng) % 8, i;
	size_t n = 0;

	for (i = 0; i < nw + nr; i++) {
		struct hist_op *o = &ops[n++];

		o->inv = hist_t_rng(rng) % 12;
		o->resp = o->inv + hist_t_rng(rng) % 5;
		o->kind = i < nw ? HIST_WRITE : HIST_READ;
		o->value = i < nw ? (uint64_t)i + 1 : hist_t_rng(rng) % (nw + 1);
		if (o->kind == HIST_READ && hist_t_rng(rng) % 40 == 0)
			o->value = 99;
		if (hist_t_rng(rng) % 9 == 0) {
			o->cut = 1;
			o->resp = CUT;
		}
	}
	*nw_out = nw;
	return n;
}

Test(history, agrees_with_brute_force)
{
	struct hist_op ops[16];
	struct hist_result res;
	uint64_t rng = 0x1234567;
	int iter, nw, yes = 0, no = 0;

	for (iter = 0; iter < 200000; iter++) {
		size_t n;
		bool lin;
		int r;

		memset(ops, 0, sizeof(ops));
		n = hist_t_small(ops, &rng, &nw);
		lin = hist_t_brute(ops, n, nw);
		r = hist_check(ops, n, &res);
		cr_assert(r == 0 || r == 1, "iteration %d: %d", iter, r);
		cr_assert_eq(r == 0, lin, "iteration %d: checker %d, brute force %d: %s", iter, r,
			     lin, res.first[0].why);
		yes += lin;
		no += !lin;
	}
	cr_assert_gt(yes, 20000);
	cr_assert_gt(no, 20000);
}

/* Order of linearization points, for the simulation. */
struct hist_t_pt {
	int64_t p;	/* the point; -1: a cut write that never took effect */
	size_t i;	/* the op */
};

static int hist_t_pt_cmp(const void *x, const void *y)
{
	const struct hist_t_pt *a = x, *b = y;

	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * n ops by `workers` sequential workers on a simulated atomic register: each op takes effect
 * at a point inside its [inv, resp]; the last op of some workers is cut short.
 */
static struct hist_op *hist_t_random(size_t n, unsigned workers, uint64_t seed)
{
	struct hist_op *ops = calloc(n, sizeof(*ops));
	struct hist_t_pt *pt = calloc(n, sizeof(*pt));
	uint64_t rng = seed, cur = 0, t = 0;
	size_t i, per = n / workers;

	cr_assert(ops && pt);
	for (i = 0; i < n; i++) {
		unsigned w = i / per < workers ? i / per : workers - 1;
		bool last = i + 1 == n || (i + 1) / per != i / per;

		if (i % per == 0 && i / per < workers)
			t = 1000000000000ULL + hist_t_rng(&rng) % 100;
		ops[i].worker = w;
		ops[i].kind = hist_t_rng(&rng) % 4 ? HIST_READ : HIST_WRITE;
		ops[i].value = ops[i].kind == HIST_WRITE ? ((uint64_t)(w + 1) << 40) | i : 0;
		ops[i].inv = t + hist_t_rng(&rng) % 3;
		pt[i] = (struct hist_t_pt){ (int64_t)(ops[i].inv + hist_t_rng(&rng) % 40), i };
		ops[i].resp = pt[i].p + hist_t_rng(&rng) % 40;
		t = ops[i].resp + hist_t_rng(&rng) % 3;
		if (last && hist_t_rng(&rng) % 2) {
			ops[i].cut = 1;
			ops[i].resp = CUT;
			if (ops[i].kind == HIST_WRITE && hist_t_rng(&rng) % 2)
				pt[i].p = -1;
		}
	}
	qsort(pt, n, sizeof(*pt), hist_t_pt_cmp);
	for (i = 0; i < n; i++) {
		struct hist_op *o = &ops[pt[i].i];

		if (o->kind == HIST_WRITE && pt[i].p >= 0)
			cur = o->value;
		else if (o->kind == HIST_READ)
			o->value = o->cut ? 0xbad : cur;
	}
	free(pt);
	return ops;
}

Test(history, random_linearizable, .timeout = 60)
{
	size_t n = 200000;
	struct hist_op *ops = hist_t_random(n, 8, 42);
	struct hist_result res;

	cr_assert_eq(hist_check(ops, n, &res), 0, "%s", res.first[0].why);
	cr_assert_gt(res.writes, n / 5);
	cr_assert_gt(res.cut, 0);
	free(ops);
}

Test(history, random_with_one_stale_read, .timeout = 60)
{
	size_t n = 200000, i, w1 = HIST_NO_OP, r = HIST_NO_OP;
	struct hist_op *ops = hist_t_random(n, 8, 7);
	struct hist_result res;
	uint64_t gap_end = UINT64_MAX;
	bool found = false;

	/* the first completed write, and the end of the first write wholly after it */
	for (i = 0; i < n; i++)
		if (ops[i].kind == HIST_WRITE && !ops[i].cut &&
		    (w1 == HIST_NO_OP || ops[i].resp < ops[w1].resp))
			w1 = i;
	for (i = 0; i < n; i++)
		if (ops[i].kind == HIST_WRITE && !ops[i].cut && ops[i].inv > ops[w1].resp &&
		    ops[i].resp < gap_end)
			gap_end = ops[i].resp;
	/* a completed read that began after that: make it return w1's value */
	for (i = n; i-- > 0;)
		if (ops[i].kind == HIST_READ && !ops[i].cut && ops[i].inv > gap_end) {
			r = i;
			break;
		}
	cr_assert_neq(r, HIST_NO_OP);
	cr_assert_eq(hist_check(ops, n, &res), 0);
	ops[r].value = ops[w1].value;
	cr_assert_eq(hist_check(ops, n, &res), 1);
	cr_assert_gt(res.violations, 0);
	for (i = 0; i < HIST_FIRST_MAX && i < res.violations; i++)
		found |= res.first[i].kind == HIST_V_STALE && res.first[i].op_a == r;
	cr_assert(found, "no stale violation names read %zu; first: %s %s", r,
		  hist_violation_name(res.first[0].kind), res.first[0].why);
	free(ops);
}
