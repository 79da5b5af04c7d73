/* history.c -- the zone check (Gibbons & Korach) of a register history with unique values. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "history.h"

#define T_NEG_INF INT64_MIN	/* the virtual write of value 0 */
#define T_POS_INF INT64_MAX	/* the response of a cut write */

/* One value: its write and the reads that returned it; a slot of the value table. */
struct cluster {
	uint64_t value;		/* the value written; 0 in a free slot of the table */
	int64_t f;		/* earliest response in the cluster */
	int64_t s;		/* latest invocation in the cluster */
	size_t f_op;		/* the op that responds at f (HIST_NO_OP: the virtual write) */
	size_t s_op;		/* the op invoked at s (HIST_NO_OP: the virtual write) */
	size_t w_op;		/* the write (HIST_NO_OP for value 0) */
	int64_t w_inv;		/* the write's invocation (-infinity for value 0) */
};

/* A cluster's zone, for the sweep. */
struct zone {
	int64_t key;		/* where the sweep meets it: f if forward (f < s), else s */
	int64_t f;		/* f of the cluster */
	int64_t s;		/* s of the cluster */
	const struct cluster *c;	/* the cluster */
};

/* Everything one check works on. */
struct checker {
	const struct hist_op *ops;	/* the history */
	size_t n;			/* its length */
	struct hist_result *res;	/* where the outcome goes */
	uint64_t t0;			/* earliest invocation, the origin of times in messages */
	struct cluster zero;		/* value 0, written at -infinity */
	struct cluster *table;		/* open addressing by value: one cluster per write */
	size_t mask;			/* table size - 1 */
	struct zone *zones;		/* every cluster's zone, sorted for the sweep */
	size_t nzones;			/* zones in use */
};

static bool op_is_cut(const struct hist_op *op)
{
	return op->cut || op->resp == UINT64_MAX;
}

static int64_t op_inv(const struct hist_op *op)
{
	return (int64_t)op->inv;
}

/* The response as the check sees it: +infinity for a cut op. */
static int64_t op_resp(const struct hist_op *op)
{
	return op_is_cut(op) ? T_POS_INF : (int64_t)op->resp;
}

/* A time for a message, relative to the first invocation. */
static unsigned long long rel(const struct checker *ck, uint64_t t)
{
	return (unsigned long long)(t - ck->t0);
}

static unsigned long long val(const struct checker *ck, size_t op)
{
	return op == HIST_NO_OP ? 0ULL : (unsigned long long)ck->ops[op].value;
}

/* Count a violation and describe it if it is among the first few. */
static void __attribute__((format(printf, 5, 6)))
note(struct checker *ck, int kind, size_t op_a, size_t op_b, const char *fmt, ...)
{
	struct hist_result *res = ck->res;
	struct hist_violation *v;
	va_list ap;

	if (kind != HIST_V_BAD_INPUT)
		res->violations++;
	if (kind != HIST_V_BAD_INPUT && res->violations > HIST_FIRST_MAX)
		return;
	v = &res->first[kind == HIST_V_BAD_INPUT ? 0 : res->violations - 1];
	v->kind = kind;
	v->op_a = op_a;
	v->op_b = op_b;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

/* Check one op's shape and count it; -EINVAL (described) when it is malformed. */
static int check_op(struct checker *ck, size_t i)
{
	const struct hist_op *op = &ck->ops[i];
	struct hist_result *res = ck->res;

	if (op->kind != HIST_READ && op->kind != HIST_WRITE) {
		note(ck, HIST_V_BAD_INPUT, i, HIST_NO_OP, "op %zu: unknown kind %u", i, op->kind);
		return -EINVAL;
	}
	res->reads += op->kind == HIST_READ;
	res->writes += op->kind == HIST_WRITE;
	res->cut += op_is_cut(op);
	if (op_is_cut(op) && op->kind == HIST_READ)
		return 0;
	if (op->inv >= (uint64_t)INT64_MAX ||
	    (!op_is_cut(op) && op->resp >= (uint64_t)INT64_MAX)) {
		note(ck, HIST_V_BAD_INPUT, i, HIST_NO_OP, "op %zu: time out of range", i);
		return -EINVAL;
	}
	if (!op_is_cut(op) && op->resp < op->inv) {
		note(ck, HIST_V_BAD_INPUT, i, HIST_NO_OP, "op %zu: responds before it is invoked", i);
		return -EINVAL;
	}
	if (op->kind == HIST_WRITE && op->value == 0) {
		note(ck, HIST_V_BAD_INPUT, i, HIST_NO_OP, "op %zu writes 0, the initial state", i);
		return -EINVAL;
	}
	if (op->inv < ck->t0)
		ck->t0 = op->inv;
	return 0;
}

static size_t hash64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (size_t)x;
}

/* The cluster of value, or the free slot where it would go (its value is then 0). */
static struct cluster *cluster_of(struct checker *ck, uint64_t value)
{
	size_t h = hash64(value) & ck->mask;

	if (!value)
		return &ck->zero;
	while (ck->table[h].value && ck->table[h].value != value)
		h = (h + 1) & ck->mask;
	return &ck->table[h];
}

/* Allocate the table for `writes` writes, at most two thirds full. */
static int alloc_clusters(struct checker *ck, size_t writes)
{
	size_t size = 16;

	while (size / 3 * 2 < writes)
		size *= 2;
	ck->table = calloc(size, sizeof(*ck->table));
	if (!ck->table)
		return -ENOMEM;
	ck->mask = size - 1;
	ck->zero = (struct cluster){ .value = 0, .f = T_NEG_INF, .s = T_NEG_INF, .f_op = HIST_NO_OP,
				     .s_op = HIST_NO_OP, .w_op = HIST_NO_OP, .w_inv = T_NEG_INF };
	return 0;
}

/* One cluster per write, led by it; -EINVAL when a value is written twice. */
static int add_writes(struct checker *ck)
{
	struct cluster *c;
	size_t i;

	for (i = 0; i < ck->n; i++) {
		const struct hist_op *op = &ck->ops[i];

		if (op->kind != HIST_WRITE)
			continue;
		c = cluster_of(ck, op->value);
		if (c->value) {
			note(ck, HIST_V_BAD_INPUT, i, c->w_op, "ops %zu and %zu both write value %llu",
			     c->w_op, i, (unsigned long long)op->value);
			return -EINVAL;
		}
		*c = (struct cluster){ .value = op->value, .f = op_resp(op), .s = op_inv(op),
				       .f_op = i, .s_op = i, .w_op = i, .w_inv = op_inv(op) };
	}
	return 0;
}

/* Put read i in its value's cluster, unless it is invented or from the future. */
static void add_read(struct checker *ck, size_t i)
{
	const struct hist_op *op = &ck->ops[i];
	struct cluster *c = cluster_of(ck, op->value);

	if (c->value != op->value) {
		note(ck, HIST_V_INVENTED, i, HIST_NO_OP,
		     "read op %zu returned value %llu, which no write wrote", i, (unsigned long long)op->value);
		return;
	}
	if (op_resp(op) < c->w_inv) {
		note(ck, HIST_V_FUTURE, i, c->w_op,
		     "read op %zu (value %llu) ended at +%llu, before its write op %zu began at +%llu",
		     i, val(ck, i), rel(ck, op->resp), c->w_op, rel(ck, ck->ops[c->w_op].inv));
		return;
	}
	if (op_resp(op) < c->f) {
		c->f = op_resp(op);
		c->f_op = i;
	}
	if (op_inv(op) >= c->s) {
		c->s = op_inv(op);
		c->s_op = i;
	}
}

static void add_reads(struct checker *ck)
{
	size_t i;

	for (i = 0; i < ck->n; i++)
		if (ck->ops[i].kind == HIST_READ && !op_is_cut(&ck->ops[i]))
			add_read(ck, i);
}

/* Whether op lies strictly inside (lo, hi): invoked after lo, responded before hi. */
static bool strictly_inside(const struct checker *ck, size_t op, int64_t lo, int64_t hi)
{
	return op != HIST_NO_OP && op_inv(&ck->ops[op]) > lo && op_resp(&ck->ops[op]) < hi;
}

/* A message time, which may be the virtual write's -infinity. */
static unsigned long long op_end(const struct checker *ck, size_t op)
{
	return op == HIST_NO_OP ? 0ULL : rel(ck, ck->ops[op].resp);
}

/* Report that b's whole write ran strictly inside forward zone a, before a's read at s(a). */
static void note_stale(struct checker *ck, const struct cluster *a, const struct cluster *b)
{
	const struct hist_op *o = ck->ops;

	note(ck, HIST_V_STALE, a->s_op, b->w_op,
	     "read op %zu (value %llu) began at +%llu, after write op %zu (value %llu) ran in [+%llu,+%llu], after op %zu ended at +%llu",
	     a->s_op, val(ck, a->s_op), rel(ck, o[a->s_op].inv), b->w_op, val(ck, b->w_op),
	     rel(ck, o[b->w_op].inv), rel(ck, o[b->w_op].resp), a->f_op, op_end(ck, a->f_op));
}

/*
 * Report that clusters a and b conflict: f(a) < s(b) and f(b) < s(a), with a's zone forward.
 * Named for its most telling witnesses (see hist_check).
 */
static void conflict(struct checker *ck, const struct cluster *a, const struct cluster *b)
{
	const struct hist_op *o = ck->ops;

	if (a->w_op == HIST_NO_OP)
		note(ck, HIST_V_INITIAL, a->s_op, b->f_op,
		     "read op %zu (initial state) began at +%llu, after op %zu (value %llu) ended at +%llu",
		     a->s_op, rel(ck, o[a->s_op].inv), b->f_op, val(ck, b->f_op), op_end(ck, b->f_op));
	else if (strictly_inside(ck, b->w_op, a->f, a->s))
		note_stale(ck, a, b);
	else if (b->f < b->s && strictly_inside(ck, a->w_op, b->f, b->s))
		note_stale(ck, b, a);
	else
		note(ck, HIST_V_ZONE, a->s_op, b->f_op,
		     "values %llu, %llu: op %zu ended +%llu before op %zu began +%llu; op %zu ended +%llu before op %zu began +%llu",
		     (unsigned long long)a->value, (unsigned long long)b->value,
		     a->f_op, op_end(ck, a->f_op), b->s_op, rel(ck, o[b->s_op].inv),
		     b->f_op, op_end(ck, b->f_op), a->s_op, rel(ck, o[a->s_op].inv));
}

static bool zone_forward(const struct zone *z)
{
	return z->f < z->s;
}

/* By key; at equal keys backward zones first, as they only meet forward zones before them. */
static int zone_cmp(const void *x, const void *y)
{
	const struct zone *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (int)zone_forward(a) - (int)zone_forward(b);
}

static void add_zone(struct checker *ck, const struct cluster *c)
{
	ck->zones[ck->nzones++] = (struct zone){ c->f < c->s ? c->f : c->s, c->f, c->s, c };
}

/* Collect every cluster's zone, sorted by key. */
static int sort_zones(struct checker *ck, size_t writes)
{
	size_t i;

	ck->zones = malloc((writes + 1) * sizeof(*ck->zones));
	if (!ck->zones)
		return -ENOMEM;
	add_zone(ck, &ck->zero);
	for (i = 0; i <= ck->mask; i++)
		if (ck->table[i].value)
			add_zone(ck, &ck->table[i]);
	qsort(ck->zones, ck->nzones, sizeof(*ck->zones), zone_cmp);
	return 0;
}

/*
 * One sweep by key, keeping m, the forward zone met so far that reaches furthest (largest s).
 * The forward zones met before zone z are those with f < key(z) (or equal keys, both forward).
 * A forward z overlaps one of them exactly when z's f is below m's s; a backward z = [s, f]
 * lies strictly inside one of them exactly when m's s is above z's f.  So both conflicts are
 * f(z) < s(m), with m the witness.
 */
static void sweep(struct checker *ck)
{
	const struct zone *z, *m = NULL;
	size_t i;

	for (i = 0; i < ck->nzones; i++) {
		z = &ck->zones[i];
		if (m && z->f < m->s)
			conflict(ck, m->c, z->c);
		if (zone_forward(z) && (!m || z->s > m->s))
			m = z;
	}
}

static int run(struct checker *ck)
{
	size_t i;
	int r;

	ck->t0 = UINT64_MAX;
	for (i = 0; i < ck->n; i++) {
		r = check_op(ck, i);
		if (r)
			return r;
	}
	r = alloc_clusters(ck, ck->res->writes);
	if (!r)
		r = add_writes(ck);
	if (r)
		return r;
	add_reads(ck);
	r = sort_zones(ck, ck->res->writes);
	if (r)
		return r;
	sweep(ck);
	return ck->res->violations ? 1 : 0;
}

int hist_check(struct hist_op *ops, size_t n, struct hist_result *res)
{
	struct hist_result local;
	struct checker ck = { .ops = ops, .n = n, .res = res ? res : &local };
	int r;

	*ck.res = (struct hist_result){ .ops = n };
	if (!ops && n) {
		note(&ck, HIST_V_BAD_INPUT, HIST_NO_OP, HIST_NO_OP, "no ops");
		return -EINVAL;
	}
	r = run(&ck);
	free(ck.table);
	free(ck.zones);
	return r;
}

const char *hist_violation_name(int kind)
{
	switch (kind) {
	case HIST_V_BAD_INPUT:
		return "bad-input";
	case HIST_V_INVENTED:
		return "invented";
	case HIST_V_FUTURE:
		return "future";
	case HIST_V_STALE:
		return "stale";
	case HIST_V_INITIAL:
		return "initial-after-write";
	case HIST_V_ZONE:
		return "zone-overlap";
	default:
		return "unknown";
	}
}
