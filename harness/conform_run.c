/* conform_run.c -- run one case on one backend in a forked child, under a time limit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

#define TICK_MS 10      /* how often to look at the child where pidfd_open is missing */

/* What the child sends back: one write, under PIPE_BUF, so a pipe keeps it whole. */
struct wire {
	int status;                     /* enum conform_status */
	char evidence[CONFORM_EVIDENCE];/* as in struct conform_result */
};

_Static_assert(sizeof(struct wire) <= PIPE_BUF, "a verdict must fit one atomic pipe write");

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void vrecord(struct conform_ctx *c, const char *prefix, const char *fmt, va_list ap)
{
	size_t used;

	if (c->evidence[0])
		return;
	used = (size_t)snprintf(c->evidence, sizeof(c->evidence), "%s", prefix);
	if (used < sizeof(c->evidence))
		vsnprintf(c->evidence + used, sizeof(c->evidence) - used, fmt, ap);
}

int conform_fail(struct conform_ctx *c, const char *file, int line, const char *fmt, ...)
{
	const char *base = strrchr(file, '/');
	size_t used;
	va_list ap;

	if (c->evidence[0])
		return CONFORM_FAIL;
	va_start(ap, fmt);
	vrecord(c, "", fmt, ap);
	va_end(ap);
	used = strlen(c->evidence);
	snprintf(c->evidence + used, sizeof(c->evidence) - used, " (%s:%d)", base ? base + 1 : file,
		 line);
	return CONFORM_FAIL;
}

int conform_skip(struct conform_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(c, "", fmt, ap);
	va_end(ap);
	return CONFORM_SKIP;
}

void conform_note(struct conform_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(c, "", fmt, ap);
	va_end(ap);
}

const char *conform_code(int err)
{
	static const char *const names[] = {
		"0", "MMS_EINVAL", "MMS_ENOBACKEND", "MMS_ETOOBIG", "MMS_ESHORT", "MMS_EEMPTY",
		"MMS_ECORRUPT", "MMS_ELOCKED", "MMS_ESYS", "MMS_EFORMAT", "MMS_ETIMEDOUT",
		"MMS_ETHREAD", "MMS_EDEAD", "MMS_EFENCED",
	};
	static char other[32];

	if (err <= 0 && -err < (int)(sizeof(names) / sizeof(names[0])))
		return names[-err];
	snprintf(other, sizeof(other), "code %d", err);
	return other;
}

void conform_cap_names(unsigned bits, char *out, size_t cap)
{
	static const struct { unsigned bit; const char *name; } caps[] = {
		{ MMS_CAP_SHARED_READ, "MMS_CAP_SHARED_READ" },
		{ MMS_CAP_READ_NOWAIT, "MMS_CAP_READ_NOWAIT" },
		{ MMS_CAP_EXPORT_FD, "MMS_CAP_EXPORT_FD" },
		{ MMS_CAP_UNSAFE, "MMS_CAP_UNSAFE" },
		{ MMS_CAP_HOSTILE_SAFE, "MMS_CAP_HOSTILE_SAFE" },
		{ MMS_CAP_MAPPING, "MMS_CAP_MAPPING" },
		{ MMS_CAP_CRASH_SAFE, "MMS_CAP_CRASH_SAFE" },
		{ MMS_CAP_LEASE, "MMS_CAP_LEASE" },
		{ MMS_CAP_SERVER, "MMS_CAP_SERVER" },
	};
	unsigned known = 0;
	size_t k, used = 0;

	out[0] = '\0';
	for (k = 0; k < sizeof(caps) / sizeof(caps[0]) && used < cap; k++) {
		known |= caps[k].bit;
		if (bits & caps[k].bit)
			used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? " " : "",
						 caps[k].name);
	}
	if ((bits & ~known) && used < cap)
		snprintf(out + used, cap - used, "%sbits 0x%x", used ? " " : "", bits & ~known);
}

/*
 * The child: a process group of its own (so the runner can end every worker it forks), killed
 * with the runner, one verdict down the pipe, then _exit (nothing of the runner's stdio flushes).
 */
static void __attribute__((noreturn)) child(const struct conform_case *cc, const char *backend,
					    unsigned caps, pid_t runner, int out)
{
	struct conform_ctx ctx = { .backend = backend, .caps = caps };
	struct wire w = { 0 };

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != runner)
		_exit(127);
	dup2(2, 1);             /* what a backend prints must not land in the runner's TAP */
	w.status = cc->run(&ctx);
	if (w.status == CONFORM_FAIL && !ctx.evidence[0])
		snprintf(ctx.evidence, sizeof(ctx.evidence), "failed without evidence");
	memcpy(w.evidence, ctx.evidence, sizeof(w.evidence));
	w.evidence[sizeof(w.evidence) - 1] = '\0';
	_exit(write(out, &w, sizeof(w)) == (ssize_t)sizeof(w) ? 0 : 126);
}

/* What the runner has seen of one child so far. */
struct watch {
	pid_t pid;              /* the child, also its process group */
	int in;                 /* read end of the verdict pipe, non-blocking */
	int pidfd;              /* readable once the child exits, or -1 (then: TICK_MS polls) */
	struct wire w;          /* the verdict, as far as it came */
	size_t got;             /* bytes of it read */
	int eof;                /* every write end of the pipe is closed */
	int exited;             /* the child exited (still unreaped: its pid stays ours) */
};

static void drain(struct watch *x)
{
	ssize_t n;

	while (x->got < sizeof(x->w) && !x->eof) {
		n = read(x->in, (char *)&x->w + x->got, sizeof(x->w) - x->got);
		if (n <= 0) {
			x->eof = n == 0;
			return;
		}
		x->got += (size_t)n;
	}
}

static int has_exited(pid_t pid)
{
	siginfo_t si = { 0 };

	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* Wait until the child has exited or the deadline passes; 0, or -1 on the deadline. */
static int watch_until(struct watch *x, double deadline)
{
	struct pollfd p[2] = { { .fd = x->in, .events = POLLIN },
			       { .fd = x->pidfd, .events = POLLIN } };
	double left;
	int ms;

	while (!x->exited) {
		left = deadline - now_s();
		if (left <= 0)
			return -1;
		ms = left > 1 ? 1000 : (int)(left * 1000) + 1;
		if (x->pidfd < 0 && ms > TICK_MS)
			ms = TICK_MS;
		/* once the verdict is whole or the pipe is at EOF, only the exit matters */
		p[0].fd = x->got < sizeof(x->w) && !x->eof ? x->in : -1;
		if (poll(p, x->pidfd < 0 ? 1 : 2, ms) < 0 && errno != EINTR)
			return -1;
		drain(x);
		x->exited = has_exited(x->pid);
	}
	drain(x);
	return 0;
}

static void verdict(struct watch *x, int st, struct conform_result *res)
{
	if (x->got == sizeof(x->w) && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    (x->w.status == CONFORM_PASS || x->w.status == CONFORM_FAIL ||
	     x->w.status == CONFORM_SKIP)) {
		res->status = (enum conform_status)x->w.status;
		memcpy(res->evidence, x->w.evidence, sizeof(res->evidence));
		return;
	}
	res->status = CONFORM_FAIL;
	if (WIFSIGNALED(st))
		snprintf(res->evidence, sizeof(res->evidence), "killed by signal %d (%s)",
			 WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(res->evidence, sizeof(res->evidence), "exited with status %d without a "
			 "verdict", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* Evidence goes to terminals, TAP and XML: anything unprintable becomes '?'. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static void fail_setup(struct conform_result *res, const char *what)
{
	res->status = CONFORM_FAIL;
	snprintf(res->evidence, sizeof(res->evidence), "runner: %s: %s", what, strerror(errno));
}

static int skipped(const struct conform_case *cc, unsigned caps, struct conform_result *res)
{
	char names[160];

	if (!(cc->needs & ~caps))
		return 0;
	conform_cap_names(cc->needs & ~caps, names, sizeof(names));
	res->status = CONFORM_SKIP;
	snprintf(res->evidence, sizeof(res->evidence), "needs %s", names);
	return 1;
}

/*
 * The case running now, whose group a signal that ends the runner ends too: the group is not
 * the terminal's, so a Ctrl-C would not reach its workers, and PR_SET_PDEATHSIG covers only
 * the case's own process.
 */
static volatile sig_atomic_t running_group;
static const int ending_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define N_ENDING (sizeof(ending_signals) / sizeof(ending_signals[0]))

static void end_with_runner(int sig)
{
	if (running_group > 0)
		kill(-(pid_t)running_group, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * While a case runs: the ending signals take its group with them, and SIGCHLD is not ignored
 * (an ignored SIGCHLD, inherited from whoever started us, reaps the child behind our back).
 */
static void guard(struct sigaction *saved, pid_t group)
{
	struct sigaction sa = { .sa_handler = end_with_runner }, dfl = { .sa_handler = SIG_DFL };
	size_t k;

	running_group = group;
	for (k = 0; k < N_ENDING; k++)
		sigaction(ending_signals[k], &sa, &saved[k]);
	sigaction(SIGCHLD, &dfl, &saved[N_ENDING]);
}

static void unguard(const struct sigaction *saved)
{
	size_t k;

	for (k = 0; k < N_ENDING; k++)
		sigaction(ending_signals[k], &saved[k], NULL);
	sigaction(SIGCHLD, &saved[N_ENDING], NULL);
	running_group = 0;
}

void conform_run(const struct conform_case *cc, const char *backend, unsigned caps,
		 unsigned timeout_s, struct conform_result *res)
{
	struct sigaction saved[N_ENDING + 1];
	struct watch x = { .pidfd = -1 };
	pid_t runner = getpid();
	double start = now_s();
	unsigned limit = timeout_s ? timeout_s : cc->timeout_s;
	int p[2], st = 0, hung;

	memset(res, 0, sizeof(*res));
	if (skipped(cc, caps, res))
		return;
	if (pipe2(p, O_CLOEXEC)) {
		fail_setup(res, "pipe");
		return;
	}
	fflush(NULL);
	guard(saved, 0);
	x.pid = fork();
	if (x.pid < 0) {
		unguard(saved);
		close(p[0]);
		close(p[1]);
		fail_setup(res, "fork");
		return;
	}
	if (x.pid == 0) {
		close(p[0]);
		child(cc, backend, caps, runner, p[1]);
	}
	close(p[1]);
	setpgid(x.pid, x.pid);          /* also here, so the group exists before we may kill it */
	running_group = x.pid;
	x.in = p[0];
	fcntl(x.in, F_SETFL, O_NONBLOCK);
	x.pidfd = (int)syscall(SYS_pidfd_open, x.pid, 0);
	hung = watch_until(&x, start + (limit ? limit : 1));
	/* the child is exited or alive but never reaped yet, so its group id is still its own */
	kill(-x.pid, SIGKILL);
	kill(x.pid, SIGKILL);
	waitpid(x.pid, &st, 0);
	unguard(saved);
	res->seconds = now_s() - start;
	if (hung && x.got < sizeof(x.w)) {
		res->status = CONFORM_FAIL;
		snprintf(res->evidence, sizeof(res->evidence), "no result after %u s (hang)", limit);
	} else {
		if (hung)       /* the verdict came, then the child did not exit: count the verdict */
			st = 0;
		verdict(&x, st, res);
	}
	printable(res->evidence);
	close(x.in);
	if (x.pidfd >= 0)
		close(x.pidfd);
}
