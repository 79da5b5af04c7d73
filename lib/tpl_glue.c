/* tpl_glue.c -- structured values: tpl images through mms_set/mms_get, checked before tpl reads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tpl.h>

#include "mmshare.h"
#include "tpl_glue.h"
#include "tpl_image.h"

/* libtpl exports its hook table but tpl.h does not declare it. */
extern tpl_hook_t tpl_hook;

#define FIRST_CAP 4096                  /* first guess at a stored image's length */
#define HOOK_MSG  256                   /* a forwarded tpl message, truncated */

/*
 * tpl reports through tpl_hook.oops (prints to stderr) and tpl_hook.fatal (prints, then exit()).
 * Neither may happen inside an mms call, so on first use we install, once, hooks that:
 *   - while an mms_*_tpl call runs tpl in this thread: stay silent, and turn fatal into a
 *     longjmp back to that call, which returns MMS_EFORMAT (MMS_ESYS, errno ENOMEM, when tpl
 *     ran out of memory);
 *   - otherwise: forward to the hooks that were installed before ours.
 * tpl_hook is one table for the whole process: installing it races with other threads that use
 * tpl at that moment, and a program that replaces tpl_hook.fatal afterwards loses the guard.
 * tpl does not unwind its own state before a fatal: who owns the private copy after one is
 * worked out at mms_tpl_load_unchecked. When tpl runs out of memory while resetting a node
 * (tpl_free_keep_map), the node is left half reset and tpl_free on it may crash.
 */
static tpl_print_fcn *prev_oops;
static tpl_fatal_fcn *prev_fatal;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
static __thread jmp_buf *guard_jmp;     /* set while this thread runs tpl for an mms call */
static __thread int guard_errno;        /* why the guarded call was abandoned: 0 or ENOMEM */

static int hook_oops(const char *fmt, ...)
{
	char msg[HOOK_MSG];
	va_list ap;

	if (guard_jmp || !prev_oops)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return prev_oops("%s", msg);
}

static void hook_fatal(const char *fmt, ...)
{
	char msg[HOOK_MSG];
	va_list ap;

	if (guard_jmp) {
		guard_errno = strstr(fmt, "out of memory") ? ENOMEM : 0;
		longjmp(*guard_jmp, 1);
	}
	if (!prev_fatal)
		abort();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	prev_fatal("%s", msg);
}

static void hooks_install(void)
{
	prev_oops = tpl_hook.oops;
	prev_fatal = tpl_hook.fatal;
	tpl_hook.oops = hook_oops;
	tpl_hook.fatal = hook_fatal;
}

/* One tpl call, described as data so that a single guarded function can run any of them. */
enum tpl_op { OP_GETSIZE, OP_DUMP, OP_RESET, OP_LOAD };

/* Shorter than any image: tpl_sanity refuses it before reading a byte. */
static unsigned char reset_img[1];

struct tpl_call {
	enum tpl_op op;
	tpl_node *tn;
	void *buf;
	size_t len;                     /* OP_DUMP: capacity of buf; OP_LOAD: image length */
	size_t *size;                   /* OP_GETSIZE: receives the image length */
};

/*
 * Run c; 0, MMS_EINVAL when tpl refuses to dump, MMS_EFORMAT when it refuses to load. OP_RESET
 * only resets a packed or loaded node (tpl_load's first step), by loading an image tpl refuses;
 * OP_LOAD frees c->buf when tpl_load refuses it, since the node never took it then.
 */
static int tpl_call_run(const struct tpl_call *c)
{
	switch (c->op) {
	case OP_GETSIZE:
		return tpl_dump(c->tn, TPL_GETSIZE, c->size) ? MMS_EINVAL : 0;
	case OP_DUMP:
		return tpl_dump(c->tn, TPL_MEM | TPL_PREALLOCD, c->buf, c->len) ? MMS_EINVAL : 0;
	case OP_RESET:
		tpl_load(c->tn, TPL_MEM, (void *)reset_img, (size_t)0);
		return 0;
	case OP_LOAD:
		if (tpl_load(c->tn, TPL_MEM | TPL_UFREE, c->buf, c->len) == 0)
			return 0;
		tpl_hook.free(c->buf);
		return MMS_EFORMAT;
	}
	return MMS_EINVAL;
}

/*
 * Run c with tpl's fatal hook turned into a return: MMS_ESYS (errno ENOMEM) for allocation
 * failure, MMS_EFORMAT for anything else tpl found fatal. No mms lock is held here.
 */
static int tpl_guarded(const struct tpl_call *c)
{
	jmp_buf jb;
	int err;

	pthread_once(&hooks_once, hooks_install);
	if (setjmp(jb)) {
		guard_jmp = NULL;
		if (guard_errno) {
			errno = guard_errno;
			return MMS_ESYS;
		}
		return MMS_EFORMAT;
	}
	guard_jmp = &jb;
	err = tpl_call_run(c);
	guard_jmp = NULL;
	return err;
}

/* Dump tn into a new malloc'd buffer of *len bytes, refusing images longer than max. */
static int dump_image(tpl_node *tn, size_t max, void **out, size_t *len)
{
	struct tpl_call c = { .op = OP_GETSIZE, .tn = tn, .size = len };
	void *buf;
	int err;

	err = tpl_guarded(&c);
	if (err)
		return err;
	if (*len > max)
		return MMS_ETOOBIG;
	buf = malloc(*len);
	if (!buf) {
		errno = ENOMEM;
		return MMS_ESYS;
	}
	c = (struct tpl_call){ .op = OP_DUMP, .tn = tn, .buf = buf, .len = *len };
	err = tpl_guarded(&c);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}

/*
 * Store the image of tn, which the caller mapped and packed (tpl itself crashes dumping a map
 * whose B was never packed). MMS_ETOOBIG when the image is longer than the area (the stored value
 * stays); MMS_EINVAL when tpl refuses to dump tn (a loaded node); MMS_EFORMAT when its format is
 * one mms_get_tpl would refuse (see tpl_image.h), so nothing unreadable is ever stored.
 */
int mms_set_tpl(struct mms *m, tpl_node *tn)
{
	void *img;
	size_t len;
	int err;

	if (!m || !tn)
		return MMS_EINVAL;
	err = dump_image(tn, mms_size(m), &img, &len);
	if (err)
		return err;
	err = mms_tpl_image_check(img, len);
	if (!err)
		err = mms_set(m, img, len);
	free(img);
	return err;
}

/*
 * Copy the stored value into a buffer from tpl_hook.malloc (tpl_free releases it through
 * tpl_hook.free), growing past MMS_ESHORT but never beyond the area's size.
 */
static int fetch_copy(struct mms *m, void **out, size_t *len)
{
	size_t size = mms_size(m), cap = size < FIRST_CAP ? size : FIRST_CAP;
	void *buf;
	int err;

	for (;;) {
		buf = tpl_hook.malloc(cap ? cap : 1);
		if (!buf) {
			errno = ENOMEM;
			return MMS_ESYS;
		}
		err = mms_get(m, buf, cap, len);
		if (!err) {
			*out = buf;
			return 0;
		}
		tpl_hook.free(buf);
		if (err != MMS_ESHORT)
			return err;
		if (*len <= cap || *len > size)
			return MMS_ECORRUPT;    /* a length the area cannot hold */
		/* grow at least twofold, so racing writers cannot keep us here long */
		cap = 2 * cap > *len ? 2 * cap : *len;
		if (cap > size)
			cap = size;
	}
}

/*
 * Load the stored image into tn, which the caller mapped with the format it expects; the caller
 * then unpacks, and tpl_free(tn) releases the private copy. The image must be the whole stored
 * value (no TPL_EXCESS_OK). MMS_EFORMAT when the value is not a well-formed image or not of tn's
 * format (nothing is kept then); mms_get's errors pass through.
 */
int mms_get_tpl(struct mms *m, tpl_node *tn)
{
	void *buf;
	size_t len;
	int err;

	if (!m || !tn)
		return MMS_EINVAL;
	err = fetch_copy(m, &buf, &len);
	if (err)
		return err;
	err = mms_tpl_image_check(buf, len);
	if (err) {
		tpl_hook.free(buf);
		return err;
	}
	return mms_tpl_load_unchecked(tn, buf, len);
}

/*
 * Inside tpl_load(tn, TPL_MEM | TPL_UFREE, buf, len), tpl 1.6.1 (src/tpl.c):
 *   1. a packed or loaded node is reset (tpl_free_keep_map), which allocates: fatal on ENOMEM;
 *      buf is not yet known to the node;
 *   2. tpl_sanity checks buf: it allocates nothing and its fatal calls cannot be reached;
 *      when it fails, tpl_load returns -1 and buf is still the caller's;
 *   3. the node's flags become TPL_MEM | TPL_RDONLY | TPL_UFREE: from here the node owns buf,
 *      and tpl_free (or the next tpl_load's reset) frees it;
 *   4. tpl_unpackA0 walks the root's arrays: fatal ("internal error in unpackA0") when its walk
 *      disagrees with tpl_sanity's.
 * So a fatal fires either before the node takes buf (1) or after (4). Step 1 runs first on its
 * own (OP_RESET), where a fatal leaves buf ours to free; in the load proper, a refusal leaves buf
 * ours (tpl_call_run frees it) and a fatal leaves it the node's: the glue never frees it then.
 */
int mms_tpl_load_unchecked(tpl_node *tn, void *buf, size_t len)
{
	struct tpl_call c = { .op = OP_RESET, .tn = tn };
	int err;

	err = tpl_guarded(&c);
	if (err) {
		tpl_hook.free(buf);
		return err;
	}
	c = (struct tpl_call){ .op = OP_LOAD, .tn = tn, .buf = buf, .len = len };
	return tpl_guarded(&c);
}
