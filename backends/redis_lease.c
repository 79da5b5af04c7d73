/* redis_lease.c -- one watchdog thread per process renews the redis leases it holds. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
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
static pthread_cond_t wake;     /* the watchdog: the list changed */
static pthread_cond_t renewed;  /* a drop: the renewal it waits for is over */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct rlease *held;     /* the list, under lock */
static int running;             /* this process has a watchdog thread */

/* One round trip, outside the lock: l stays in the list meanwhile (l->renewing holds drops). */
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

static struct timespec in_ms(unsigned ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += (long)ms * 1000000L;
	t.tv_sec += t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	return t;
}

static int before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* When the next round is due: a third of the shortest lease held, so each is renewed twice
 * before it could end. Under lock. */
static struct timespec next_round(void)
{
	unsigned ms = 1000;
	struct rlease *l;

	for (l = held; l; l = l->next)
		ms = l->conn.cfg.lease_ms / 3 < ms ? l->conn.cfg.lease_ms / 3 : ms;
	return in_ms(ms ? ms : 1);
}

/* Renew every held lease, each outside the lock; a lease dropped meanwhile is not touched. */
static void round_of_renewals(void)
{
	struct rlease *l;

	for (l = held; l; l = l->next)
		l->due = 1;
	for (;;) {
		for (l = held; l && !l->due; l = l->next)
			;
		if (!l)
			return;
		l->due = 0;
		l->renewing = 1;
		pthread_mutex_unlock(&lock);
		renew(l);
		pthread_mutex_lock(&lock);
		l->renewing = 0;
		pthread_cond_broadcast(&renewed);
	}
}

static void *watchdog(void *arg)
{
	struct timespec until, sooner;

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!held)
			pthread_cond_wait(&wake, &lock);
		until = next_round();
		/* a hold with a shorter lease than any before brings the round forward */
		while (held && pthread_cond_timedwait(&wake, &lock, &until) != ETIMEDOUT) {
			sooner = next_round();
			until = before(&sooner, &until) ? sooner : until;
		}
		round_of_renewals();
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
	pthread_cond_init(&renewed, &a);
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

/* The watchdog, with every signal blocked: the application's handlers never run in our thread. */
static int start_watchdog(void)
{
	sigset_t all, saved;
	pthread_t t;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	err = pthread_create(&t, NULL, watchdog, NULL);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (err)
		return err;
	pthread_detach(t);
	running = 1;
	return 0;
}

int rlease_hold(struct rlease *l)
{
	int err = 0;

	pthread_once(&once, init);
	pthread_mutex_lock(&lock);
	if (!running)
		err = start_watchdog();
	if (!err) {
		l->due = l->renewing = 0;
		l->next = held;
		held = l;
		pthread_cond_signal(&wake);
	}
	pthread_mutex_unlock(&lock);
	if (err)
		errno = err;
	return err ? MMS_ESYS : 0;
}

void rlease_drop(struct rlease *l)
{
	struct rlease **p;

	pthread_once(&once, init);
	pthread_mutex_lock(&lock);
	while (l->renewing)
		pthread_cond_wait(&renewed, &lock);
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
