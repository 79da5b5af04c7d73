/* redis_lease.c -- one watchdog thread per process renews the redis leases it holds. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mmshare.h"
#include "redis_lease.h"

/* Renew only a lease that is still ours: a lost one stays lost (the holder is fenced). */
static const char RENEW[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
	"return 0\n";

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct rlease *held;     /* the list, under lock */
static int running;             /* this process has a watchdog thread */

static void renew(struct rlease *l)
{
	char lease[16];
	const char *argv[6] = { "EVAL", RENEW, "1", l->key, l->token, lease };
	size_t lens[6];
	redisReply *rep;
	int k;

	snprintf(lease, sizeof(lease), "%u", l->conn.cfg.lease_ms);
	for (k = 0; k < 6; k++)
		lens[k] = strlen(argv[k]);
	if (!rconn_command(&l->conn, 6, argv, lens, 0, &rep))
		freeReplyObject(rep);   /* a failure is retried next round; the holder's calls say it */
}

/* A third of the shortest lease held: each is renewed twice before it could end. */
static struct timespec next_round(void)
{
	unsigned ms = 1000;
	struct timespec t;
	struct rlease *l;

	for (l = held; l; l = l->next)
		ms = l->conn.cfg.lease_ms / 3 < ms ? l->conn.cfg.lease_ms / 3 : ms;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += (long)(ms ? ms : 1) * 1000000L;
	t.tv_sec += t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	return t;
}

static void *watchdog(void *arg)
{
	struct timespec until;
	struct rlease *l;

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!held)
			pthread_cond_wait(&wake, &lock);
		until = next_round();
		while (pthread_cond_timedwait(&wake, &lock, &until) != ETIMEDOUT)
			if (!held)
				break;
		for (l = held; l; l = l->next)
			renew(l);
	}
	return NULL;
}

static void fork_prepare(void) { pthread_mutex_lock(&lock); }
static void fork_parent(void)  { pthread_mutex_unlock(&lock); }

static void cond_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &a);
	pthread_condattr_destroy(&a);
}

/* The child has no watchdog and holds nothing: libmmshare never lets it own a parent's lock. */
static void fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
	cond_init();
	held = NULL;
	running = 0;
}

static void init(void)
{
	cond_init();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

int rlease_hold(struct rlease *l)
{
	pthread_t t;
	int err = 0;

	pthread_once(&once, init);
	pthread_mutex_lock(&lock);
	if (!running) {
		if (pthread_create(&t, NULL, watchdog, NULL) == 0) {
			pthread_detach(t);
			running = 1;
		} else {
			err = MMS_ESYS;
		}
	}
	if (!err) {
		l->next = held;
		held = l;
		pthread_cond_signal(&wake);
	}
	pthread_mutex_unlock(&lock);
	return err;
}

void rlease_drop(struct rlease *l)
{
	struct rlease **p;

	pthread_once(&once, init);
	pthread_mutex_lock(&lock);
	for (p = &held; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	pthread_mutex_unlock(&lock);
}

void rlease_close(struct rlease *l)
{
	rlease_drop(l);
	rconn_close(&l->conn);
}
