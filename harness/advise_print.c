/* advise_print.c -- `mmshare advise`: the recommendation as text, or as one JSON object. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mmshare.h"
#include "advise.h"

#define NREASONS 5
#define REASON_LEN 200

static void fmt_ops(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.3gM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.3gk", v / 1e3);
	else
		snprintf(buf, len, "%.3g", v);
}

/* A latency with its unit: ns up to 10 us, then us up to 1 ms, then ms. */
const char *advise_fmt_ns(char *buf, size_t len, double ns)
{
	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (ns < 1e4)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	return buf;
}

static const char *readers_text(unsigned caps)
{
	if (caps & MMS_CAP_READ_NOWAIT)
		return "never wait";
	return caps & MMS_CAP_SHARED_READ ? "shared" : "exclusive";
}

static const char *crash_safe_text(unsigned caps)
{
	if (caps & MMS_CAP_CRASH_SAFE)
		return "crash-safe: a holder killed while holding is replaced; the others go on "
		       "with a whole value";
	return "not crash-safe: a holder that dies leaves the area unusable (MMS_EDEAD)";
}

static int oversubscribed(const struct advise *a)
{
	return a->o.procs > (unsigned)a->o.cpus;
}

static double best_p99(const struct advise *a)
{
	double best = INFINITY;
	size_t k;

	for (k = 0; k < a->n; k++)
		if (a->c[k].rounds)
			best = fmin(best, a->c[k].p99);
	return best;
}

static int faster_but_tail_heavy(const struct advise *a, const struct advise_cand *w)
{
	size_t k;

	for (k = 0; k < a->n; k++)
		if (a->c[k].rounds && a->c[k].tail_heavy && a->c[k].mean_ops > w->mean_ops)
			return 1;
	return 0;
}

/* Why the winner, one sentence each: the figures first, then what it guarantees. */
static size_t reasons(const struct advise *a, char out[NREASONS][REASON_LEN])
{
	const struct advise_cand *w = &a->c[a->pick.best];
	const struct advise_cand *l = a->pick.second >= 0 ? &a->c[a->pick.second] : NULL;
	const char *rule = a->pick.decided_by;
	char ops[16], t[3][24];
	size_t n = 0;

	fmt_ops(ops, sizeof(ops), w->mean_ops);
	if (!l)
		snprintf(out[n++], REASON_LEN, "the only eligible backend with figures: %s ops/s", ops);
	else if (faster_but_tail_heavy(a, w))
		snprintf(out[n++], REASON_LEN, "highest throughput among those with a p99 within "
			 "%.0fx of the lowest: %s ops/s (\u00b1%.1f%%, %u rounds)", ADVISE_TAIL_FACTOR,
			 ops, 100 * w->ci_rel, w->rounds);
	else if (!a->pick.pair.within_noise)
		snprintf(out[n++], REASON_LEN, "highest throughput: %s ops/s (\u00b1%.1f%%, %u rounds)",
			 ops, 100 * w->ci_rel, w->rounds);
	else
		snprintf(out[n++], REASON_LEN, "%s ops/s, within noise of %s; tie broken on %s",
			 ops, l->backend, !strcmp(rule, "crash-safe") ? "crash safety" :
			 !strcmp(rule, "p99") ? "the lower p99" : "the higher mean");
	snprintf(out[n++], REASON_LEN, "p99 %s (get %s, set %s), fairness (Jain) %.3f",
		 advise_fmt_ns(t[0], sizeof(t[0]), w->p99), advise_fmt_ns(t[1], sizeof(t[1]), w->p99_get),
		 advise_fmt_ns(t[2], sizeof(t[2]), w->p99_set), w->jain);
	if (oversubscribed(a))
		snprintf(out[n++], REASON_LEN, "%u procs on %ld CPUs: its p99 is within %.0fx of the "
			 "lowest measured (%s), so preempted holders do not stall it unduly",
			 a->o.procs, a->o.cpus, ADVISE_TAIL_FACTOR,
			 advise_fmt_ns(t[0], sizeof(t[0]), best_p99(a)));
	snprintf(out[n++], REASON_LEN, "%s", crash_safe_text(w->caps));
	snprintf(out[n++], REASON_LEN, "readers %s", readers_text(w->caps));
	return n;
}

static void print_header(const struct advise *a)
{
	char need[96];

	advise_caps_text(a->o.need, need, sizeof(need));
	printf("mmshare advise: %u procs, %u%% writes, %zu-byte values%s%s\n", a->o.procs,
	       a->o.write_ratio, a->o.size, need[0] ? "; need " : "", need);
	printf("machine: %ld CPUs%s\n", a->o.cpus, oversubscribed(a) ?
	       " (oversubscribed: p99 counts, a tail over 4x the best ranks last)" : "");
	printf("measured: every candidate once per round, %u interleaved rounds, %.2f s a run on average "
	       "(%.1f s in all), unchecked timing runs\n", a->o.repeat, a->run_s, a->wall_s);
}

static void print_left_out(const struct advise *a)
{
	size_t k;

	for (k = 0; k < a->n; k++)
		if (a->c[k].excluded[0])
			printf("excluded: %-8s %s\n", a->c[k].backend, a->c[k].excluded);
	for (k = 0; k < a->n; k++)
		if (a->c[k].failure[0])
			printf("failed:   %-8s %s\n", a->c[k].backend, a->c[k].failure);
}

static void print_table(const struct advise *a)
{
	char ops[16], t[3][24];
	size_t k;

	printf("\n%-10s %8s %6s %9s %9s %9s %6s  %-10s %-10s\n", "backend", "ops/s", "\u00b195%",
	       "p99", "get p99", "set p99", "jain", "crash-safe", "readers");
	for (k = 0; k < a->n; k++) {
		const struct advise_cand *c = &a->c[k];

		if (!c->rounds)
			continue;
		fmt_ops(ops, sizeof(ops), c->mean_ops);
		printf("%-10s %8s %5.0f%% %9s %9s %9s %6.3f  %-10s %-10s%s\n", c->backend, ops,
		       100 * c->ci_rel, advise_fmt_ns(t[0], sizeof(t[0]), c->p99),
		       advise_fmt_ns(t[1], sizeof(t[1]), c->p99_get), advise_fmt_ns(t[2], sizeof(t[2]), c->p99_set),
		       c->jain,
		       c->caps & MMS_CAP_CRASH_SAFE ? "yes" : "no", readers_text(c->caps),
		       c->tail_heavy ? "  tail-heavy" : "");
	}
}

void advise_print_text(const struct advise *a)
{
	char why[NREASONS][REASON_LEN];
	size_t n = reasons(a, why), k;

	print_header(a);
	print_left_out(a);
	print_table(a);
	printf("\nrecommendation: %s\n", a->c[a->pick.best].backend);
	for (k = 0; k < n; k++)
		printf("  - %s\n", why[k]);
	if (a->pick.second >= 0)
		printf("runner-up: %s\n  - lost: %s\n", a->c[a->pick.second].backend, a->pick.why_lost);
}

/* ---- JSON (schema mmshare-advise/1) ---- */

static struct json_object *json_num(double d)
{
	char buf[32];

	if (!isfinite(d))
		return NULL;
	snprintf(buf, sizeof(buf), "%.6g", d);
	return json_object_new_double_s(d, buf);
}

static struct json_object *json_caps(unsigned caps)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "crash_safe", json_object_new_boolean(!!(caps & MMS_CAP_CRASH_SAFE)));
	json_object_object_add(j, "shared_read", json_object_new_boolean(!!(caps & MMS_CAP_SHARED_READ)));
	json_object_object_add(j, "read_nowait", json_object_new_boolean(!!(caps & MMS_CAP_READ_NOWAIT)));
	json_object_object_add(j, "export_fd", json_object_new_boolean(!!(caps & MMS_CAP_EXPORT_FD)));
	json_object_object_add(j, "hostile_safe",
			       json_object_new_boolean(!!(caps & MMS_CAP_HOSTILE_SAFE)));
	return j;
}

static void add_str(struct json_object *j, const char *key, const char *v)
{
	json_object_object_add(j, key, json_object_new_string(v));
}

static struct json_object *json_cand(const struct advise_cand *c)
{
	struct json_object *j = json_object_new_object(), *ops;
	unsigned k;

	add_str(j, "backend", c->backend);
	json_object_object_add(j, "capabilities", json_caps(c->caps));
	if (c->excluded[0])
		add_str(j, "excluded", c->excluded);
	if (c->failure[0])
		add_str(j, "failed", c->failure);
	if (!c->rounds)
		return j;
	ops = json_object_new_array();
	for (k = 0; k < c->rounds; k++)
		json_object_array_add(ops, json_num(c->ops[k]));
	json_object_object_add(j, "ops_per_sec", json_num(c->mean_ops));
	json_object_object_add(j, "ops_per_sec_ci95_rel", json_num(c->ci_rel));
	json_object_object_add(j, "ops_per_sec_rounds", ops);
	json_object_object_add(j, "p99_ns", json_num(c->p99));
	json_object_object_add(j, "get_p99_ns", json_num(c->p99_get));
	json_object_object_add(j, "set_p99_ns", json_num(c->p99_set));
	json_object_object_add(j, "fairness_jain", json_num(c->jain));
	json_object_object_add(j, "tail_heavy", json_object_new_boolean(c->tail_heavy));
	return j;
}

static struct json_object *json_workload(const struct advise *a)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "procs", json_object_new_int64(a->o.procs));
	json_object_object_add(j, "write_ratio", json_object_new_int64(a->o.write_ratio));
	json_object_object_add(j, "size", json_object_new_int64((int64_t)a->o.size));
	json_object_object_add(j, "need", json_caps(a->o.need));
	json_object_object_add(j, "cpus", json_object_new_int64(a->o.cpus));
	json_object_object_add(j, "oversubscribed", json_object_new_boolean(oversubscribed(a)));
	json_object_object_add(j, "rounds", json_object_new_int64(a->o.repeat));
	json_object_object_add(j, "run_seconds", json_num(a->run_s));
	json_object_object_add(j, "wall_seconds", json_num(a->wall_s));
	return j;
}

static struct json_object *json_pick(const struct advise *a)
{
	struct json_object *j = json_object_new_object(), *why = json_object_new_array();
	char text[NREASONS][REASON_LEN];
	size_t n = reasons(a, text), k;

	for (k = 0; k < n; k++)
		json_object_array_add(why, json_object_new_string(text[k]));
	add_str(j, "backend", a->c[a->pick.best].backend);
	add_str(j, "decided_by", a->pick.decided_by);
	json_object_object_add(j, "reasons", why);
	return j;
}

static struct json_object *json_runner_up(const struct advise *a)
{
	struct json_object *j = json_object_new_object();
	const struct advise_pair *p = &a->pick.pair;

	add_str(j, "backend", a->c[a->pick.second].backend);
	add_str(j, "why_lost", a->pick.why_lost);
	json_object_object_add(j, "within_noise", json_object_new_boolean(p->within_noise));
	json_object_object_add(j, "ratio", json_num(p->ratio));
	json_object_object_add(j, "ratio_ci95_low", json_num(p->lo));
	json_object_object_add(j, "ratio_ci95_high", json_num(p->hi));
	return j;
}

/* One object on stdout; without a recommendation (every run failed) it has none. */
int advise_print_json(const struct advise *a)
{
	struct json_object *root = json_object_new_object(), *cands = json_object_new_array();
	int measured = a->pick.best >= 0 && a->c[a->pick.best].rounds;
	size_t k;

	for (k = 0; k < a->n; k++)
		json_object_array_add(cands, json_cand(&a->c[k]));
	add_str(root, "schema", "mmshare-advise/1");
	json_object_object_add(root, "workload", json_workload(a));
	json_object_object_add(root, "candidates", cands);
	json_object_object_add(root, "recommendation", measured ? json_pick(a) : NULL);
	json_object_object_add(root, "runner_up", measured && a->pick.second >= 0 ?
			       json_runner_up(a) : NULL);
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return fflush(stdout) ? -1 : 0;
}
