/*
 * syscalls.c -- `mmshare syscalls`: how many system calls one uncontended get, set and
 * lock+unlock make, per backend, counted by the kernel.
 *
 * The counter is the raw_syscalls:sys_enter tracepoint, opened with perf_event_open on the
 * measuring thread alone and read before and after n operations. Why not `strace -f -c` or
 * `perf stat` around `mmshare bench`: those count every process of the run, and the bench's
 * parent naps in a loop (a nanosleep a millisecond) and its workers spin on sched_yield behind
 * the start gate, so the figure would depend on how long the run took; strace also makes every
 * system call ~100x slower. Here nothing but the operations falls between the two reads, and
 * the whole command takes milliseconds.
 */
#include <errno.h>
#include <json-c/json.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmshare.h"
#include "cli.h"
#include "commands.h"

#define SC_OPS  1000    /* operations per count, by default */
#define SC_SIZE 64      /* value bytes, by default: the card's point */

static const char syscalls_usage[] =
	"usage: mmshare syscalls [--ops N] [--size BYTES] [--json FILE]\n"
	"System calls per uncontended get, set and lock+unlock of every backend (`mmshare list`, not\n"
	"the negative controls), in a process forked from the area's creator as a bench worker is:\n"
	"the kernel's raw_syscalls:sys_enter tracepoint counted on that thread alone (perf_event_open;\n"
	"root, or kernel.perf_event_paranoid <= 1, and tracefs mounted) around N operations of each\n"
	"kind (default 1000) after one uncounted one, less the count of an empty interval.\n"
	"Exit status: 0 counted, 1 the counter is unavailable (the reason is printed and in the JSON),\n"
	"2 bad usage.\n";

enum sc_op { SC_GET, SC_SET, SC_LOCK, SC_NOPS };
static const char *const sc_op_names[SC_NOPS] = { "get", "set", "lock_unlock" };

struct sc_row {
	const char *backend;
	unsigned caps;
	double per_op[SC_NOPS];         /* NAN when not counted */
};

/* The tracepoint's id, from tracefs wherever it is mounted; -1 after saying why in why. */
static long tracepoint_id(char *why, size_t len)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
		"/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
	};
	long id = -1;
	size_t k;
	FILE *f;

	for (k = 0; k < sizeof(paths) / sizeof(paths[0]) && id < 0; k++)
		if ((f = fopen(paths[k], "r"))) {
			if (fscanf(f, "%ld", &id) != 1)
				id = -1;
			fclose(f);
		}
	if (id < 0)
		snprintf(why, len, "no raw_syscalls:sys_enter tracepoint in tracefs (%s): mount it "
			 "(mount -t tracefs nodev /sys/kernel/tracing) as root", paths[0]);
	return id;
}

/* A counter of this thread's system call entries, counting from now; -1 with errno. */
static int counter_open(long id)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_TRACEPOINT;
	a.size = sizeof(a);
	a.config = (uint64_t)id;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static uint64_t counter_read(int fd)
{
	uint64_t v = 0;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

static int do_op(struct mms *m, enum sc_op op, void *buf, size_t size)
{
	size_t len;
	int err;

	switch (op) {
	case SC_GET:
		return mms_get(m, buf, size, &len);
	case SC_SET:
		return mms_set(m, buf, size);
	default:
		err = mms_lock(m);
		return err ? err : mms_unlock(m);
	}
}

/* System call entries during n operations of kind op, the first (uncounted) one done before. */
static double count_ops(int fd, struct mms *m, enum sc_op op, void *buf, size_t size, unsigned n)
{
	uint64_t c0, c1, empty;
	unsigned k;

	if (do_op(m, op, buf, size))
		return NAN;
	c0 = counter_read(fd);
	c1 = counter_read(fd);
	empty = c1 - c0;        /* the second read's own entry */
	c0 = counter_read(fd);
	for (k = 0; k < n; k++)
		if (do_op(m, op, buf, size))
			return NAN;
	c1 = counter_read(fd);
	return ((double)(c1 - c0) - (double)empty) / n;
}

/* In a child of the area's creator, as a bench worker: count each kind, send the figures back. */
static void child_counts(long id, struct mms *m, size_t size, unsigned n, int out)
{
	double per_op[SC_NOPS];
	void *buf = calloc(1, size);
	int fd = counter_open(id), k;

	for (k = 0; k < SC_NOPS; k++)
		per_op[k] = fd >= 0 && buf ? count_ops(fd, m, (enum sc_op)k, buf, size, n) : NAN;
	_exit(write(out, per_op, sizeof(per_op)) == sizeof(per_op) ? 0 : 1);
}

/* One backend's row: 0, or -1 after a message on stderr. */
static int count_backend(long id, struct sc_row *row, size_t size, unsigned n)
{
	void *seed = calloc(1, size);
	struct mms *m = NULL;
	int p[2], k, err;
	pid_t pid;

	for (k = 0; k < SC_NOPS; k++)
		row->per_op[k] = NAN;
	mms_backend_caps(row->backend, &row->caps);
	err = seed ? mms_new(&m, row->backend, size) : MMS_ESYS;
	if (!err)
		err = mms_set(m, seed, size);           /* so a get finds a value */
	free(seed);
	if (err || pipe(p)) {
		fprintf(stderr, "mmshare syscalls: %s: %s\n", row->backend,
			err ? mms_strerror(err) : strerror(errno));
		mms_free(m);
		return -1;
	}
	if ((pid = fork()) == 0) {
		close(p[0]);
		child_counts(id, m, size, n, p[1]);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], row->per_op, sizeof(row->per_op)) != sizeof(row->per_op))
		fprintf(stderr, "mmshare syscalls: %s: the counting process failed\n", row->backend);
	close(p[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	mms_free(m);
	return 0;
}

static struct json_object *json_num(double d)
{
	return isfinite(d) ? json_object_new_double(d) : NULL;
}

static struct json_object *json_caps(unsigned caps)
{
	struct json_object *a = json_object_new_array();
	const char *word;
	unsigned k, bit;

	for (k = 0; (word = cli_cap_word(k, &bit)); k++)
		if (caps & bit)
			json_object_array_add(a, json_object_new_string(word));
	return a;
}

/* schema mmshare-syscalls/1: the rows, or "error" saying why there are none. */
static int write_json(const char *path, const char *command, const struct sc_row *rows,
		      size_t nrows, unsigned n, size_t size, const char *error)
{
	struct json_object *root = json_object_new_object(), *results = json_object_new_array();
	size_t r;
	int k, bad;
	FILE *f;

	for (r = 0; r < nrows; r++) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "backend", json_object_new_string(rows[r].backend));
		json_object_object_add(j, "caps", json_caps(rows[r].caps));
		for (k = 0; k < SC_NOPS; k++)
			json_object_object_add(j, sc_op_names[k], json_num(rows[r].per_op[k]));
		json_object_array_add(results, j);
	}
	json_object_object_add(root, "schema", json_object_new_string("mmshare-syscalls/1"));
	json_object_object_add(root, "command", json_object_new_string(command));
	json_object_object_add(root, "method", json_object_new_string(
		"perf_event_open on the raw_syscalls:sys_enter tracepoint, the counting thread only"));
	json_object_object_add(root, "ops", json_object_new_int64(n));
	json_object_object_add(root, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(root, "error", error ? json_object_new_string(error) : NULL);
	json_object_object_add(root, "results", results);
	f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	bad = !f || fprintf(f, "%s\n", json_object_to_json_string_ext(root,
				JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0;
	if (f && f != stdout)
		bad |= fclose(f) != 0;
	json_object_put(root);
	if (bad)
		fprintf(stderr, "mmshare syscalls: %s: %s\n", path, strerror(errno));
	return bad ? -1 : 0;
}

static void print_rows(const struct sc_row *rows, size_t nrows, unsigned n)
{
	size_t r;
	int k;

	printf("system calls per uncontended operation (mean of %u, one forked process):\n", n);
	printf("%-10s %8s %8s %12s\n", "backend", "get", "set", "lock+unlock");
	for (r = 0; r < nrows; r++) {
		printf("%-10s", rows[r].backend);
		for (k = 0; k < SC_NOPS; k++)
			printf(k == SC_LOCK ? " %12.2f" : " %8.2f", rows[r].per_op[k]);
		printf("\n");
	}
}

struct sc_opts {
	unsigned ops;
	size_t size;
	const char *json;
	char command[512];
};

/* 0, 1 when help was printed, -1 on bad usage (after a message). */
static int parse(struct sc_opts *o, int argc, char **argv)
{
	size_t used;
	char *end;
	int k;

	*o = (struct sc_opts){ .ops = SC_OPS, .size = SC_SIZE };
	used = (size_t)snprintf(o->command, sizeof(o->command), "mmshare");
	for (k = 0; k < argc && used < sizeof(o->command); k++)
		used += (size_t)snprintf(o->command + used, sizeof(o->command) - used, " %s", argv[k]);
	for (k = 1; k < argc; k++) {
		const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
		unsigned long x = v ? strtoul(v, &end, 10) : 0;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(syscalls_usage, stdout);
			return 1;
		} else if (!strcmp(a, "--json") && v) {
			o->json = v;
		} else if (!strcmp(a, "--ops") && v && !*end && x >= 1 && x <= 10000000) {
			o->ops = (unsigned)x;
		} else if (!strcmp(a, "--size") && v && !*end && x >= 1 && x <= (1ul << 30)) {
			o->size = x;
		} else {
			fprintf(stderr, "mmshare syscalls: bad argument '%s'\n%s", a, syscalls_usage);
			return -1;
		}
		k++;
	}
	return 0;
}

static int syscalls_run(int argc, char **argv)
{
	struct sc_row rows[64];
	const char *const *name;
	struct sc_opts o;
	size_t nrows = 0;
	char why[256] = "";
	long id;
	int k = parse(&o, argc, argv), fd, failed = 0;

	if (k)
		return k > 0 ? MMS_EXIT_OK : MMS_EXIT_USAGE;
	/* Try the counter here first, so an unusable one is one clear message, not one a backend. */
	if ((id = tracepoint_id(why, sizeof(why))) >= 0) {
		if ((fd = counter_open(id)) < 0)
			snprintf(why, sizeof(why), "perf_event_open(raw_syscalls:sys_enter): %s (run "
				 "as root, or set kernel.perf_event_paranoid to 1 or less)", strerror(errno));
		else
			close(fd);
	}
	for (name = cli_backends_here("syscalls"); !why[0] && *name && nrows < sizeof(rows) / sizeof(rows[0]); name++) {
		rows[nrows].backend = *name;
		failed |= count_backend(id, &rows[nrows++], o.size, o.ops) != 0;
	}
	if (why[0])
		fprintf(stderr, "mmshare syscalls: %s\n", why);
	else
		print_rows(rows, nrows, o.ops);
	if (o.json && write_json(o.json, o.command, rows, nrows, o.ops, o.size, why[0] ? why : NULL))
		failed = 1;
	return why[0] || failed ? MMS_EXIT_FAIL : MMS_EXIT_OK;
}

const struct mms_command mms_cmd_syscalls = {
	.name = "syscalls",
	.summary = "system calls per uncontended get, set and lock+unlock of each backend, counted",
	.run = syscalls_run,
};
