/* test_plugin.c -- loading backends from shared objects: the good one works, the bad ones are refused. */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "mmshare-backend.h"
#include "commands.h"

/* A plug-in built from tests/plugins/NAME.c. */
static const char *plugin(const char *name)
{
	static char path[4][512];
	static int next;
	const char *build = getenv("MMS_BUILD");
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/tests/plugins/%s.so", build ? build : "build", name);
	return p;
}

/* Load must refuse the plug-in with MMS_ENOBACKEND and a message containing want. */
static void refused(const char *name, const char *want)
{
	const char *got = "untouched";
	char why[512] = "";

	cr_assert_eq(mms_backend_load(plugin(name), &got, why, sizeof(why)), MMS_ENOBACKEND,
		     "%s was loaded", name);
	cr_assert_str_eq(got, "untouched", "%s: a name was handed out on failure", name);
	cr_assert(strstr(why, want), "%s: message \"%s\" does not say \"%s\"", name, why, want);
}

/* Where a descriptor's output goes while a command runs: a temporary file, read back after. */
struct capture {
	int fd;             /* the descriptor captured (1 or 2) */
	int saved;          /* a dup of what it was */
	FILE *file;         /* where it writes meanwhile */
};

static void capture_start(struct capture *c, int fd)
{
	fflush(fd == 1 ? stdout : stderr);
	c->fd = fd;
	c->file = tmpfile();
	c->saved = dup(fd);
	cr_assert(c->file && c->saved >= 0);
	dup2(fileno(c->file), fd);
}

/* Restore the descriptor; out receives what was written (cut to cap - 1 bytes). */
static void capture_end(struct capture *c, char *out, size_t cap)
{
	size_t n;

	fflush(c->fd == 1 ? stdout : stderr);
	dup2(c->saved, c->fd);
	close(c->saved);
	rewind(c->file);
	n = fread(out, 1, cap - 1, c->file);
	out[n] = '\0';
	fclose(c->file);
}

Test(plugin, loads_by_path_in_mms_new)
{
	struct mms *m;
	char buf[16];
	size_t len;
	unsigned caps;

	cr_assert_eq(mms_new(&m, plugin("dupe"), 16), 0);
	cr_assert_str_eq(mms_backend(m), "dupe", "the handle names the plug-in's backend");
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), MMS_EEMPTY);
	cr_assert_eq(mms_set(m, "plugged", 7), 0);
	cr_assert_eq(mms_lock(m), 0);
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0);
	cr_assert_eq(mms_unlock(m), 0);
	cr_assert_eq(len, 7);
	cr_assert_arr_eq(buf, "plugged", 7);
	cr_assert_eq(mms_backend_caps("dupe", &caps), 0, "once loaded, its name is a backend name");
	cr_assert_eq(caps, MMS_CAP_CRASH_SAFE | MMS_CAP_MAPPING);
	cr_assert_str_eq(mms_backend_summary(plugin("dupe")),
			 "test plug-in: the built-in mutex's protocol, from outside");
	mms_free(m);
}

Test(plugin, loading_again_is_the_same_backend)
{
	const char *a = NULL, *b = NULL;
	char again[600];

	cr_assert_eq(mms_backend_load(plugin("dupe"), &a, NULL, 0), 0);
	snprintf(again, sizeof(again), "%s/tests/../tests/plugins/./dupe.so",
		 getenv("MMS_BUILD") ? getenv("MMS_BUILD") : "build");
	cr_assert_eq(mms_backend_load(again, &b, NULL, 0), 0, "another path to the same file");
	cr_assert_eq(a, b);
}

Test(plugin, wrong_abi_is_refused)
{
	refused("bad_abi", "ABI");
}

Test(plugin, missing_symbol_is_refused)
{
	refused("no_symbol", "mmshare_backend");
}

Test(plugin, builtin_name_is_refused)
{
	unsigned caps;

	refused("builtin_name", "built-in");
	cr_assert_eq(mms_backend_caps("mutex", &caps), 0);
	cr_assert_eq(caps & MMS_CAP_MAPPING, MMS_CAP_MAPPING, "mutex is still the built-in one");
}

Test(plugin, second_plugin_with_a_taken_name_is_refused)
{
	cr_assert_eq(mms_backend_load(plugin("dupe"), NULL, NULL, 0), 0);
	refused("twin", "dupe.so");
}

Test(plugin, missing_method_is_refused)
{
	refused("no_lock", "lock method");
}

Test(plugin, bad_name_is_refused)
{
	refused("bad_name", "name");
	refused("bare_name", "baselines");
}

Test(plugin, no_such_file_is_refused)
{
	struct mms *m = NULL;

	refused("does_not_exist", "cannot load");
	cr_assert_eq(mms_new(&m, plugin("does_not_exist"), 8), MMS_ENOBACKEND);
	cr_assert_eq(mms_new(&m, plugin("bad_abi"), 8), MMS_ENOBACKEND);
	cr_assert_null(m);
	cr_assert_eq(mms_backend_load(NULL, NULL, NULL, 0), MMS_EINVAL);
}

/* The tool turns a refusal into exit status 2 (bad usage), with the loader's reason on stderr. */
Test(plugin, tool_refuses_a_bad_plugin)
{
	char *argv[] = { "list", (char *)plugin("bad_abi"), NULL };
	char *bench_argv[] = { "bench", "--backend", (char *)plugin("no_symbol"), NULL };

	char said[2048] = "";
	struct capture err;

	cr_assert(freopen("/dev/null", "w", stdout));   /* list prints the built-ins first */
	capture_start(&err, 2);
	cr_assert_eq(mms_cmd_list.run(2, argv), MMS_EXIT_USAGE);
	cr_assert_eq(mms_cmd_bench.run(3, bench_argv), MMS_EXIT_USAGE);
	capture_end(&err, said, sizeof(said));
	cr_assert(strstr(said, "backend ABI 2; this libmmshare speaks ABI 1"), "stderr: %s", said);
	cr_assert(strstr(said, "exports no symbol mmshare_backend"), "stderr: %s", said);
}

/*
 * An application compiled against the installed headers and linked with the installed
 * libmmshare.so through pkg-config (the Makefile stages an install), loading a plug-in by path.
 */
static int run_host(const char *plugin_path)
{
	const char *build = getenv("MMS_BUILD");
	char host[512];
	pid_t pid;

	snprintf(host, sizeof(host), "%s/tests/plugin_host", build ? build : "build");
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		execl(host, host, plugin_path, (char *)NULL);
		_exit(127);
	}
	return child_status(pid);
}

/* The example plug-in (examples/spin.c), built as an outside project builds one. */
static const char *example_spin(void)
{
	static char path[512];
	const char *build = getenv("MMS_BUILD");

	snprintf(path, sizeof(path), "%s/examples/libmms-spin.so", build ? build : "build");
	return path;
}

Test(plugin, loads_into_an_application_linked_with_the_shared_library, .timeout = 60)
{
	cr_assert_eq(run_host(plugin("dupe")), 0, "plugin_host: 2 = no handle, 4 = a counter "
		     "failed, 5 = lost updates, 127 = not built");
	cr_assert_eq(run_host(example_spin()), 0, "the example plug-in, in the same application");
}

/* The example plug-in under the oracle: bench takes its path and measures it by its name. */
Test(plugin, bench_takes_the_example_by_path, .timeout = 60)
{
	char *argv[] = { "bench", "--backend", (char *)example_spin(), "--procs", "2",
			 "--write-ratio", "50", "--rmw", "20", "--size", "256", "--duration", "0.2",
			 "--warmup", "0", "--check", "--quiet", NULL };
	char said[4096] = "";
	struct capture out;

	capture_start(&out, 1);
	cr_assert_eq(mms_cmd_bench.run(16, argv), MMS_EXIT_OK);
	capture_end(&out, said, sizeof(said));
	cr_assert(strstr(said, "\nspin-plugin "), "the table names the plug-in's backend: %s", said);
}
