/* test_bench_output.c -- the bench reports: table rows, JSON that parses back, CSV that lines up. */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static struct bench_result bo_rs[3];

/* Two repeats of an unsafe backend (the first with a violation), then one baseline run. */
static void bo_fill(void)
{
	unsigned k, w;

	memset(bo_rs, 0, sizeof(bo_rs));
	for (k = 0; k < 3; k++) {
		struct bench_result *r = &bo_rs[k];

		r->pt = (struct bench_point){ .backend = k < 2 ? "stale" : "bare,\"x\"", .procs = 2,
					      .write_ratio = 50, .size = 64, .repeat = k };
		r->unsafe = k < 2;
		r->baseline = k == 2;
		r->ops = 2000000;
		r->ops_per_sec = 1e6 * (k + 1);
		r->nworkers = 2;
		for (w = 0; w < 2; w++)
			r->per_worker_ops[w] = r->ops / 2;
		r->fairness_jain = 1;
		r->fairness_minmax = NAN;
		r->get_lat = (struct latency_summary){ 10, 50, 60, 70, 80, 90 };
		r->errors[6] = 2;
		r->errors_total = 2;
		r->checked = 1;
	}
	bo_rs[0].violations = 1;
	bo_rs[0].first_violation.kind = HIST_V_STALE;
	strcpy(bo_rs[0].first_violation.why, "a \"why\"");
}

static char *bo_tmp(void)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/mms_bench_out_XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	return path;
}

Test(bench_output, table_row)
{
	char *buf = NULL, *nl;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	bo_fill();
	bench_table_header(f);
	bench_table_row(f, bo_rs, 2);
	fclose(f);
	nl = strchr(buf, '\n');
	cr_assert(nl && !strncmp(nl + 1, "stale! ", 7), "%s", buf);
	cr_assert(strstr(nl, "1.50M"), "mean ops/s: %s", nl);
	cr_assert(strstr(nl, " no "), "set p99 and contended: %s", nl);
	free(buf);
}

Test(bench_output, json_parses_back)
{
	static struct bench_opts o = { .duration = 1, .repeat = 2 };
	struct bench_machine m;
	struct json_object *root, *res, *r0, *v;
	char *path = bo_tmp();

	bo_fill();
	bench_machine_read(&m);
	cr_assert_eq(bench_write_json(path, &o, &m, bo_rs, 3), 0);
	root = json_object_from_file(path);
	unlink(path);
	cr_assert(root);
	cr_assert(json_object_object_get_ex(root, "results", &res));
	cr_assert_eq(json_object_array_length(res), 3);
	r0 = json_object_array_get_idx(res, 0);
	cr_assert(json_object_object_get_ex(r0, "fairness_minmax", &v) && !v);
	cr_assert(json_object_object_get_ex(r0, "errors", &v));
	cr_assert_eq(json_object_get_int(json_object_object_get(v, "ECORRUPT")), 2);
	cr_assert(json_object_object_get_ex(r0, "first_violation", &v) && v);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(v, "kind")), "stale");
	json_object_put(root);
}

static size_t bo_fields(const char *line)
{
	size_t n = 1;
	int quoted = 0;

	for (; *line && *line != '\n'; line++) {
		if (*line == '"')
			quoted = !quoted;
		n += !quoted && *line == ',';
	}
	return n;
}

Test(bench_output, csv_lines_up)
{
	char line[4096], *path = bo_tmp();
	size_t header;
	FILE *f;

	bo_fill();
	cr_assert_eq(bench_write_csv(path, bo_rs, 3), 0);
	f = fopen(path, "r");
	cr_assert(f && fgets(line, sizeof(line), f));
	header = bo_fields(line);
	cr_assert(strstr(line, ",get_p50,") && strstr(line, ",set_count,"));
	while (fgets(line, sizeof(line), f))
		cr_assert_eq(bo_fields(line), header, "%s", line);
	cr_assert(!strncmp(line, "\"bare,\"\"x\"\"\",", 12), "%s", line);
	fclose(f);
	unlink(path);
}

Test(bench_output, io_failure)
{
	errno = 0;
	cr_assert_eq(bench_write_csv("/dev/full", bo_rs, 1), -1);
	cr_assert_eq(errno, ENOSPC);
}
