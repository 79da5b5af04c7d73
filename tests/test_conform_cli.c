/* test_conform_cli.c -- `mmshare conform` as run by a user: controls fail, TAP and JUnit parse. */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "commands.h"
#include "conform.h"

#define CLI_TIMEOUT_S 120

/* What a run of the tool printed (stdout and stderr together) and how it exited. */
struct tool_run {
	int status;             /* exit status, or 128 + signal */
	char *out;              /* everything it printed, NUL-terminated; free() it */
};

/* Run build/mmshare with args (NULL-terminated), found through MMS_BUILD. */
static struct tool_run tool(const char *const *args)
{
	const char *build = getenv("MMS_BUILD");
	char path[512], file[] = "/tmp/mms-conform-XXXXXX", *argv[32];
	struct tool_run r = { 0 };
	int fd = mkstemp(file), k = 0;
	long size;
	FILE *f;
	pid_t pid;

	cr_assert_geq(fd, 0);
	snprintf(path, sizeof(path), "%s/mmshare", build ? build : "build");
	argv[k++] = path;
	while (*args && k < 31)
		argv[k++] = (char *)*args++;
	argv[k] = NULL;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(path, argv);
		_exit(127);
	}
	r.status = child_status(pid);
	cr_assert_neq(r.status, 127, "%s did not run: build it first", path);
	f = fdopen(fd, "r");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	r.out = calloc(1, (size_t)size + 1);
	cr_assert_eq(fread(r.out, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	unlink(file);
	return r;
}

/* The table row of a case: its line of out, or NULL. */
static const char *row(const char *out, const char *name)
{
	char key[80];

	snprintf(key, sizeof(key), "\n  %s ", name);
	out = strstr(out, key);
	return out ? out + 1 : NULL;
}

/* A row must say FAIL and carry the evidence text. */
static void expect_fail_row(const char *out, const char *name, const char *evidence)
{
	const char *r = row(out, name), *eol = r ? strchr(r, '\n') : NULL;
	char line[600];

	cr_assert_not_null(r, "no row for %s in:\n%s", name, out);
	snprintf(line, sizeof(line), "%.*s", (int)(eol ? eol - r : (long)strlen(r)), r);
	cr_assert(strstr(line, " FAIL ") && strstr(line, evidence), "row: %s (want FAIL with "
		  "\"%s\")", line, evidence);
}

Test(conform_cli, negative_control_none_fails, .timeout = CLI_TIMEOUT_S)
{
	const char *args[] = { "conform", "--backend", "none", NULL };
	struct tool_run r;

	hang_guard(CLI_TIMEOUT_S);
	r = tool(args);
	cr_assert_eq(r.status, 1, "none: exit %d\n%s", r.status, r.out);
	expect_fail_row(r.out, "scribble.any_bytes", "that were never set");
	cr_assert(strstr(r.out, " torn value"), "none tore no value a case saw:\n%s", r.out);
	cr_assert(strstr(r.out, "none: ") && strstr(r.out, " failed, "), "no summary:\n%s", r.out);
	free(r.out);
}

Test(conform_cli, negative_control_stale_fails, .timeout = CLI_TIMEOUT_S)
{
	const char *args[] = { "conform", "--backend", "stale", NULL };
	struct tool_run r;

	hang_guard(CLI_TIMEOUT_S);
	r = tool(args);
	cr_assert_eq(r.status, 1, "stale: exit %d\n%s", r.status, r.out);
	expect_fail_row(r.out, "basic.last_set_wins", "not the last set");
	expect_fail_row(r.out, "oracle.check_2", "not linearizable");
	expect_fail_row(r.out, "oracle.rmw_4", "not linearizable");
	free(r.out);
}

Test(conform_cli, a_safe_backend_passes, .timeout = CLI_TIMEOUT_S)
{
	const char *args[] = { "conform", "--backend", "mutex", "--case", "basic,lock.*", NULL };
	struct tool_run r;

	hang_guard(CLI_TIMEOUT_S);
	r = tool(args);
	cr_assert_eq(r.status, 0, "mutex: exit %d\n%s", r.status, r.out);
	cr_assert_not_null(row(r.out, "lock.misuse"));
	cr_assert(strstr(r.out, "basic.attach_shares_value      skip") &&
		  strstr(r.out, "needs MMS_CAP_EXPORT_FD"), "no skip row:\n%s", r.out);
	cr_assert(strstr(r.out, "0 failed"), "%s", r.out);
	free(r.out);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	while ((s = strstr(s, what))) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* TAP version 13: the plan, one point per backend x case, numbered in order, YAML on failure. */
Test(conform_cli, tap_is_well_formed, .timeout = CLI_TIMEOUT_S)
{
	const char *args[] = { "conform", "--backend", "mutex,none", "--case", "basic,scribble",
			       "--tap", NULL };
	const char *line;
	struct tool_run r;
	char want[32];
	size_t n = 0, k;

	hang_guard(CLI_TIMEOUT_S);
	r = tool(args);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.out);
	cr_assert(!strncmp(r.out, "TAP version 13\n1..12\n", 21), "header:\n%s", r.out);
	for (line = r.out; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, "ok ", 3) && strncmp(line, "not ok ", 7))
			continue;
		n++;
		snprintf(want, sizeof(want), "ok %zu - ", n);
		cr_assert(!strncmp(line + (line[0] == 'n' ? 4 : 0), want, strlen(want)),
			  "point %zu out of order: %.60s", n, line);
	}
	cr_assert_eq(n, 12, "%zu test points:\n%s", n, r.out);
	cr_assert_geq(count(r.out, "not ok "), 1, "none failed nothing:\n%s", r.out);
	k = count(r.out, "not ok ");
	cr_assert_eq(count(r.out, "\n  ---\n  message: \""), k, "a failure without YAML:\n%s", r.out);
	cr_assert_eq(count(r.out, "\n  ...\n"), k);
	cr_assert(strstr(r.out, "ok 5 - mutex: basic.attach_shares_value # SKIP needs "
			 "MMS_CAP_EXPORT_FD\n"), "%s", r.out);
	cr_assert(strstr(r.out, "not ok 12 - none: scribble.any_bytes\n"), "%s", r.out);
	free(r.out);
}

/* JUnit XML: parsed by Python's XML parser, a suite per backend, a case per case. */
Test(conform_cli, junit_is_well_formed, .timeout = CLI_TIMEOUT_S)
{
	char xml[] = "/tmp/mms-junit-XXXXXX", cmd[1024];
	const char *args[] = { "conform", "--backend", "mutex,none", "--case", "basic,scribble",
			       "--junit", xml, NULL };
	struct tool_run r;
	int fd = mkstemp(xml);

	hang_guard(CLI_TIMEOUT_S);
	cr_assert_geq(fd, 0);
	close(fd);
	r = tool(args);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.out);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c '"
		 "import sys, xml.etree.ElementTree as E\n"
		 "t = E.parse(sys.argv[1]).getroot()\n"
		 "s = {x.get(\"name\"): x for x in t.findall(\"testsuite\")}\n"
		 "assert t.tag == \"testsuites\" and sorted(s) == [\"mutex\", \"none\"], s\n"
		 "assert all(len(x.findall(\"testcase\")) == 6 == int(x.get(\"tests\")) for x in s.values())\n"
		 "assert not s[\"mutex\"].findall(\"testcase/failure\")\n"
		 "f = s[\"none\"].findall(\"testcase/failure\")\n"
		 "assert f and int(s[\"none\"].get(\"failures\")) == len(f), f\n"
		 "assert all(x.get(\"message\") for x in f)\n"
		 "assert s[\"mutex\"].find(\"testcase[@name=\\\"basic.attach_shares_value\\\"]/skipped\")"
		 ".get(\"message\") == \"needs MMS_CAP_EXPORT_FD\"\n"
		 "assert all(float(c.get(\"time\")) >= 0 for c in t.iter(\"testcase\"))\n"
		 "' %s", xml);
	cr_assert_eq(system(cmd), 0, "the JUnit file did not pass the checks (see above)");
	unlink(xml);
	free(r.out);
}

/* Run the command in this process with args; its exit status. */
static int conform(const char *const *args)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = "conform";
	while (*args && argc < 15)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return mms_cmd_conform.run(argc, argv);
}

Test(conform_cli, bad_usage_exits_2)
{
	const char *bad[][5] = {
		{ "--bogus" }, { "--backend", "nope" }, { "--backend", "mutex,nope" },
		{ "--backend", "," }, { "--backend" }, { "--case", "no.such" }, { "--case", "," },
		{ "--timeout", "0" }, { "--timeout", "x" }, { "--timeout", "3601" }, { "stray" },
		{ "--junit", "/nonexistent-dir/x.xml", "--case", "basic.set_get" },
	};
	size_t k;

	cr_assert_not_null(freopen("/dev/null", "w", stderr));
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		cr_assert_eq(conform(bad[k]), MMS_EXIT_USAGE, "case %zu (%s %s) was accepted", k,
			     bad[k][0], bad[k][1] ? bad[k][1] : "");
}

Test(conform_cli, bad_backend_says_why, .timeout = CLI_TIMEOUT_S)
{
	const char *args[] = { "conform", "--backend", "nope", NULL };
	struct tool_run r = tool(args);

	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.out, "'nope': no such backend"), "%s", r.out);
	free(r.out);
}

/* A plug-in's path (tests/plugins/dupe.c: the mutex protocol from outside) is a backend. */
Test(conform_cli, plugin_by_path_passes, .timeout = CLI_TIMEOUT_S)
{
	const char *build = getenv("MMS_BUILD");
	char plugin[512];
	const char *args[] = { "conform", "--backend", plugin, "--case", "basic.*", NULL };
	struct tool_run r;

	snprintf(plugin, sizeof(plugin), "%s/tests/plugins/dupe.so", build ? build : "build");
	r = tool(args);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert(strstr(r.out, "dupe: "), "the plug-in's own name heads its table: %s", r.out);
	free(r.out);
}

/* A plug-in the loader refuses is bad usage (2), with the loader's reason. */
Test(conform_cli, refused_plugin_says_why, .timeout = CLI_TIMEOUT_S)
{
	const char *build = getenv("MMS_BUILD");
	char plugin[512];
	const char *args[] = { "conform", "--backend", plugin, NULL };
	struct tool_run r;

	snprintf(plugin, sizeof(plugin), "%s/tests/plugins/bad_abi.so", build ? build : "build");
	r = tool(args);
	cr_assert_eq(r.status, 2, "%s", r.out);
	cr_assert(strstr(r.out, "this libmmshare speaks ABI 1"), "%s", r.out);
	free(r.out);
}

Test(conform_cli, list_names_every_case)
{
	char path[] = "/tmp/mms-conform-XXXXXX", line[512];
	const char *args[] = { "--list", NULL };
	int fd = mkstemp(path);
	size_t n = 0, total = 0;
	FILE *f;

	cr_assert_geq(fd, 0);
	cr_assert_not_null(freopen(path, "w", stdout));
	cr_assert_eq(conform(args), MMS_EXIT_OK);
	fflush(stdout);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		cr_assert_not_null(conform_case_find(strtok(line, " ")), "listed: %s", line);
		n++;
	}
	cr_assert_not_null(f);
	fclose(f);
	close(fd);
	unlink(path);
	while (conform_cases[total])
		total++;
	cr_assert_eq(n, total, "%zu of %zu cases listed", n, total);
}

/* The example plug-in (examples/spin.c), built against the staged install with pkg-config. */
static void example(char *path, size_t cap, const char *name)
{
	const char *build = getenv("MMS_BUILD");

	snprintf(path, cap, "%s/examples/libmms-%s.so", build ? build : "build", name);
}

Test(conform_cli, example_plugin_passes_every_case, .timeout = 120)
{
	char plugin[512];
	const char *args[] = { "conform", "--backend", plugin, NULL };
	struct tool_run r;

	example(plugin, sizeof(plugin), "spin");
	r = tool(args);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert(strstr(r.out, " 0 failed"), "%s", r.out);
	free(r.out);
}

/*
 * Its deliberately broken copy (-DEXAMPLE_BROKEN: a dead holder is never taken over) must fail,
 * and the killed-holder case must name the evidence. Only that case runs: every case a wedged
 * lock fails waits out its timeout.
 */
Test(conform_cli, broken_example_fails_the_killed_holder_case, .timeout = 120)
{
	char plugin[512];
	const char *args[] = { "conform", "--backend", plugin, "--case", "crash.killed_holder", NULL };
	struct tool_run r;

	example(plugin, sizeof(plugin), "spin-broken");
	r = tool(args);
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert(strstr(r.out, "crash.killed_holder") && strstr(r.out, "FAIL") &&
		  strstr(r.out, "was killed"), "%s", r.out);
	free(r.out);
}

/*
 * A backend that is not crash-safe must answer a dead holder with MMS_EDEAD. tests/plugins/wedge.c
 * says it is not crash-safe and then waits on the corpse until its timeout: the killed-holder
 * case must fail it, naming what the waiter said.
 */
Test(conform_cli, not_crash_safe_but_waiting_on_the_dead_fails, .timeout = 120)
{
	const char *build = getenv("MMS_BUILD");
	char plugin[512];
	const char *args[] = { "conform", "--backend", plugin, "--case", "crash.killed_holder", NULL };
	struct tool_run r;

	snprintf(plugin, sizeof(plugin), "%s/tests/plugins/wedge.so", build ? build : "build");
	r = tool(args);
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert(strstr(r.out, "FAIL") && strstr(r.out, "said MMS_ETIMEDOUT; a backend that is not "
						     "crash-safe says MMS_EDEAD"), "%s", r.out);
	free(r.out);
}
