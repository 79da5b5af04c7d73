/* redis_conn.h -- the redis backend's server: where it is (MMSHARE_REDIS), and one connection to it
 * per process, with bounded connect and command times, opened again after a fork or a failure. */
#ifndef MMS_REDIS_CONN_H
#define MMS_REDIS_CONN_H

#include <stddef.h>
#include <stdint.h>

struct redisContext;
struct redisReply;

#define RCONN_NAME_MAX   64         /* bytes of the key prefix a URL names */
#define RCONN_ID_MAX     32         /* bytes of an id= a URL names */
#define RCONN_HOST_MAX   256
#define RCONN_PATH_MAX   108        /* sun_path */
#define RCONN_LEASE_MS   1000       /* default lease of the lock */
#define RCONN_TIMEOUT_MS 1000       /* default bound on a connect and on one command's reply */

/* Where the server is and how long things may take, as MMSHARE_REDIS says (see rconn_parse). */
struct rconn_config {
	char host[RCONN_HOST_MAX];  /* TCP host, or "" for a unix socket */
	int port;                   /* TCP port */
	char path[RCONN_PATH_MAX];  /* unix socket path, or "" for TCP */
	char name[RCONN_NAME_MAX + 1];  /* the prefix of every key a handle makes */
	unsigned lease_ms;          /* the lock's lease: a holder that goes quiet this long loses it */
	unsigned timeout_ms;        /* connect and reply bound; a wait adds its own length */
	char id[RCONN_ID_MAX + 1];  /* id=: the value to join, or "" for a fresh one per mms_new */
	int unfenced;               /* fencing=off: UNSAFE, a negative control for the tests */
};

/* One process's connection for one handle: the parent's is never used by a child. */
struct rconn {
	struct rconn_config cfg;    /* from MMSHARE_REDIS when the handle was made */
	struct redisContext *ctx;   /* the connection, or NULL until a call opens one */
	uint64_t ctx_forks;         /* rconn_forks() when ctx was opened: any other value, a parent's */
	uint64_t id;                /* random, per process: names this process's tokens and wake list */
	uint64_t id_forks;          /* rconn_forks() when id was drawn */
	long long client_id;        /* the server's CLIENT ID for ctx: it names our lock tokens */
	struct rconn *open_prev;    /* the process's open connections, whose sockets a forked */
	struct rconn *open_next;    /* child closes at once (a dead holder's must close with it) */
};

/* The default when MMSHARE_REDIS is not set: the server's standard port on loopback. */
#define RCONN_DEFAULT_URL "redis://127.0.0.1:6379/mmshare"

/*
 * Parse url: "redis://HOST:PORT/NAME" or "unix:/PATH/TO/SOCKET/NAME", each optionally followed
 * by "?lease=MS&timeout=MS&id=ID" (any of them, in any order; "fencing=off" too, a negative
 * control that lets a holder past its lease write: never outside tests). NAME is 1..64 and ID 1..32 of
 * [A-Za-z0-9_.-]. 0, or MMS_EINVAL for anything else.
 */
int rconn_parse(const char *url, struct rconn_config *cfg);

/* Forks this process descends through since the library loaded: inherited state compares it. */
uint64_t rconn_forks(void);

/* This process's random id (drawn again in a forked child). */
uint64_t rconn_id(struct rconn *c);

/*
 * Send one command and read its reply within cfg.timeout_ms + extra_ms, opening the connection
 * first when this process has none. 0 and *reply (the caller frees it with freeReplyObject), or
 * MMS_ESYS with errno set (ECONNREFUSED, ETIMEDOUT, EIO...) and the connection dropped, so the
 * next call opens a fresh one.
 */
int rconn_command(struct rconn *c, int argc, const char **argv, const size_t *lens,
		  unsigned extra_ms, struct redisReply **reply);

/* Open this process's connection now if it has none (so c->client_id is the one calls use). */
int rconn_ready(struct rconn *c);

/* Drop this process's connection (a parent's is only forgotten: its socket is the parent's). */
void rconn_close(struct rconn *c);

#endif
