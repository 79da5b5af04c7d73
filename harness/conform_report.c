/* conform_report.c -- `mmshare conform` output: the table, TAP version 13, JUnit XML. */
#include <errno.h>
#include <string.h>

#include "conform_report.h"

static const char *const status_word[] = { "PASS", "FAIL", "skip" };

void conform_tally_add(struct conform_tally *t, const struct conform_suite *s)
{
	size_t k;

	for (k = 0; k < s->done; k++) {
		t->pass += s->results[k].status == CONFORM_PASS;
		t->fail += s->results[k].status == CONFORM_FAIL;
		t->skip += s->results[k].status == CONFORM_SKIP;
		t->seconds += s->results[k].seconds;
	}
}

/* ---- the table ---- */

void conform_table_begin(FILE *out, const struct conform_suite *s)
{
	char caps[200];

	conform_cap_names(s->caps, caps, sizeof(caps));
	fprintf(out, "%s  (%s)\n", s->backend, caps[0] ? caps : "no capability bits");
	fflush(out);
}

void conform_table_row(FILE *out, const struct conform_suite *s, size_t k)
{
	const struct conform_result *r = &s->results[k];

	fprintf(out, "  %-30s %s %6.2f s%s%s\n", s->cases[k]->name, status_word[r->status],
		r->seconds, r->evidence[0] ? "  " : "", r->evidence);
	fflush(out);
}

void conform_table_end(FILE *out, const struct conform_suite *s)
{
	struct conform_tally t = { 0 };

	conform_tally_add(&t, s);
	fprintf(out, "  %s: %zu passed, %zu failed, %zu skipped in %.1f s\n\n", s->backend, t.pass,
		t.fail, t.skip, t.seconds);
	fflush(out);
}

void conform_table_total(FILE *out, const struct conform_suite *suites, size_t n)
{
	struct conform_tally t = { 0 };
	size_t b;

	for (b = 0; b < n; b++)
		conform_tally_add(&t, &suites[b]);
	fprintf(out, "conform: %zu run(s) on %zu backend(s): %zu passed, %zu failed, %zu skipped "
		"(%.1f s)\n", t.pass + t.fail + t.skip, n, t.pass, t.fail, t.skip, t.seconds);
}

/* ---- TAP version 13 ---- */

void conform_tap_plan(FILE *out, size_t total)
{
	fprintf(out, "TAP version 13\n1..%zu\n", total);
	fflush(out);
}

/* A YAML double-quoted scalar; the evidence is printable ASCII already (conform_run). */
static void yaml_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* A TAP description: '#' would start a directive, so it is escaped. */
static void tap_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '#' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
}

void conform_tap_point(FILE *out, size_t number, const struct conform_suite *s, size_t k)
{
	const struct conform_result *r = &s->results[k];

	fprintf(out, "%s %zu - ", r->status == CONFORM_FAIL ? "not ok" : "ok", number);
	tap_text(out, s->backend);
	fprintf(out, ": %s", s->cases[k]->name);
	if (r->status == CONFORM_SKIP) {
		fputs(" # SKIP ", out);
		tap_text(out, r->evidence);
	}
	fputc('\n', out);
	if (r->status == CONFORM_FAIL) {
		fputs("  ---\n  message: ", out);
		yaml_string(out, r->evidence);
		fputs("\n  severity: fail\n  backend: ", out);
		yaml_string(out, s->backend);
		fprintf(out, "\n  case: %s\n  duration_ms: %.1f\n  ...\n", s->cases[k]->name,
			r->seconds * 1e3);
	}
	fflush(out);
}

/* ---- JUnit XML ---- */

/* Text for an attribute or element: the five entities escaped, anything unprintable as '?'. */
static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default: fputc((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e ? '?' : *s, out);
		}
}

static void junit_case(FILE *out, const struct conform_suite *s, size_t k)
{
	const struct conform_result *r = &s->results[k];

	fputs("    <testcase classname=\"conform.", out);
	xml_text(out, s->backend);
	fprintf(out, "\" name=\"%s\" time=\"%.3f\"", s->cases[k]->name, r->seconds);
	if (r->status == CONFORM_PASS) {
		fputs("/>\n", out);
		return;
	}
	fputs(r->status == CONFORM_FAIL ? ">\n      <failure message=\"" :
					  ">\n      <skipped message=\"", out);
	xml_text(out, r->evidence);
	if (r->status == CONFORM_FAIL) {
		fputs("\">", out);
		xml_text(out, s->cases[k]->summary);
		fputs(": ", out);
		xml_text(out, r->evidence);
		fputs("</failure>\n", out);
	} else {
		fputs("\"/>\n", out);
	}
	fputs("    </testcase>\n", out);
}

int conform_junit_write(FILE *out, const struct conform_suite *suites, size_t n)
{
	struct conform_tally all = { 0 }, t;
	size_t b, k;

	for (b = 0; b < n; b++)
		conform_tally_add(&all, &suites[b]);
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"mmshare conform\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" "
		"errors=\"0\" time=\"%.3f\">\n", all.pass + all.fail + all.skip, all.fail, all.skip,
		all.seconds);
	for (b = 0; b < n; b++) {
		t = (struct conform_tally){ 0 };
		conform_tally_add(&t, &suites[b]);
		fputs("  <testsuite name=\"", out);
		xml_text(out, suites[b].backend);
		fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" errors=\"0\" "
			"time=\"%.3f\">\n", suites[b].done, t.fail, t.skip, t.seconds);
		for (k = 0; k < suites[b].done; k++)
			junit_case(out, &suites[b], k);
		fputs("  </testsuite>\n", out);
	}
	fputs("</testsuites>\n", out);
	if (fflush(out) || ferror(out)) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}
