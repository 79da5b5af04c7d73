/* redis_lease.h -- the redis backend's watchdog: a thread that renews the leases this process
 * holds, so a live holder keeps its lock however long it holds it, and a dead or stopped one
 * loses it when its lease ends. */
#ifndef MMS_REDIS_LEASE_H
#define MMS_REDIS_LEASE_H

#include "redis_conn.h"

/* One handle's lock, as the watchdog sees it: in its list from rlease_hold to rlease_drop. */
struct rlease {
	struct rlease *next;        /* the watchdog's list */
	struct rconn conn;          /* the watchdog's own connection for this handle */
	const char *key;            /* the lock key */
	const char *token;          /* the token the key must still hold */
	int due;                    /* the watchdog's: not yet renewed this round */
	int renewing;               /* the watchdog's: a renewal is in flight (a drop waits for it) */
};

/*
 * Renew l's lease every third of it until rlease_drop. The watchdog thread starts with the
 * first hold in a process; a forked child starts its own. 0, or MMS_ESYS when no thread starts.
 */
int  rlease_hold(struct rlease *l);
/* Stop renewing l (the lock is being released, or was lost). */
void rlease_drop(struct rlease *l);
/* Close l's connection (the handle is freed); l must not be held. */
void rlease_close(struct rlease *l);

#endif
