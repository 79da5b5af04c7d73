/* compare_load.c -- `mmshare compare`: reading a bench or hyperfine result file into scenarios. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "compare.h"
#include "stats.h"

/* ---- scenarios ---- */

static struct scenario *scenario_find(struct cmp *c, const char *key)
{
	size_t k;

	for (k = 0; k < c->n; k++)
		if (!strcmp(c->sc[k].key, key))
			return &c->sc[k];
	return NULL;
}

static struct scenario *scenario_get(struct cmp *c, const char *key, const char *label,
				     const char *backend)
{
	struct scenario *s = scenario_find(c, key);

	if (s)
		return s;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct scenario *sc = realloc(c->sc, cap * sizeof(*sc));

		if (!sc)
			return NULL;
		c->sc = sc;
		c->cap = cap;
	}
	s = &c->sc[c->n];
	memset(s, 0, sizeof(*s));
	s->key = strdup(key);
	s->label = strdup(label);
	s->backend = strdup(backend);
	if (!s->key || !s->label || !s->backend) {
		free(s->key), free(s->label), free(s->backend);
		return NULL;
	}
	c->n++;
	return s;
}

void cmp_free(struct cmp *c)
{
	size_t k;
	int side;

	for (k = 0; k < c->n; k++) {
		for (side = 0; side < 2; side++) {
			samples_free(&c->sc[k].s[side]);
			samples_free(&c->sc[k].insn[side]);
		}
		free(c->sc[k].key), free(c->sc[k].label), free(c->sc[k].backend);
	}
	free(c->sc);
	free(c->backends);
	free(c->noise);
}

/* ---- reading a file ---- */

/* Say what is wrong with a file in one line; always returns -1. */
__attribute__((format(printf, 2, 3)))
static int bad_input(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mmshare compare: %s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nbuf;
	size_t cap = 0, got;

	*len = 0;
	if (!f) {
		bad_input(path, "cannot read: %s", strerror(errno));
		return NULL;
	}
	do {
		if (cap - *len < 65536) {
			cap = cap ? 2 * cap : 65536;
			nbuf = cap > CMP_MAX_INPUT ? NULL : realloc(buf, cap + 1);
			if (!nbuf) {
				bad_input(path, "too large or out of memory");
				free(buf), fclose(f);
				return NULL;
			}
			buf = nbuf;
		}
		got = fread(buf + *len, 1, cap - *len, f);
		*len += got;
	} while (got);
	if (ferror(f)) {
		bad_input(path, "cannot read: %s", strerror(errno));
		free(buf), fclose(f);
		return NULL;
	}
	fclose(f);
	buf[*len] = 0;
	return buf;
}

static json_object *load_json(const char *path)
{
	struct json_tokener *tok;
	json_object *root;
	size_t len, k;
	char *text = slurp(path, &len);

	if (!text)
		return NULL;
	k = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;   /* a UTF-8 byte order mark */
	for (; k < len && text[k] && strchr(" \t\r\n", text[k]); k++)
		;
	if (k == len) {
		free(text);
		bad_input(path, "not JSON: the file is empty");
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		free(text);
		bad_input(path, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	k = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
	root = json_tokener_parse_ex(tok, text + k, (int)(len - k));
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		bad_input(path, "not JSON: %s at byte %zu", e == json_tokener_continue ?
			  "unexpected end of file" : json_tokener_error_desc(e), json_tokener_get_parse_end(tok));
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	free(text);
	return root;
}

static int is_number(json_object *o)
{
	return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

/* What kind of file: mmshare-bench/1, hyperfine's export, or neither (said). */
static enum cmp_kind detect(const char *path, json_object *root)
{
	json_object *schema, *results, *first;

	if (!json_object_is_type(root, json_type_object)) {
		bad_input(path, "expected a JSON object at the top, not a %s",
			  json_type_to_name(json_object_get_type(root)));
		return KIND_NONE;
	}
	if (json_object_object_get_ex(root, "schema", &schema)) {
		if (json_object_is_type(schema, json_type_string) &&
		    !strcmp(json_object_get_string(schema), "mmshare-bench/1"))
			return KIND_BENCH;
		bad_input(path, "unknown schema %s (expected \"mmshare-bench/1\" or hyperfine's export)",
			  json_object_to_json_string(schema));
		return KIND_NONE;
	}
	if (json_object_object_get_ex(root, "results", &results) &&
	    json_object_is_type(results, json_type_array)) {
		first = json_object_array_length(results) ? json_object_array_get_idx(results, 0) : NULL;
		if (!first || (json_object_is_type(first, json_type_object) &&
			       json_object_object_get_ex(first, "command", NULL)))
			return KIND_HYPERFINE;
	}
	bad_input(path, "unknown schema: no \"schema\" key and not hyperfine's --export-json");
	return KIND_NONE;
}

/* A field of results[i]: present and of the right sort, or said. */
static json_object *field(const char *path, size_t i, json_object *r, const char *name,
			  int optional)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(r, name, &v) && !optional)
		bad_input(path, "results[%zu]: no \"%s\"", i, name);
	return v;
}

static int get_text(const char *path, size_t i, json_object *r, const char *name, const char **out)
{
	json_object *v = field(path, i, r, name, 0);

	if (!v && json_object_object_get_ex(r, name, NULL))
		return bad_input(path, "results[%zu].%s: expected a string, got null", i, name);
	if (!v)
		return -1;
	if (!json_object_is_type(v, json_type_string))
		return bad_input(path, "results[%zu].%s: expected a string, got %s", i, name,
				 json_type_to_name(json_object_get_type(v)));
	*out = json_object_get_string(v);
	return 0;
}

/* A finite number >= 0; a missing optional one (or null) leaves *out alone and returns 1. */
static int get_number(const char *path, size_t i, json_object *r, const char *name, int optional,
		      double *out)
{
	json_object *v = field(path, i, r, name, optional);
	int present = json_object_object_get_ex(r, name, NULL);

	if (!v && (optional || present))
		return optional ? 1 : bad_input(path, "results[%zu].%s: expected a number, got null",
						i, name);
	if (!v)
		return -1;
	if (!is_number(v))
		return bad_input(path, "results[%zu].%s: expected a number, got %s", i, name,
				 json_type_to_name(json_object_get_type(v)));
	*out = json_object_get_double(v);
	if (!isfinite(*out) || *out < 0)
		return bad_input(path, "results[%zu].%s: %g is not a finite number >= 0", i, name, *out);
	return 0;
}

static int get_count(const char *path, size_t i, json_object *r, const char *name, int optional,
		     unsigned long long *out)
{
	double d = 0;
	int err = get_number(path, i, r, name, optional, &d);

	if (err < 0)
		return err;
	if (d != floor(d) || d > 1e18)
		return bad_input(path, "results[%zu].%s: expected a whole number, got %g", i, name, d);
	*out = err ? 0 : (unsigned long long)d;
	return 0;
}

static void size_text(unsigned long long size, char *out, size_t cap)
{
	if (size >= 1024 * 1024 && !(size % (1024 * 1024)))
		snprintf(out, cap, "%lluMiB", size >> 20);
	else if (size >= 1024 && !(size % 1024))
		snprintf(out, cap, "%lluKiB", size >> 10);
	else
		snprintf(out, cap, "%lluB", size);
}

/* One result of an mmshare-bench/1 file into its scenario. */
static int add_bench_result(struct cmp *c, int side, size_t i, json_object *r)
{
	const char *path = c->path[side], *backend, *mode;
	unsigned long long procs = 0, write = 0, size = 0, rmw = 0;
	double ops, insn = 0;
	char key[512], label[512], sz[32], rmw_text[32] = "";
	struct scenario *s;
	int no_insn;

	if (!json_object_is_type(r, json_type_object))
		return bad_input(path, "results[%zu]: expected an object, got %s", i,
				 json_type_to_name(json_object_get_type(r)));
	if (get_text(path, i, r, "backend", &backend) || get_text(path, i, r, "mode", &mode) ||
	    get_count(path, i, r, "procs", 0, &procs) || get_count(path, i, r, "write_ratio", 0, &write) ||
	    get_count(path, i, r, "size", 0, &size) || get_count(path, i, r, "rmw", 1, &rmw) ||
	    get_number(path, i, r, "ops_per_sec", 0, &ops) < 0)
		return -1;
	no_insn = get_number(path, i, r, "insn_per_op", 1, &insn);
	if (no_insn < 0)
		return -1;
	size_text(size, sz, sizeof(sz));
	if (rmw)
		snprintf(rmw_text, sizeof(rmw_text), " rmw=%llu%%", rmw);
	snprintf(key, sizeof(key), "%s\037%s\037%llu\037%llu\037%llu\037%llu", backend, mode, procs,
		 write, size, rmw);
	snprintf(label, sizeof(label), "%s %s p=%llu w=%llu%% %s%s", backend, mode, procs, write, sz,
		 rmw_text);
	s = scenario_get(c, key, label, backend);
	if (s)
		s->stratum = procs;
	if (!s || samples_add(&s->s[side], ops) || (!no_insn && samples_add(&s->insn[side], insn)))
		return bad_input(path, "out of memory");
	return 0;
}

/* hyperfine names no backend: take its "backend" parameter, or the word after --backend. */
static void hyperfine_backend(json_object *r, const char *command, char *out, size_t cap)
{
	json_object *params, *b;
	const char *p = strstr(command, "--backend");
	size_t n;

	if (json_object_object_get_ex(r, "parameters", &params) &&
	    json_object_is_type(params, json_type_object) &&
	    json_object_object_get_ex(params, "backend", &b) && json_object_is_type(b, json_type_string)) {
		snprintf(out, cap, "%s", json_object_get_string(b));
		return;
	}
	if (p) {
		p += strlen("--backend");
		p += strspn(p, "= ");
		n = strcspn(p, " \t,");
		if (n) {
			snprintf(out, cap, "%.*s", (int)n, p);
			return;
		}
	}
	snprintf(out, cap, "%s", command);
}

/*
 * A hyperfine scenario is its parameters when it has some (so that builds at two paths still
 * match), else its command: "name=value ..." in hyperfine's order, or the command.
 */
static void hyperfine_key(json_object *r, const char *command, char *out, size_t cap)
{
	json_object *params;
	size_t used = 0;

	*out = 0;
	if (json_object_object_get_ex(r, "parameters", &params) &&
	    json_object_is_type(params, json_type_object)) {
		json_object_object_foreach(params, name, value)
			if (used < cap)
				used += (size_t)snprintf(out + used, cap - used, "%s%s=%s", used ? " " : "",
							 name, json_object_get_string(value));
	}
	if (!used)
		snprintf(out, cap, "%s", command);
}

static int add_times(struct cmp *c, int side, size_t i, struct scenario *s, json_object *times)
{
	const char *path = c->path[side];
	json_object *t;
	size_t k, n;

	if (!json_object_is_type(times, json_type_array) || !(n = json_object_array_length(times)))
		return bad_input(path, "results[%zu].times: expected a non-empty array of numbers", i);
	for (k = 0; k < n; k++) {
		t = json_object_array_get_idx(times, k);
		if (!is_number(t) || !isfinite(json_object_get_double(t)) || json_object_get_double(t) < 0)
			return bad_input(path, "results[%zu].times[%zu]: expected a number >= 0", i, k);
		if (samples_add(&s->s[side], json_object_get_double(t)))
			return bad_input(path, "out of memory");
	}
	return 0;
}

/* One result of hyperfine's export: its run times, or its mean when the times are missing. */
static int add_hyperfine_result(struct cmp *c, int side, size_t i, json_object *r)
{
	const char *path = c->path[side], *command;
	json_object *times = NULL;
	struct scenario *s;
	char backend[256], key[1024];
	double mean = 0;

	if (!json_object_is_type(r, json_type_object))
		return bad_input(path, "results[%zu]: expected an object, got %s", i,
				 json_type_to_name(json_object_get_type(r)));
	if (get_text(path, i, r, "command", &command))
		return -1;
	json_object_object_get_ex(r, "times", &times);
	if (!times && get_number(path, i, r, "mean", 0, &mean))
		return -1;
	hyperfine_backend(r, command, backend, sizeof(backend));
	hyperfine_key(r, command, key, sizeof(key));
	s = scenario_get(c, key, command, backend);
	if (!s)
		return bad_input(path, "out of memory");
	if (times)
		return add_times(c, side, i, s, times);
	return samples_add(&s->s[side], mean) ? bad_input(path, "out of memory") : 0;
}

int compare_load_side(struct cmp *c, int side)
{
	const char *path = c->path[side];
	json_object *root = load_json(path), *results;
	enum cmp_kind kind;
	size_t k, n = 0;
	int err = 0;

	if (!root)
		return -1;
	kind = detect(path, root);
	if (kind == KIND_NONE)
		err = -1;
	else if (!json_object_object_get_ex(root, "results", &results) ||
		 !json_object_is_type(results, json_type_array))
		err = bad_input(path, "\"results\" is missing or not an array");
	else if (!(n = json_object_array_length(results)))
		err = bad_input(path, "no results");
	else if (side && kind != c->kind)
		err = bad_input(path, "mixed schemas: %s is %s but this file is %s", c->path[0],
				c->kind == KIND_BENCH ? "mmshare-bench/1" : "hyperfine's export",
				kind == KIND_BENCH ? "mmshare-bench/1" : "hyperfine's export");
	for (k = 0; !err && k < n; k++)
		err = kind == KIND_BENCH ?
			add_bench_result(c, side, k, json_object_array_get_idx(results, k)) :
			add_hyperfine_result(c, side, k, json_object_array_get_idx(results, k));
	c->kind = kind;
	json_object_put(root);
	return err;
}
