/* spin.c -- example plug-in: a spinlock in the area's lock line that takes over a dead holder.
 *
 * Protocol: one 64-bit lock word in the lock line, 0 when free, else the holder's identity: its
 * thread id (low half) and the low half of that thread's start time in clock ticks since boot
 * (/proc/TID/stat, field 22), so a later thread that gets the same id is not the holder. lock
 * CASes 0 to its identity; a waiter re-reads the word (test-and-test-and-set) with bounded
 * exponential backoff: pause, then sched_yield, then sleeps of 2 us doubling to 512 us. A word
 * that stands JUDGE_AFTER_NS, or is still there when the timeout runs out, has its holder judged:
 * no such thread, a zombie, or a thread with another start time is dead, and the waiter CASes
 * that exact word to its own (owner_repairs). unlock CASes its own word back to 0. Readers
 * exclude each other; the value is the area helpers' lock-based protocol (mms_area_*_locked).
 * Ordering: acquire on the CAS that takes the lock (from 0 or from a dead holder), release on the
 * CAS that frees it; every other access to the word is a relaxed load, read once into a local.
 * Crash story: a holder killed anywhere leaves its word behind; the first waiter that judges it
 * dead takes it over, within about JUDGE_AFTER_NS plus one sleep. A dead identity never comes
 * back, so two waiters cannot both take the same word. The helpers never publish a half-written
 * slot, so the last completed set is kept and nothing needs repair.
 * Shared memory: the word is judged, never followed, and no pointer lives in the mapping; but
 * it names the holder's thread to whoever maps the area, so it does not claim
 * MMS_CAP_HOSTILE_SAFE (which promises no process state in the mapping). A tid out of range
 * is a dead holder; a word naming a live thread is waited for, as long as mms_set_timeout
 * allows; our own word while we do not hold the lock is taken over.
 * Limits: all users of an area see one /proc (a holder is named by its thread id there, so pid
 * namespaces under it are fine; a holder seen through another /proc names no thread here and
 * is taken over); a holder that execs while holding, or whose
 * tid is reused within the same tick (ns_last_pid), looks alive to the others until the timeout;
 * waiters spin first, so oversubscribed CPUs pay for it. An example, not a better mutex.
 * Compiled with -DEXAMPLE_BROKEN it is "spin-broken", a negative control (see below). It is also
 * the built-in backend "spin": backends/spin.c compiles this file with -DSPIN_BUILTIN, so one of
 * our own strategies is written exactly as a plug-in would be; as a plug-in it is "spin-plugin"
 * (a plug-in cannot take a built-in's name).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mmshare-backend.h>

#ifdef EXAMPLE_BROKEN
/*
 * The deliberate bug: holder_dead always says "alive", the classic spinlock that trusts every
 * holder to unlock. A holder SIGKILLed while holding (or a scribbled word) then wedges every
 * later locker until its timeout. `mmshare conform` catches it on every run: crash.killed_holder
 * (a holder killed holding the lock, then a lock that must succeed within a timeout), and with
 * it crash.killed_writer_readers, crash.sigkill_anywhere and scribble.any_bytes.
 */
#define SPIN_NAME      "spin-broken"
#define SPIN_SUMMARY   "example plug-in, BROKEN on purpose: a spinlock that never takes over a dead holder"
#define JUDGE_HOLDERS  0
#elif defined(SPIN_BUILTIN)
#define SPIN_NAME      "spin"
#define SPIN_SUMMARY   "spinlock naming its holder (tid + start time), with backoff; dead holders taken over"
#define JUDGE_HOLDERS  1
#else
#define SPIN_NAME      "spin-plugin"
#define SPIN_SUMMARY   "example plug-in: spinlock naming its holder (tid + start time); dead holders taken over"
#define JUDGE_HOLDERS  1
#endif

#ifdef SPIN_BUILTIN
#define SPIN_TABLE     mms_backend_spin        /* the table backends/table.c lists */
#else
#define SPIN_TABLE     mmshare_backend         /* MMS_BACKEND_SYMBOL, what the loader looks up */
#endif

#define SPIN_ROUNDS     10          /* rounds of 1, 2, 4 ... 512 pause instructions */
#define YIELD_ROUNDS    8           /* then rounds of sched_yield */
#define SLEEP_MIN_NS    2000        /* then sleeps, doubling from this ... */
#define LAST_ROUND      (SPIN_ROUNDS + YIELD_ROUNDS + 8)   /* ... 8 times: 512 us */
#define JUDGE_AFTER_NS  2000000     /* a word standing this long has its holder judged */
#define TID_MAX         (1 << 22)   /* PID_MAX_LIMIT: no thread id is larger */

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define cpu_relax() __asm__ volatile("" ::: "memory")
#endif

_Static_assert(sizeof(uint64_t) <= MMS_AREA_LOCK_BYTES, "the lock word fits the lock line");

/* The state: an area (first, as the helpers require), and where its lock word is. */
struct spin {
	struct mms_area area;
	uint64_t *word;                 /* in the lock line of the shared mapping */
};

static struct spin *spin_of(struct mms_store *s)
{
	return (struct spin *)s;
}

/* ---- who a thread is: tid and start time ---- */

enum thread_seen { THREAD_FOUND, THREAD_GONE, THREAD_UNKNOWN };

/*
 * State (field 3) and start time (field 22) of thread tid, from /proc/TID/stat:
 * "tid (comm) S f4 f5 ...", where comm may hold spaces and parentheses, so parsing starts after
 * the last ')'. No stdio: nothing is allocated.
 */
static enum thread_seen thread_stat(pid_t tid, char *state, uint64_t *start)
{
	char path[32], buf[1024], *p, *end;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? THREAD_GONE : THREAD_UNKNOWN;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 && errno == ESRCH ? THREAD_GONE : THREAD_UNKNOWN;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return THREAD_UNKNOWN;
	*state = p[2];
	p += 3;
	for (field = 4; field <= 22; field++) {
		*start = strtoull(p, &end, 10);
		if (end == p)
			return THREAD_UNKNOWN;
		p = end;
	}
	return THREAD_FOUND;
}

static uint64_t identity(pid_t tid, uint64_t start)
{
	return (start & 0xffffffffu) << 32 | (uint32_t)tid;
}

/*
 * This thread's identity, read once per thread. A word equal to it while we do not hold the lock
 * (libmmshare never calls lock then: one handle per area and thread) was written by a dead
 * thread that had our tid and started in the same clock tick (a pid reused on purpose, through
 * ns_last_pid), or is a scribble: lock_wait takes it over without judging. A forked child is
 * another thread with the same thread-local copy, so the child handler forgets it (the child
 * runs only the forking thread).
 */
static __thread uint64_t self_word;

static void forget_self(void)
{
	self_word = 0;
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int atfork_err;

static void atfork_register(void)
{
	atfork_err = pthread_atfork(NULL, NULL, forget_self);
}

/*
 * Our thread id as /proc numbers it ("/proc/thread-self" is PID/task/TID there), which is what
 * holder_dead looks up: in a pid namespace of our own under another's /proc, gettid() would
 * name some other thread there, and two holders in two namespaces could share one tid.
 */
static pid_t proc_tid(void)
{
	char link[64], *task;
	ssize_t n = readlink("/proc/thread-self", link, sizeof(link) - 1);

	if (n <= 0)
		return 0;
	link[n] = '\0';
	task = strstr(link, "/task/");
	return task ? (pid_t)atoi(task + 6) : 0;
}

static __attribute__((noinline)) uint64_t self_learn(void)
{
	pid_t tid = proc_tid();
	uint64_t start;
	char state;

	if (thread_stat(tid, &state, &start) != THREAD_FOUND)
		return 0;
	self_word = identity(tid, start);
	return self_word;
}

/*
 * Whether the holder a word names is dead: a tid no thread can have, no such thread, a zombie,
 * or a thread started at another time (the tid was reused). A thread /proc does not show us
 * (hidepid, another user) is alive if kill says it exists.
 */
static int holder_dead(uint64_t w)
{
	pid_t tid = (pid_t)(uint32_t)w;
	uint64_t start;
	char state;

	if (!JUDGE_HOLDERS)
		return 0;
	if (tid < 1 || tid > TID_MAX)
		return 1;
	switch (thread_stat(tid, &state, &start)) {
	case THREAD_GONE:
		return kill(tid, 0) < 0 && errno == ESRCH;
	case THREAD_UNKNOWN:
		return 0;
	case THREAD_FOUND:
		break;
	}
	return state == 'Z' || state == 'X' || identity(tid, start) != w;
}

/* ---- the lock ---- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int word_cas(uint64_t *word, uint64_t from, uint64_t to, int memorder)
{
	return __atomic_compare_exchange_n(word, &from, to, 0, memorder, __ATOMIC_RELAXED);
}

/* Take over the word of a holder judged dead: only that exact word, so one waiter wins. */
static int take_over(struct spin *sp, uint64_t dead, uint64_t me)
{
	if (!word_cas(sp->word, dead, me, __ATOMIC_ACQUIRE))
		return 0;
	sp->area.store.stats->owner_repairs++;
	return 1;
}

/* Wait round k: pause 2^k times, then yield, then sleep (never past the deadline). */
static void backoff(unsigned k, int64_t left_ns)
{
	unsigned n;
	int64_t ns;

	if (k < SPIN_ROUNDS) {
		for (n = 1u << k; n; n--)
			cpu_relax();
		return;
	}
	k -= SPIN_ROUNDS;
	if (k < YIELD_ROUNDS) {
		sched_yield();
		return;
	}
	k -= YIELD_ROUNDS;
	ns = (int64_t)SLEEP_MIN_NS << (k < 8 ? k : 8);
	if (ns > left_ns)
		ns = left_ns;
	nanosleep(&(struct timespec){ .tv_sec = 0, .tv_nsec = ns }, NULL);
}

/*
 * The contended path. Each round reads the word once and judges that copy: free, ours, or a
 * holder who has stood JUDGE_AFTER_NS (or at the deadline: ETIMEDOUT only for a live holder).
 */
static __attribute__((noinline)) int lock_wait(struct spin *sp, uint64_t me)
{
	int64_t timeout = sp->area.store.timeout_ns, now = now_ns(), since = now;
	int64_t end = timeout < 0 || timeout > INT64_MAX - now ? INT64_MAX : now + timeout;
	uint64_t w, seen = 0;
	unsigned k = 0;

	sp->area.store.stats->lock_contended++;
	for (;;) {
		w = __atomic_load_n(sp->word, __ATOMIC_RELAXED);
		if (w == 0 && word_cas(sp->word, 0, me, __ATOMIC_ACQUIRE))
			return 0;
		if (w == me && take_over(sp, w, me))
			return 0;       /* our own word: its writer is dead (self_word) */
		now = now_ns();
		if (w != seen) {
			seen = w;
			since = now;
		}
		if (w != 0 && (now - since >= JUDGE_AFTER_NS || now >= end)) {
			if (holder_dead(w) && take_over(sp, w, me))
				return 0;
			since = now;
		}
		if (now >= end)
			return MMS_ETIMEDOUT;
		backoff(k, end - now);
		if (k < LAST_ROUND)
			k++;
	}
}

static int spin_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct spin *sp = spin_of(s);
	uint64_t me = self_word ? self_word : self_learn();

	(void)mode;                     /* readers exclude each other too */
	if (!me)
		return MMS_ESYS;        /* /proc unreadable: we cannot name ourselves */
	if (word_cas(sp->word, 0, me, __ATOMIC_ACQUIRE))
		return 0;
	return lock_wait(sp, me);
}

/* Only our own word is freed: anything else means someone wrote over it while we held it. */
static int spin_unlock(struct mms_store *s, enum mms_lock_mode mode)
{
	(void)mode;
	return word_cas(spin_of(s)->word, self_word, 0, __ATOMIC_RELEASE) ? 0 : MMS_ECORRUPT;
}

static int spin_open(struct mms_store *s)
{
	struct spin *sp = spin_of(s);
	int err;

	pthread_once(&atfork_once, atfork_register);
	if (atfork_err) {
		errno = atfork_err;
		return MMS_ESYS;
	}
	err = mms_area_open(&sp->area, MMS_STORE_ANON);
	if (err)
		return err;
	sp->word = mms_area_lock_line(&sp->area);      /* zeroed: free */
	return 0;
}

/* The one exported symbol. */
const struct mms_backend SPIN_TABLE = {
	.abi        = MMS_BACKEND_ABI,
	.state_size = sizeof(struct spin),
	.name       = SPIN_NAME,
	.summary    = SPIN_SUMMARY,
	.caps       = MMS_CAP_CRASH_SAFE | MMS_CAP_MAPPING,
	.open       = spin_open,
	.close      = mms_area_close_method,
	.lock       = spin_lock,
	.unlock     = spin_unlock,
	.get        = mms_area_get_locked,
	.set        = mms_area_set_locked,
	.mapping    = mms_area_mapping,
};
