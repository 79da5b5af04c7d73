/* test_redis.c -- the redis backend beyond the shared contract: its URL, foreign keys, a server
 * that dies or stops, a server killed under a checked run, connections after fork. */
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "bench.h"

#define REDIS_TIMEOUT_S 120
#define SCRIPT "bench/redis.sh"

/* A server of this test's own in a fresh directory under /dev/shm; its URL (lease, timeout). */
struct own_server {
	char dir[64];
	char url[256];
};

static struct own_server *left_running;        /* stopped by the test's .fini if it fails */

static void server_start(struct own_server *s, const char *query)
{
	char cmd[512], line[512];
	FILE *p;

	snprintf(s->dir, sizeof(s->dir), "/dev/shm/mms-test-redis.XXXXXX");
	cr_assert(mkdtemp(s->dir), "mkdtemp");
	snprintf(cmd, sizeof(cmd), SCRIPT " start %s", s->dir);
	p = popen(cmd, "r");
	cr_assert(p, "cannot run %s", cmd);
	s->url[0] = 0;
	while (fgets(line, sizeof(line), p))
		if (!strncmp(line, "MMSHARE_REDIS=", 14))
			snprintf(s->url, sizeof(s->url), "%.*s%s", (int)strcspn(line + 14, "?\n"),
				 line + 14, query);
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	left_running = s;
	cr_assert(s->url[0], "%s printed no URL", cmd);
}

static void server_do(struct own_server *s, const char *what)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), SCRIPT " %s %s", what, s->dir);
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

static pid_t server_pid(struct own_server *s);

static void server_stop(struct own_server *s)
{
	char cmd[256];

	left_running = NULL;
	kill(server_pid(s), SIGCONT);
	server_do(s, "stop");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
	cr_assert_eq(system(cmd), 0);
}

static pid_t server_pid(struct own_server *s)
{
	char path[128];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "%s/redis.pid.run", s->dir);
	f = fopen(path, "r");
	cr_assert(f && fscanf(f, "%d", &pid) == 1, "no pid in %s", path);
	fclose(f);
	return pid;
}

/* A test that failed half way leaves no server behind, stopped or not. */
static void stop_left_server(void)
{
	if (left_running)
		server_stop(left_running);
}

/* A plain connection to the server of url "unix:PATH/NAME...", for writing keys by hand. */
static redisContext *raw_connect(const char *url)
{
	char path[512];
	redisContext *c;

	cr_assert(!strncmp(url, "unix:", 5));
	snprintf(path, sizeof(path), "%s", url + 5);
	*strrchr(path, '/') = 0;
	c = redisConnectUnix(path);
	cr_assert(c && !c->err, "cannot connect to %s", path);
	return c;
}

static void raw(redisContext *c, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	cr_assert(r && r->type != REDIS_REPLY_ERROR, "%s: %s", fmt, r ? r->str : c->errstr);
	freeReplyObject(r);
}

/* The name of the one key of pattern, into out. */
static void key_of(redisContext *c, const char *pattern, char *out, size_t cap)
{
	redisReply *r = redisCommand(c, "KEYS %s", pattern);

	cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1, "keys %s", pattern);
	cr_assert(r->element[0]->len < cap);
	snprintf(out, cap, "%s", r->element[0]->str);
	freeReplyObject(r);
}

/* MMSHARE_REDIS with the test server's socket and a name of this process's own. */
static void use_name(char *url, size_t cap, const char *base)
{
	const char *env = getenv("MMSHARE_REDIS");
	const char *q;

	cr_assert(env && !strncmp(env, "unix:", 5), "MMSHARE_REDIS is not a unix socket: run the "
		  "tests through make test (bench/redis.sh)");
	q = strchr(env, '?');
	snprintf(url, cap, "%.*s/%s%d%s", (int)(strrchr(env, '/') - env), env, base, getpid(),
		 q ? q : "");
	cr_assert_eq(setenv("MMSHARE_REDIS", url, 1), 0);
}

Test(redis, bad_urls_are_einval)
{
	static const char *const bad[] = {
		"", "redis://", "redis://host", "redis://host:6379", "redis://host:6379/",
		"redis://host:0/x", "redis://host:70000/x", "redis://:6379/x", "http://host:1/x",
		"unix:", "unix:/x", "unix:/tmp/s/bad name", "unix:/tmp/s/x?lease=0",
		"unix:/tmp/s/x?lease=", "unix:/tmp/s/x?color=red", "unix:/tmp/s/x?timeout=1e3",
		"unix:/tmp/s/x?fencing=on", "unix:/tmp/s/x?id=", "unix:/tmp/s/x?id=a/b",
		"redis://h:1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct mms *m;
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		cr_assert_eq(setenv("MMSHARE_REDIS", bad[k], 1), 0);
		if (!bad[k][0])         /* empty: the default URL, a server that may be there */
			continue;
		cr_assert_eq(mms_new(&m, "redis", 16), MMS_EINVAL, "MMSHARE_REDIS=%s", bad[k]);
	}
}

/* Nothing listens there: mms_new says MMS_ESYS at once, with errno from the connect. */
Test(redis, no_server_is_esys)
{
	struct mms *m;

	cr_assert_eq(setenv("MMSHARE_REDIS", "unix:/nonexistent/redis.sock/x", 1), 0);
	cr_assert_eq(mms_new(&m, "redis", 16), MMS_ESYS);
	cr_assert_eq(mms_new(&m, "redis", 600u << 20), MMS_EINVAL, "over the server's string limit");
	cr_assert_eq(setenv("MMSHARE_REDIS", "redis://127.0.0.1:1/x?timeout=200", 1), 0);
	cr_assert_eq(mms_new(&m, "redis", 16), MMS_ESYS);
}

/* Foreign contents in the value or lock key: MMS_ECORRUPT, never a crash; a set repairs. */
Test(redis, foreign_keys_are_ecorrupt, .timeout = REDIS_TIMEOUT_S)
{
	static const char *const junk[] = {
		"", "short", "MMSR\x01\x00\x00\x00", "XXXX\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00"
		"\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00hello",
	};
	char url[512], key_v[256], key_l[256], buf[64];
	struct mms *m;
	redisContext *c;
	size_t k, len;

	use_name(url, sizeof(url), "foreign");
	cr_assert_eq(mms_new(&m, "redis", 16), 0);
	cr_assert_eq(mms_set(m, "whole", 5), 0);
	cr_assert_eq(mms_lock(m), 0);
	c = raw_connect(url);
	snprintf(key_v, sizeof(key_v), "%.*s:*:v", (int)strcspn(strrchr(url, '/') + 1, "?"),
		 strrchr(url, '/') + 1);
	key_of(c, key_v, key_v, sizeof(key_v));
	snprintf(key_l, sizeof(key_l), "%.*sl", (int)strlen(key_v) - 1, key_v);
	cr_assert_eq(mms_unlock(m), 0);
	for (k = 0; k < sizeof(junk) / sizeof(junk[0]); k++) {
		raw(c, "SET %s %b", key_v, junk[k], k == 3 ? (size_t)37 : strlen(junk[k]));
		cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), MMS_ECORRUPT, "junk %zu", k);
	}
	raw(c, "DEL %s", key_v);
	raw(c, "HSET %s v x", key_v);           /* another type */
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), MMS_ECORRUPT, "a hash in the value key");
	cr_assert_eq(mms_set(m, "fixed", 5), 0, "a set replaces a foreign value");
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0);
	cr_assert(len == 5 && !memcmp(buf, "fixed", 5));
	raw(c, "SET %s someone", key_l);        /* a lock with no lease: nobody of ours */
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), MMS_ECORRUPT, "a lock without a lease");
	cr_assert_eq(mms_set(m, "x", 1), MMS_ECORRUPT);
	cr_assert_eq(mms_lock(m), MMS_ECORRUPT);
	raw(c, "DEL %s", key_l);
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0, "the value outlived the foreign lock");
	cr_assert(len == 5 && !memcmp(buf, "fixed", 5));
	redisFree(c);
	mms_free(m);
}

/*
 * A parent and its children call through one handle at once: each process must have its own
 * connection, or replies would cross (a value read as another's reply, a protocol error).
 */
Test(redis, children_connect_on_their_own, .timeout = REDIS_TIMEOUT_S)
{
	enum { KIDS = 3, ROUNDS = 300 };
	char buf[16];
	struct mms *m;
	pid_t pid[KIDS];
	size_t len;
	int k, n;

	cr_assert_eq(mms_new(&m, "redis", 16), 0);
	cr_assert_eq(mms_set(m, "parent", 6), 0);   /* the parent's connection exists before fork */
	for (k = 0; k < KIDS; k++) {
		pid[k] = fork();
		cr_assert_neq(pid[k], -1);
		if (pid[k] == 0) {
			for (n = 0; n < ROUNDS; n++)
				if (mms_set(m, "child", 5) || mms_get(m, buf, sizeof(buf), &len) ||
				    (len != 5 && len != 6))
					_exit(1);
			_exit(0);
		}
	}
	for (n = 0; n < ROUNDS; n++) {
		cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0);
		cr_assert(len == 5 || len == 6);
	}
	for (k = 0; k < KIDS; k++)
		cr_assert_eq(child_status(pid[k]), 0, "child %d", k);
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0, "the parent's connection after fork");
	mms_free(m);
}

/*
 * A server killed, stopped and back: every call says MMS_ESYS within the connect and reply
 * bounds (here 200 ms; a stopped server answers nothing), and the next call after the restart
 * works, with the value set before the kill (appendfsync always).
 */
Test(redis, dead_or_stopped_server_is_esys_then_back, .timeout = REDIS_TIMEOUT_S,
     .fini = stop_left_server)
{
	struct own_server s;
	char buf[16];
	struct mms *m;
	size_t len;
	pid_t pid;

	hang_guard(REDIS_TIMEOUT_S);
	server_start(&s, "?timeout=200&lease=500");
	cr_assert_eq(setenv("MMSHARE_REDIS", s.url, 1), 0);
	cr_assert_eq(mms_new(&m, "redis", 16), 0);
	cr_assert_eq(mms_set(m, "kept", 4), 0);
	server_do(&s, "kill");
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), MMS_ESYS);
	cr_assert_eq(mms_set(m, "lost", 4), MMS_ESYS);
	cr_assert_eq(mms_lock(m), MMS_ESYS);
	server_do(&s, "restart");
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0, "the first call after the restart");
	cr_assert(len == 4 && !memcmp(buf, "kept", 4), "an acknowledged set was lost");
	pid = server_pid(&s);
	cr_assert_eq(kill(pid, SIGSTOP), 0);
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), MMS_ESYS, "a stopped server");
	cr_assert_eq(mms_set(m, "late", 4), MMS_ESYS, "a stopped server");
	cr_assert_eq(kill(pid, SIGCONT), 0);
	cr_assert_eq(mms_set(m, "again", 5), 0);
	mms_free(m);
	server_stop(&s);
}

/*
 * The server SIGKILLed halfway through a checked run with lock holders, and restarted on the
 * same data: no torn value, a linearizable history (an acknowledged set that vanished would be
 * a stale read), no lost update, no hang; the only errors are the outage's.
 */
Test(redis, server_killed_under_checked_run, .timeout = REDIS_TIMEOUT_S,
     .fini = stop_left_server)
{
	static struct bench_opts o;
	static struct bench_result r;
	char fault[256];
	struct own_server s;
	char *argv[] = { "test", "--procs", "4", "--write-ratio", "50", "--size", "256", "--rmw",
			 "20", "--duration", "2", "--warmup", "0", "--check", "--quiet", "--fault",
			 fault, NULL };
	struct bench_point pt = { .backend = "redis", .mode = BENCH_RAW, .procs = 4,
				  .write_ratio = 50, .rmw = 20, .size = 256, .seq = 1, .of = 1 };

	hang_guard(REDIS_TIMEOUT_S);
	server_start(&s, "?timeout=500&lease=500");
	cr_assert_eq(setenv("MMSHARE_REDIS", s.url, 1), 0);
	snprintf(fault, sizeof(fault), SCRIPT " kill %s && " SCRIPT " restart %s", s.dir, s.dir);
	cr_assert_eq(bench_parse(&o, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv), 0);
	cr_assert_eq(bench_run_point(&o, &pt, &r), 0);
	server_stop(&s);
	cr_assert_eq(r.fault_status, 0, "the kill and restart failed");
	cr_assert(!r.hung, "the run hung");
	cr_assert_eq(r.torn, 0);
	cr_assert_eq(r.violations, 0, "not linearizable: %s", r.first_violation.why);
	cr_assert_eq(r.lost_updates, 0);
	cr_assert(r.history_ops > 1000, "only %llu operations checked",
		  (unsigned long long)r.history_ops);
	cr_assert(r.ops_after_fault >= 100, "only %llu operations after the restart",
		  (unsigned long long)r.ops_after_fault);
	cr_assert(bench_fault_excused(&r) || r.errors_total == 0, "errors besides the outage's");
	cr_log_info("redis server killed and restarted in %.0f ms: %llu calls said MMS_ESYS, "
		    "longest gap %.0f ms, %llu operations checked, %llu after the restart\n",
		    r.fault_ms, (unsigned long long)r.errors[-MMS_ESYS], r.gap_ms_max,
		    (unsigned long long)r.history_ops, (unsigned long long)r.ops_after_fault);
}

/* id= names the value: two handles made apart (as on two hosts) share it; neither deletes it. */
Test(redis, id_joins_one_value, .timeout = REDIS_TIMEOUT_S)
{
	char url[512], with_id[600], buf[16];
	struct mms *a, *b;
	size_t len;

	use_name(url, sizeof(url), "joined");
	snprintf(with_id, sizeof(with_id), "%s%cid=shared-%d", url, strchr(url, '?') ? '&' : '?',
		 getpid());
	cr_assert_eq(setenv("MMSHARE_REDIS", with_id, 1), 0);
	cr_assert_eq(mms_new(&a, "redis", 16), 0);
	cr_assert_eq(mms_new(&b, "redis", 16), 0);
	cr_assert_eq(mms_set(a, "from a", 6), 0);
	cr_assert_eq(mms_get(b, buf, sizeof(buf), &len), 0);
	cr_assert(len == 6 && !memcmp(buf, "from a", 6), "b does not see a's value");
	cr_assert_eq(mms_lock(b), 0);
	cr_assert_eq(mms_set_timeout(a, 0), 0);
	cr_assert_eq(mms_lock(a), MMS_ETIMEDOUT, "a and b share the lock too");
	cr_assert_eq(mms_unlock(b), 0);
	mms_free(a);
	cr_assert_eq(mms_get(b, buf, sizeof(buf), &len), 0, "a joined value outlives a handle");
	mms_free(b);
	cr_assert_eq(mms_new(&a, "redis", 16), 0);
	cr_assert_eq(mms_get(a, buf, sizeof(buf), &len), 0, "and every handle: it is named");
	mms_free(a);
}

/*
 * The negative control of fencing: with fencing=off (a holder past its lease writes anyway) the
 * stalled-holder case must fail, naming the set that should have been refused.
 */
Test(redis, unfenced_holder_is_caught, .timeout = REDIS_TIMEOUT_S)
{
	const struct conform_case *cc = conform_case_find("lease.stalled_holder");
	struct conform_result res;
	char url[512], off[600];

	cr_assert(cc);
	use_name(url, sizeof(url), "unfenced");
	snprintf(off, sizeof(off), "%s%cfencing=off", url, strchr(url, '?') ? '&' : '?');
	cr_assert_eq(setenv("MMSHARE_REDIS", off, 1), 0);
	conform_run(cc, "redis", backend_caps("redis"), 0, &res);
	cr_assert_eq(res.status, CONFORM_FAIL, "fencing=off passed: %s", res.evidence);
	cr_assert(strstr(res.evidence, "want MMS_EFENCED"), "evidence: %s", res.evidence);
}
