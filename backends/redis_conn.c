/* redis_conn.c -- MMSHARE_REDIS parsed, and a connection per process with bounded waits. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "mmshare.h"
#include "redis_conn.h"

static uint64_t forks;
static pthread_once_t forks_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rconn *open_list;         /* connections this process opened, under open_lock */

static void fork_prepare(void) { pthread_mutex_lock(&open_lock); }
static void fork_parent(void)  { pthread_mutex_unlock(&open_lock); }

/*
 * The child closes its copies of the parent's sockets now: a holder that dies must take its
 * connection with it (waiters look at that), whatever its children do. The contexts stay, with
 * no socket, until the child's next call on them frees them.
 */
static void fork_child(void)
{
	struct rconn *c;

	forks++;
	for (c = open_list; c; c = c->open_next)
		if (c->ctx && c->ctx->fd >= 0) {
			close(c->ctx->fd);
			c->ctx->fd = -1;
		}
	pthread_mutex_init(&open_lock, NULL);
}

static void forks_watch(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void open_add(struct rconn *c)
{
	pthread_mutex_lock(&open_lock);
	c->open_prev = NULL;
	c->open_next = open_list;
	if (open_list)
		open_list->open_prev = c;
	open_list = c;
	pthread_mutex_unlock(&open_lock);
}

static void open_remove(struct rconn *c)
{
	pthread_mutex_lock(&open_lock);
	if (c->open_prev)
		c->open_prev->open_next = c->open_next;
	else if (open_list == c)
		open_list = c->open_next;
	if (c->open_next)
		c->open_next->open_prev = c->open_prev;
	c->open_prev = c->open_next = NULL;
	pthread_mutex_unlock(&open_lock);
}

uint64_t rconn_forks(void)
{
	pthread_once(&forks_once, forks_watch);
	return forks;
}

/* A whole number in [1, max] spelled by s..end, or 0. */
static unsigned parse_ms(const char *s, const char *end, unsigned max)
{
	unsigned long v = 0;

	if (s == end || end - s > 9)
		return 0;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (unsigned)(*s - '0');
	}
	return v <= max ? (unsigned)v : 0;
}

static int name_valid(const char *s, size_t n, size_t max);

/* "lease=MS&timeout=MS&id=ID", any of them: 0, or MMS_EINVAL. */
static int parse_query(const char *q, struct rconn_config *cfg)
{
	while (*q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		unsigned *field = NULL;
		size_t key = 0;

		if (!strncmp(q, "fencing=off", 11) && (q[11] == '&' || !q[11])) {
			cfg->unfenced = 1;
			q = amp ? amp + 1 : end;
			continue;
		}
		if (!strncmp(q, "id=", 3)) {
			if (!name_valid(q + 3, (size_t)(end - q - 3), RCONN_ID_MAX))
				return MMS_EINVAL;
			memcpy(cfg->id, q + 3, (size_t)(end - q - 3));
			cfg->id[end - q - 3] = 0;
			q = amp ? amp + 1 : end;
			continue;
		}
		if (!strncmp(q, "lease=", 6))
			field = &cfg->lease_ms, key = 6;
		else if (!strncmp(q, "timeout=", 8))
			field = &cfg->timeout_ms, key = 8;
		if (!field || !(*field = parse_ms(q + key, end, 3600 * 1000)))
			return MMS_EINVAL;
		q = amp ? amp + 1 : end;
	}
	return 0;
}

static int name_valid(const char *s, size_t n, size_t max)
{
	size_t k;

	if (n == 0 || n > max)
		return 0;
	for (k = 0; k < n; k++)
		if (!(s[k] >= 'a' && s[k] <= 'z') && !(s[k] >= 'A' && s[k] <= 'Z') &&
		    !(s[k] >= '0' && s[k] <= '9') && s[k] != '_' && s[k] != '.' && s[k] != '-')
			return 0;
	return 1;
}

/* "HOST:PORT" in s..end into cfg. */
static int parse_host_port(const char *s, const char *end, struct rconn_config *cfg)
{
	const char *colon = memrchr(s, ':', (size_t)(end - s));

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(cfg->host))
		return MMS_EINVAL;
	cfg->port = (int)parse_ms(colon + 1, end, 65535);
	if (!cfg->port)
		return MMS_EINVAL;
	memcpy(cfg->host, s, (size_t)(colon - s));
	cfg->host[colon - s] = 0;
	return 0;
}

int rconn_parse(const char *url, struct rconn_config *cfg)
{
	const char *q, *end, *slash, *body;
	size_t n;

	memset(cfg, 0, sizeof(*cfg));
	cfg->lease_ms = RCONN_LEASE_MS;
	cfg->timeout_ms = RCONN_TIMEOUT_MS;
	if (!url)
		return MMS_EINVAL;
	q = strchr(url, '?');
	end = q ? q : url + strlen(url);
	if (q && parse_query(q + 1, cfg))
		return MMS_EINVAL;
	if (!strncmp(url, "redis://", 8))
		body = url + 8;
	else if (!strncmp(url, "unix:/", 6))
		body = url + 5;
	else
		return MMS_EINVAL;
	slash = memrchr(body, '/', (size_t)(end - body));
	if (!slash || !name_valid(slash + 1, (size_t)(end - slash - 1), RCONN_NAME_MAX))
		return MMS_EINVAL;
	memcpy(cfg->name, slash + 1, (size_t)(end - slash - 1));
	if (body == url + 8)
		return parse_host_port(body, slash, cfg);
	n = (size_t)(slash - body);
	if (n == 0 || n >= sizeof(cfg->path))
		return MMS_EINVAL;
	memcpy(cfg->path, body, n);
	return 0;
}

uint64_t rconn_id(struct rconn *c)
{
	uint64_t now = rconn_forks();

	if (!c->id || c->id_forks != now) {
		if (getrandom(&c->id, sizeof(c->id), 0) != sizeof(c->id) || !c->id)
			c->id = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c ^ 1;
		c->id_forks = now;
	}
	return c->id;
}

static struct timeval ms_tv(unsigned ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

/* errno for a context's failure: hiredis keeps it for I/O errors, names the rest. */
static int errno_of(const struct redisContext *ctx)
{
	if (ctx->err == REDIS_ERR_IO && errno)
		return errno == EAGAIN ? ETIMEDOUT : errno;
	return ctx->err == REDIS_ERR_EOF ? ECONNRESET : EIO;
}

void rconn_close(struct rconn *c)
{
	if (!c->ctx)
		return;
	open_remove(c);
	redisFree(c->ctx);             /* a parent's context in a child: its socket is closed already */
	c->ctx = NULL;
}

static int write_command(struct redisContext *ctx);

/* CLIENT ID: a holder's tokens carry it, so a waiter can ask whether its connection is open. */
static int client_id(struct rconn *c)
{
	void *r = NULL;
	redisReply *rep;
	int e;

	if (redisAppendCommand(c->ctx, "CLIENT ID") != REDIS_OK || write_command(c->ctx) ||
	    redisGetReply(c->ctx, &r) != REDIS_OK)
		r = NULL;
	rep = r;
	if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer > 0) {
		c->client_id = rep->integer;
		freeReplyObject(rep);
		return 0;
	}
	e = rep ? EPROTO : errno_of(c->ctx);
	if (rep)
		freeReplyObject(rep);
	rconn_close(c);
	errno = e;
	return MMS_ESYS;
}

static int rconn_open(struct rconn *c)
{
	struct timeval tv = ms_tv(c->cfg.timeout_ms);

	rconn_close(c);
	c->ctx = c->cfg.path[0] ? redisConnectUnixWithTimeout(c->cfg.path, tv)
				: redisConnectWithTimeout(c->cfg.host, c->cfg.port, tv);
	if (!c->ctx) {
		errno = ENOMEM;
		return MMS_ESYS;
	}
	if (c->ctx->err || redisSetTimeout(c->ctx, tv) != REDIS_OK) {
		int e = errno_of(c->ctx);

		rconn_close(c);
		errno = e;
		return MMS_ESYS;
	}
	c->ctx_forks = rconn_forks();
	fcntl(c->ctx->fd, F_SETFD, FD_CLOEXEC);        /* a program exec'd keeps no holder alive */
	open_add(c);
	return client_id(c);
}

/*
 * Write the command with SIGPIPE blocked in this thread: a server gone must be an error, not the
 * death of the caller's process. A SIGPIPE our write raised is taken back; one that was already
 * pending stays for the application.
 */
static int write_command(struct redisContext *ctx)
{
	sigset_t pipe_only, saved, pending;
	int done = 0, err = 0, was_pending, e;

	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &saved);
	while (!done && !err)
		err = redisBufferWrite(ctx, &done) != REDIS_OK;
	e = errno;
	if (err && e == EPIPE && !was_pending)
		sigtimedwait(&pipe_only, NULL, &(struct timespec){ 0, 0 });
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	errno = e;
	return err ? -1 : 0;
}

/* An idle connection with something to read, or hung up: the server closed it (a restart). */
static int closed_by_server(const struct redisContext *ctx)
{
	struct pollfd p = { .fd = ctx->fd, .events = POLLIN | POLLRDHUP };

	return ctx->fd < 0 || (poll(&p, 1, 0) > 0 && p.revents);
}

int rconn_ready(struct rconn *c)
{
	if (c->ctx && (c->ctx_forks != rconn_forks() || closed_by_server(c->ctx)))
		rconn_close(c);
	return c->ctx ? 0 : rconn_open(c);
}

int rconn_command(struct rconn *c, int argc, const char **argv, const size_t *lens,
		  unsigned extra_ms, struct redisReply **reply)
{
	void *r = NULL;
	int err = rconn_ready(c);

	if (err)
		return err;
	if (extra_ms && redisSetTimeout(c->ctx, ms_tv(c->cfg.timeout_ms + extra_ms)) != REDIS_OK)
		goto fail;
	if (redisAppendCommandArgv(c->ctx, argc, argv, lens) != REDIS_OK ||
	    write_command(c->ctx) || redisGetReply(c->ctx, &r) != REDIS_OK || !r)
		goto fail;
	*reply = r;
	if (extra_ms && redisSetTimeout(c->ctx, ms_tv(c->cfg.timeout_ms)) != REDIS_OK) {
		freeReplyObject(*reply);
		goto fail;
	}
	return 0;
fail:
	err = errno_of(c->ctx);
	rconn_close(c);
	errno = err;
	return MMS_ESYS;
}
