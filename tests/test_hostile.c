/* test_hostile.c -- a peer that writes the mapping may fail a holder's calls, never steer them. */
#include <stdlib.h>

#include "common.h"
#include "inside.h"

#define HOSTILE_SIZE 64
#define HOSTILE_TIMEOUT_S 10    /* each test's Criterion .timeout and hang_guard */

/*
 * Backends a peer that is not a descendant can write: those that say they withstand it, and
 * those that hand their fd out (which must say so).
 */
static void skip_unless_exposed(const char *backend)
{
	if (!(backend_caps(backend) & (MMS_CAP_HOSTILE_SAFE | MMS_CAP_EXPORT_FD)))
		cr_skip_test("%s shares its area only with descendants it trusts", backend);
}

/* The first offset where the mapping differs from snap, or len when it does not. */
static size_t first_change(const struct mms *m, const unsigned char *snap)
{
	const unsigned char *p = (const unsigned char *)area_of(m)->hdr;
	size_t k;

	for (k = 0; k < area_of(m)->map_len && p[k] == snap[k]; k++)
		;
	return k;
}

/*
 * A hostile-safe backend keeps no process state in the mapping: taking and releasing the lock
 * leave every byte as it was, so a peer finds no address to read and no pointer the holder will
 * follow. A backend that exports its fd (memfd) must be one and say so. Before the fix glibc's
 * robust mutex in the area takes the holder's tid and robust-list pointers.
 */
BACKEND_PARAMS(hostile, lock_leaves_the_mapping_alone)
ParameterizedTest(int *i, hostile, lock_leaves_the_mapping_alone, .timeout = HOSTILE_TIMEOUT_S)
{
	unsigned char *snap;
	struct mms *m;
	size_t at;

	hang_guard(HOSTILE_TIMEOUT_S);
	skip_unless_exposed(backend_at(i));
	cr_assert_eq(mms_new(&m, backend_at(i), HOSTILE_SIZE), 0);
	cr_assert_eq(mms_set(m, "v", 1), 0);
	snap = malloc(area_of(m)->map_len);
	cr_assert_not_null(snap);
	memcpy(snap, area_of(m)->hdr, area_of(m)->map_len);
	cr_assert_eq(mms_lock(m), 0);
	at = first_change(m, snap);
	cr_assert_eq(at, area_of(m)->map_len, "holding the lock changed byte %zu of the mapping "
		     "(the mutex line starts at %zu)", at, offsetof(struct mms_header, mutex));
	cr_assert_eq(mms_unlock(m), 0);
	at = first_change(m, snap);
	cr_assert_eq(at, area_of(m)->map_len, "unlocking left byte %zu of the mapping changed", at);
	cr_assert(backend_caps(backend_at(i)) & MMS_CAP_HOSTILE_SAFE,
		  "%s exports its fd but does not claim MMS_CAP_HOSTILE_SAFE", backend_at(i));
	free(snap);
	mms_free(m);
}

/*
 * Garbage in every byte, except the two words glibc checks before it follows a robust mutex's
 * list pointers on unlock (owner tid and kind): what a peer that knows the layout would write.
 */
static void garble(struct mms *m, unsigned seed)
{
	unsigned char *p = (unsigned char *)area_of(m)->hdr;
	pthread_mutex_t *mx = &area_of(m)->hdr->mutex;
	int owner = mx->__data.__lock, kind = mx->__data.__kind;
	size_t k;

	for (k = 0; k < area_of(m)->map_len; k++)
		p[k] = (unsigned char)rand_r(&seed);
	mx->__data.__lock = owner;
	mx->__data.__kind = kind;
}

/* The holder: lock, wait while the peer writes, then report [lock, unlock, get, value kept]. */
static int hold_through_garbage(struct mms *m, const unsigned char *was, int go, int out)
{
	unsigned char buf[HOSTILE_SIZE];
	int r[4] = { 0 };
	size_t len = 0;

	r[0] = mms_lock(m);
	if (send_ints(out, r, 1) || recv_ints(go, &r[1], 1))
		return 1;
	r[1] = mms_unlock(m);
	r[2] = mms_get(m, buf, sizeof(buf), &len);
	r[3] = len == HOSTILE_SIZE && !memcmp(buf, was, len);
	return send_ints(out, r, 4) ? 1 : 0;
}

/*
 * A peer rewrites the whole mapping while another process holds the lock. The holder's unlock
 * returns 0 or MMS_ECORRUPT, its get the value that was set or MMS_ECORRUPT, and it does not
 * crash. Before the fix its unlock follows the garbage list pointers and it dies of SIGSEGV.
 */
BACKEND_PARAMS(hostile, garbage_under_a_held_lock)
ParameterizedTest(int *i, hostile, garbage_under_a_held_lock, .timeout = HOSTILE_TIMEOUT_S)
{
	unsigned char was[HOSTILE_SIZE];
	int go[2], out[2], r[4];
	struct mms *m;
	pid_t pid;

	hang_guard(HOSTILE_TIMEOUT_S);
	skip_unless_exposed(backend_at(i));
	case_value_fill(was, sizeof(was), 5);
	cr_assert_eq(mms_new(&m, backend_at(i), HOSTILE_SIZE), 0);
	cr_assert_eq(mms_set(m, was, sizeof(was)), 0);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(out), 0);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(out[0]);
		_exit(hold_through_garbage(m, was, go[0], out[1]));
	}
	close(go[0]);
	close(out[1]);
	cr_assert_eq(recv_ints(out[0], r, 1), 0, "the holder died before it locked");
	cr_assert_eq(r[0], 0, "the holder's lock said \"%s\"", mms_strerror(r[0]));
	garble(m, 11);
	cr_assert_eq(send_ints(go[1], r, 1), 0);
	if (recv_ints(out[0], r, 4))
		cr_assert_fail("the holder died after the peer wrote the mapping (status %d: 128 + signal)",
			       child_status(pid));
	cr_assert(r[1] == 0 || r[1] == MMS_ECORRUPT, "unlock said \"%s\"", mms_strerror(r[1]));
	cr_assert(r[2] == MMS_ECORRUPT || (r[2] == 0 && r[3]), "get said \"%s\"%s",
		  mms_strerror(r[2]), r[2] == 0 ? ", with a value that was never set" : "");
	cr_assert_eq(child_status(pid), 0);
	mms_free(m);
}
