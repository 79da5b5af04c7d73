/* redis.c -- the value and a leased lock in a Redis server, for workers beyond one machine.
 *
 * Protocol: each mms_new makes three keys under NAME:{ID} (ID random, or the URL's id=; the
 * braces keep them in one cluster slot): ":v", the value after a header (magic, version,
 * generation, length, XXH3 bound to the length); ":l", the lock, holding its holder's token
 * (CLIENT ID, process, acquisition), taken with SET NX PX lease; ":z", who waits. A get without
 * the lock is one MGET of ":l" and ":v": one step of the server, so no lock means a whole,
 * current value. Every other call is one script (SCRIPT below): the check of the lock and the
 * read or write in one step. A call that finds the lock taken registers its wake-up key
 * (NAME:{ID}:w:PROCESS) in ":z" in that step and sleeps on it in BLPOP; unlock pushes to every
 * registered key. No polling: a waiter wakes at an unlock, when the lease has run out, or after
 * 20 ms (40, 80... 1 s) with no unlock, to ask whether the holder's connection is still open.
 * Fencing: every call made under the lock checks in its script that ":l" still holds this
 * acquisition's token, and renews the lease; a holder that stalled past its lease gets
 * MMS_EFENCED and changes nothing, whoever holds the lock now. redis_lease.c's watchdog renews
 * a held lease while its process runs.
 * Ordering: the server runs one script at a time; a reply comes after its effects, and with
 * appendfsync always after they are on disk.
 * Crash story: a holder that dies closes its connection, and the first waiter that finds it
 * closed releases its lock (a stopped or cut-off holder's lease ends instead); a set is one SET
 * in a script, whole or not at all. A server that dies or stops answering makes every call
 * MMS_ESYS within the connect and reply bounds; the next call connects again. A forked child
 * connects on its own: its tokens and wake-up key are its own.
 * Cleanup: the handle's creator deletes ":v", ":l" and ":z" at mms_free (not a joined id=
 * value's); wake-up keys expire.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmshare.h"
#include "mmshare-backend.h"
#include "backend.h"
#include "deadline.h"
#include "redis_conn.h"
#include "redis_lease.h"

#define VALUE_MAGIC     0x52534d4du     /* "MMSR" */
#define VALUE_VERSION   1
#define HEADER_BYTES    32
#define KEY_MAX         (RCONN_NAME_MAX + 64)
#define VALUE_MAX       (512u << 20)    /* the server's default proto-max-bulk-len */
#define WAIT_MAX_MS     1000            /* a wait is re-judged at least this often */
#define LIVENESS_MS     20              /* the first wait after which a holder's connection is
					 * looked at; each later one is twice as long */

/* KEYS: value, lock, waiters. ARGV: op, token, lease ms, wake key, wait ms, value. */
static const char SCRIPT[] =
	"local op, token, lease = ARGV[1], ARGV[2], ARGV[3]\n"
	"local function now() local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000) end\n"
	"local function busy(left)\n"
	"  if left == -1 then return {-2} end\n"
	"  redis.call('DEL', ARGV[4])\n"
	"  redis.call('ZADD', KEYS[3], now() + tonumber(ARGV[5]) + 250, ARGV[4])\n"
	"  return {0, left, redis.call('GET', KEYS[2]) or ''}\n"
	"end\n"
	"if op == 'F' then\n"
	"elseif op == 'G' or op == 'S' or op == 'U' then\n"
	"  if redis.call('GET', KEYS[2]) ~= token then return {-1} end\n"
	"  if op == 'U' then\n"
	"    redis.call('DEL', KEYS[2])\n"
	"    for _, w in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], now(), '+inf')) do\n"
	"      redis.call('RPUSH', w, '1') redis.call('PEXPIRE', w, lease)\n"
	"    end\n"
	"    redis.call('DEL', KEYS[3])\n"
	"    return {1}\n"
	"  end\n"
	"  redis.call('PEXPIRE', KEYS[2], lease)\n"
	"elseif op == 'L' then\n"
	"  if redis.call('SET', KEYS[2], token, 'NX', 'PX', lease) then return {1} end\n"
	"  return busy(redis.call('PTTL', KEYS[2]))\n"
	"else\n"
	"  local left = redis.call('PTTL', KEYS[2])\n"
	"  if left ~= -2 then return busy(left) end\n"
	"end\n"
	"if op == 'g' or op == 'G' then return {1, redis.call('GET', KEYS[1])} end\n"
	"local gen = 0\n"
	"if redis.call('TYPE', KEYS[1]).ok == 'string' then\n"
	"  local old = redis.call('GETRANGE', KEYS[1], 8, 15)\n"
	"  if #old == 8 then gen = struct.unpack('<I8', old) end\n"
	"end\n"
	"redis.call('SET', KEYS[1], ARGV[6])\n"
	"redis.call('SETRANGE', KEYS[1], 8, struct.pack('<I8', (gen + 1) % 9007199254740992))\n"
	"return {1}\n";

/* What the script answers in its first element. */
enum { SAID_NO_LEASE = -2, SAID_FENCED = -1, SAID_BUSY = 0, SAID_DONE = 1 };

struct redis_store {
	struct mms_store store;     /* first: the common part */
	struct rconn conn;          /* this process's connection, and where the server is */
	char sha[41];               /* SCRIPT's SHA1, as the server named it: EVALSHA's argument */
	char key_v[KEY_MAX];        /* NAME:{ID}:v, the value */
	char key_l[KEY_MAX];        /* NAME:{ID}:l, the lock */
	char key_z[KEY_MAX];        /* NAME:{ID}:z, who waits */
	char id[RCONN_ID_MAX + 1];  /* ID: random hex, or the URL's id= */
	uint64_t creator_forks;     /* rconn_forks() in the process that made the keys */
	uint64_t acquisitions;      /* this process's lock count: part of each token */
	char token[64];             /* the token of the lock this handle holds, or "" */
	unsigned char *out;         /* HEADER_BYTES + size: the value as a set sends it, or NULL */
	struct rlease lease;        /* the watchdog's view of the lock while this handle holds it */
};

static inline struct redis_store *redis_of(struct mms_store *s)
{
	return (struct redis_store *)s;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	int k;

	for (k = 0; k < bytes; k++)
		p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	int k;

	for (k = bytes - 1; k >= 0; k--)
		v = v << 8 | p[k];
	return v;
}

/* Map a script's error reply: foreign keys (another type, a non-number count) are corruption. */
static int error_reply(const redisReply *r)
{
	if (strstr(r->str, "WRONGTYPE") || strstr(r->str, "not an integer"))
		return MMS_ECORRUPT;
	errno = EPROTO;
	return MMS_ESYS;
}

/* Run SCRIPT once as token: EVALSHA, or EVAL when the server lost it (a restart). */
static int run_script(struct redis_store *r, const char *op, const char *token, const char *value,
		      size_t value_len, unsigned wait_ms, redisReply **reply)
{
	char lease[16], wait[16], wake[KEY_MAX + 24];
	const char *argv[12];
	size_t lens[12];
	int k, err;

	snprintf(lease, sizeof(lease), "%u", r->conn.cfg.lease_ms);
	snprintf(wait, sizeof(wait), "%u", wait_ms);
	snprintf(wake, sizeof(wake), "%s:{%s}:w:%016llx", r->conn.cfg.name, r->id,
		 (unsigned long long)rconn_id(&r->conn));
	argv[0] = "EVALSHA"; argv[1] = r->sha; argv[2] = "3";
	argv[3] = r->key_v; argv[4] = r->key_l; argv[5] = r->key_z;
	argv[6] = op; argv[7] = token; argv[8] = lease; argv[9] = wake; argv[10] = wait;
	argv[11] = value ? value : "";
	for (k = 0; k < 12; k++)
		lens[k] = strlen(argv[k]);
	lens[11] = value ? value_len : 0;
	err = rconn_command(&r->conn, 12, argv, lens, 0, reply);
	if (err || (*reply)->type != REDIS_REPLY_ERROR || strncmp((*reply)->str, "NOSCRIPT", 8))
		return err;
	freeReplyObject(*reply);
	argv[0] = "EVAL";
	argv[1] = SCRIPT;
	lens[0] = 4;
	lens[1] = sizeof(SCRIPT) - 1;
	return rconn_command(&r->conn, 12, argv, lens, 0, reply);
}

/* The script's first element, or an MMS_E* code for a reply it cannot have sent. A busy answer
 * also says how long the lease has left and whose it is. */
static int said(const redisReply *rep, long long *left, char *holder, size_t cap)
{
	if (rep->type == REDIS_REPLY_ERROR)
		return error_reply(rep);
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER)
		goto odd;
	if (rep->element[0]->integer == SAID_BUSY) {
		if (rep->elements < 3 || rep->element[1]->type != REDIS_REPLY_INTEGER ||
		    rep->element[2]->type != REDIS_REPLY_STRING)
			goto odd;
		*left = rep->element[1]->integer;
		snprintf(holder, cap, "%.*s", (int)rep->element[2]->len, rep->element[2]->str);
	}
	switch (rep->element[0]->integer) {
	case SAID_DONE:     return 1;
	case SAID_BUSY:     return 0;
	case SAID_FENCED:   return MMS_EFENCED;
	case SAID_NO_LEASE: return MMS_ECORRUPT;       /* a lock key without an expiry: not ours */
	}
odd:
	errno = EPROTO;
	return MMS_ESYS;
}

/* Sleep on this process's wake-up key until an unlock pushes to it (1), or ms pass (0). */
static int wait_for_unlock(struct redis_store *r, unsigned ms)
{
	char wake[KEY_MAX + 24], secs[24];
	const char *argv[3] = { "BLPOP", wake, secs };
	size_t lens[3];
	redisReply *rep;
	int err;

	snprintf(wake, sizeof(wake), "%s:{%s}:w:%016llx", r->conn.cfg.name, r->id,
		 (unsigned long long)rconn_id(&r->conn));
	snprintf(secs, sizeof(secs), "%u.%03u", ms / 1000, ms % 1000);
	lens[0] = 5; lens[1] = strlen(wake); lens[2] = strlen(secs);
	err = rconn_command(&r->conn, 3, argv, lens, ms, &rep);
	if (err)
		return err;
	err = rep->type == REDIS_REPLY_ERROR ? error_reply(rep) : rep->type != REDIS_REPLY_NIL;
	freeReplyObject(rep);
	return err;
}

/*
 * A holder whose connection the server no longer has is dead (or cut off: then fencing refuses
 * its next call under the lock): release its lock, if it is still that holder's, and wake the
 * waiters. A token that names no connection of ours (foreign) is left to its lease.
 */
static int take_over_if_gone(struct redis_store *r, const char *holder)
{
	char filter[32];
	const char *argv[4] = { "CLIENT", "LIST", "ID", filter };
	size_t lens[4] = { 6, 4, 2, 0 };
	unsigned long long id;
	redisReply *rep;
	int err, gone, n = 0;

	if (sscanf(holder, "%llu:%*16[0-9a-f]:%*u%n", &id, &n) != 1 || holder[n] || !id)
		return 0;
	lens[3] = (size_t)snprintf(filter, sizeof(filter), "%llu", id);
	err = rconn_command(&r->conn, 4, argv, lens, 0, &rep);
	if (err)
		return err;
	gone = rep->type == REDIS_REPLY_STRING && rep->len == 0;
	freeReplyObject(rep);
	if (!gone)
		return 0;
	err = run_script(r, "U", holder, NULL, 0, 0, &rep);
	if (!err)
		freeReplyObject(rep);
	return err;
}

/*
 * Run op until it is done: a busy answer waits for an unlock, or for what the lease has left
 * (the holder may be dead), bounded by the handle's timeout. 0 and *reply, or a negative code.
 */
static int call(struct redis_store *r, const char *op, const void *value, size_t value_len,
		redisReply **reply)
{
	char holder[sizeof(r->token)];
	unsigned ms, slice = LIVENESS_MS;
	struct mms_deadline d;
	long long left = 0;
	int64_t rest;
	int err, done, waited = 0;

	mms_deadline_start(&d, r->store.timeout_ns);
	for (;;) {
		rest = d.end_ns == INT64_MAX ? WAIT_MAX_MS : (d.end_ns - mms_now_ns()) / 1000000;
		ms = rest > slice ? slice : rest < 2 ? 2 : (unsigned)rest;
		err = run_script(r, op, r->token, value, value_len, ms, reply);
		if (err)
			return err;
		done = said(*reply, &left, holder, sizeof(holder));
		if (done)
			return done < 0 ? (freeReplyObject(*reply), done) : 0;
		freeReplyObject(*reply);
		if (op[0] == 'L' && !waited++)
			r->store.stats->lock_contended++;      /* once a call */
		if (mms_deadline_passed(&d))
			return MMS_ETIMEDOUT;
		if (left >= 0 && left + 2 < ms)
			ms = (unsigned)left + 2;        /* BLPOP's shortest reliable wait is 2 ms */
		err = wait_for_unlock(r, ms);
		if (err == 0) {         /* no unlock came: is the holder still connected? */
			err = take_over_if_gone(r, holder);
			slice = slice * 2 < WAIT_MAX_MS ? slice * 2 : WAIT_MAX_MS;
		}
		if (err < 0)
			return err;
	}
}

/* SCRIPT LOAD: the server names the script by its SHA1, which EVALSHA then sends. */
static int load_script(struct redis_store *r)
{
	const char *argv[3] = { "SCRIPT", "LOAD", SCRIPT };
	size_t lens[3] = { 6, 4, sizeof(SCRIPT) - 1 };
	redisReply *rep;
	int err = rconn_command(&r->conn, 3, argv, lens, 0, &rep);

	if (err)
		return err;
	if (rep->type == REDIS_REPLY_STRING && rep->len == 40) {
		memcpy(r->sha, rep->str, 41);
	} else {
		errno = EPROTO;
		err = MMS_ESYS;
	}
	freeReplyObject(rep);
	return err;
}

static int redis_open(struct mms_store *s)
{
	struct redis_store *r = redis_of(s);
	const char *url = getenv("MMSHARE_REDIS");
	uint64_t id[2];
	int err;

	err = rconn_parse(url && *url ? url : RCONN_DEFAULT_URL, &r->conn.cfg);
	if (err)
		return err;
	if (s->size > VALUE_MAX - HEADER_BYTES)
		return MMS_EINVAL;      /* the server refuses longer strings (proto-max-bulk-len) */
	id[0] = rconn_id(&r->conn);
	id[1] = (uint64_t)(uintptr_t)r ^ (uint64_t)mms_now_ns();
	if (r->conn.cfg.id[0])
		snprintf(r->id, sizeof(r->id), "%s", r->conn.cfg.id);
	else
		snprintf(r->id, sizeof(r->id), "%016llx",
			 (unsigned long long)(id[0] * 0x9e3779b97f4a7c15ull ^ id[1]));
	snprintf(r->key_v, sizeof(r->key_v), "%s:{%s}:v", r->conn.cfg.name, r->id);
	snprintf(r->key_l, sizeof(r->key_l), "%s:{%s}:l", r->conn.cfg.name, r->id);
	snprintf(r->key_z, sizeof(r->key_z), "%s:{%s}:z", r->conn.cfg.name, r->id);
	r->creator_forks = r->conn.cfg.id[0] ? UINT64_MAX : rconn_forks();  /* joined: never ours */
	r->lease.conn.cfg = r->conn.cfg;
	r->lease.key = r->key_l;
	r->lease.token = r->token;
	err = load_script(r);
	if (err)
		rconn_close(&r->conn);
	return err;
}

/* The creator's handle deletes the keys; a child's only drops its connection. */
static void redis_close(struct mms_store *s)
{
	struct redis_store *r = redis_of(s);
	const char *argv[4] = { "UNLINK", r->key_v, r->key_l, r->key_z };
	size_t lens[4] = { 6, strlen(r->key_v), strlen(r->key_l), strlen(r->key_z) };
	redisReply *rep;

	if (r->creator_forks == rconn_forks() && !rconn_command(&r->conn, 4, argv, lens, 0, &rep))
		freeReplyObject(rep);
	rconn_close(&r->conn);
	rlease_close(&r->lease);
	free(r->out);
	r->out = NULL;
}

/* A reply's value, checked whole before a byte of it is copied out. */
static int value_from(const redisReply *v, size_t size, void *buf, size_t cap, size_t *len)
{
	const unsigned char *p = (const unsigned char *)v->str;
	uint64_t n;

	if (v->type == REDIS_REPLY_NIL)
		return MMS_EEMPTY;
	if (v->type != REDIS_REPLY_STRING || v->len < HEADER_BYTES)
		return MMS_ECORRUPT;
	n = get_le(p + 16, 8);
	if (get_le(p, 4) != VALUE_MAGIC || get_le(p + 4, 2) != VALUE_VERSION ||
	    n != v->len - HEADER_BYTES || n > size ||
	    get_le(p + 24, 8) != mms_value_check(mms_value_hash(p + HEADER_BYTES, n), n))
		return MMS_ECORRUPT;
	*len = n;
	if (n > cap)
		return MMS_ESHORT;
	if (n)
		memcpy(buf, p + HEADER_BYTES, n);
	return 0;
}

/* MGET lock value: the value when nobody holds the lock; 1 when the script must decide. */
static int get_unlocked(struct redis_store *r, void *buf, size_t cap, size_t *len)
{
	const char *argv[3] = { "MGET", r->key_l, r->key_v };
	size_t lens[3] = { 4, strlen(r->key_l), strlen(r->key_v) };
	redisReply *rep;
	int err = rconn_command(&r->conn, 3, argv, lens, 0, &rep);

	if (err)
		return err;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
		errno = EPROTO;
		err = MMS_ESYS;
	} else {
		/* a lock to wait for, or no value: MGET says nil for a key of another type too */
		err = rep->element[0]->type != REDIS_REPLY_NIL ||
		      rep->element[1]->type == REDIS_REPLY_NIL ? 1 :
		      value_from(rep->element[1], r->store.size, buf, cap, len);
	}
	freeReplyObject(rep);
	return err;
}

static int redis_get(struct mms_store *s, void *buf, size_t cap, size_t *len, int held)
{
	redisReply *rep;
	int err = held ? 1 : get_unlocked(redis_of(s), buf, cap, len);

	if (err != 1)
		return err;
	err = call(redis_of(s), held ? "G" : "g", NULL, 0, &rep);
	if (err)
		return err;
	err = rep->elements == 2 ? value_from(rep->element[1], s->size, buf, cap, len) : MMS_ECORRUPT;
	freeReplyObject(rep);
	return err;
}

static int redis_set(struct mms_store *s, const void *data, size_t len, int held)
{
	struct redis_store *r = redis_of(s);
	redisReply *rep;
	int err;

	if (!r->out && !(r->out = malloc(HEADER_BYTES + s->size)))
		return MMS_ESYS;
	put_le(r->out, VALUE_MAGIC, 4);
	put_le(r->out + 4, VALUE_VERSION, 2);
	put_le(r->out + 6, 0, 2);
	put_le(r->out + 8, 0, 8);         /* the generation: the script writes it */
	put_le(r->out + 16, len, 8);
	put_le(r->out + 24, mms_value_check(mms_value_hash(data, len), len), 8);
	if (len)
		memcpy(r->out + HEADER_BYTES, data, len);
	err = call(r, !held ? "s" : r->conn.cfg.unfenced ? "F" : "S", (const char *)r->out,
		   HEADER_BYTES + len, &rep);
	if (!err)
		freeReplyObject(rep);
	return err;
}

static int redis_unlock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct redis_store *r = redis_of(s);
	redisReply *rep;
	int err;

	(void)mode;
	rlease_drop(&r->lease);
	err = call(r, "U", NULL, 0, &rep);
	r->token[0] = 0;
	if (err)
		return err;
	freeReplyObject(rep);
	return 0;
}

/*
 * The token names the connection (its CLIENT ID: a waiter that finds it closed takes the lock
 * over), the process (its random id) and the acquisition, so no two are equal.
 */
static int redis_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct redis_store *r = redis_of(s);
	redisReply *rep;
	int err;

	(void)mode;
	err = rconn_ready(&r->conn);
	if (err)
		return err;
	snprintf(r->token, sizeof(r->token), "%llu:%016llx:%llu",
		 (unsigned long long)r->conn.client_id, (unsigned long long)rconn_id(&r->conn),
		 (unsigned long long)++r->acquisitions);
	err = call(r, "L", NULL, 0, &rep);
	if (err) {
		r->token[0] = 0;
		return err;
	}
	freeReplyObject(rep);
	err = rlease_hold(&r->lease);
	if (err)
		redis_unlock(s, mode);
	return err;
}

const struct mms_backend mms_backend_redis = {
	.abi        = MMS_BACKEND_ABI,
	.state_size = sizeof(struct redis_store),
	.name       = "redis",
	.summary    = "a Redis server (MMSHARE_REDIS): leased lock with fencing, waits on BLPOP",
	.caps       = MMS_CAP_CRASH_SAFE | MMS_CAP_LEASE | MMS_CAP_SERVER,
	.open       = redis_open,
	.close      = redis_close,
	.lock       = redis_lock,
	.unlock     = redis_unlock,
	.get        = redis_get,
	.set        = redis_set,
};
