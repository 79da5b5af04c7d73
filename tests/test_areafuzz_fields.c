/* test_areafuzz_fields.c -- areafuzz's field table and hostile values: what to write where. */
#include <linux/futex.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "areafuzz.h"

/* A field inside the forbidden bytes is left out: no write there could be chosen. */
static void add_field(struct fuzz_ctx *c, const char *name, size_t off, size_t len, enum fuzz_how how)
{
	if (c->forbid_len && off >= c->forbid_off && off + len <= c->forbid_off + c->forbid_len)
		return;
	if (c->nfields < FUZZ_FIELDS_MAX)
		c->fields[c->nfields++] = (struct fuzz_field){ name, off, len, how };
}

#define KIND_PRIO_INHERIT 32    /* glibc's PTHREAD_MUTEX_PRIO_INHERIT_NP bit of __kind (pthreadP.h) */

#define MUTEX_AT(member) (offsetof(struct mms_header, mutex) + offsetof(pthread_mutex_t, __data.member))

static void add_slot_fields(struct fuzz_ctx *c, int k)
{
	static const char *const names[2][4] = {
		{ "slot0.gen", "slot0.len", "slot0.check", "slot0.data" },
		{ "slot1.gen", "slot1.len", "slot1.check", "slot1.data" },
	};
	size_t s = sizeof(struct mms_header) + (size_t)k * area_of(c->m)->slot_stride;

	add_field(c, names[k][0], s + offsetof(struct mms_slot, gen), 8, HOW_SLOT_GEN);
	add_field(c, names[k][1], s + offsetof(struct mms_slot, len), 8, HOW_SLOT_LEN);
	add_field(c, names[k][2], s + offsetof(struct mms_slot, check), 8, HOW_BYTES);
	add_field(c, names[k][3], s + offsetof(struct mms_slot, data), c->size, HOW_DATA);
}

/*
 * Every field of the mapping, each picked as often as any other, and the whole mapping as one
 * more. A backend without MMS_CAP_HOSTILE_SAFE trusts the held mutex's kind word and glibc's
 * robust-list pointers (__data.__kind .. __data.__list): a write there while a process holds the
 * lock sends that process's unlock through the written pointers, or into glibc's assertions on
 * the kind. That is the known limit of those backends (README, "Threat model"), not something to
 * rediscover on every run, so for them those bytes are left alone. A backend without it that
 * keeps another glibc object in the lock line (rwlock, posixsem: no robust mutex kind recorded,
 * and a line that is not zero while free; spin's free word is zero, and all of it is fuzzed)
 * has all of it trusted the same way (glibc spins or aborts on words written over while it
 * waits): the whole line is left alone, and its sequential scribbles are the conform case's.
 */
/* Whether the lock line holds anything while nobody holds the lock: another glibc object. */
static int lock_line_set(const struct fuzz_ctx *c)
{
	static const unsigned char zero[MMS_AREA_LOCK_BYTES];

	return memcmp(&area_of(c->m)->hdr->mutex, zero, sizeof(zero)) != 0;
}

static void forbid_trusted(struct fuzz_ctx *c, unsigned caps)
{
	size_t list_end = MUTEX_AT(__list) + sizeof(area_of(c->m)->hdr->mutex.__data.__list);

	if (caps & (MMS_CAP_HOSTILE_SAFE | MMS_CAP_UNSAFE))
		return;
	if (area_of(c->m)->mutex_kind == 0 && lock_line_set(c)) {
		c->forbid_off = offsetof(struct mms_header, mutex);
		c->forbid_len = MMS_AREA_LOCK_BYTES;
	} else if (area_of(c->m)->mutex_kind & KIND_PRIO_INHERIT) {
		/* pi: the kernel reads the lock word as a PI futex; glibc aborts when it names
		 * no thread, and a word written over between the waiter's look and the
		 * kernel's (about 1 us) cannot be judged: the known limit of pi (pi.c). */
		c->forbid_off = MUTEX_AT(__lock);
		c->forbid_len = list_end - MUTEX_AT(__lock);
	} else {
		c->forbid_off = MUTEX_AT(__kind);
		c->forbid_len = list_end - MUTEX_AT(__kind);
	}
}

/* Every field of the mapping but those inside the forbidden bytes, then the whole mapping. */
void fuzz_fields_build(struct fuzz_ctx *c, unsigned caps)
{
	c->lock_off = MUTEX_AT(__lock);
	forbid_trusted(c, caps);
	add_field(c, "header.magic", offsetof(struct mms_header, magic), 8, HOW_BYTES);
	add_field(c, "header.version", offsetof(struct mms_header, version), 4, HOW_NUMBER);
	add_field(c, "header.header_size", offsetof(struct mms_header, header_size), 4, HOW_NUMBER);
	add_field(c, "header.size", offsetof(struct mms_header, size), 8, HOW_NUMBER);
	add_field(c, "header.map_len", offsetof(struct mms_header, map_len), 8, HOW_NUMBER);
	add_field(c, "header.backend", offsetof(struct mms_header, backend), 16, HOW_BYTES);
	add_field(c, "header.check", offsetof(struct mms_header, check), 8, HOW_BYTES);
	add_field(c, "mutex.lock", c->lock_off, 4, HOW_LOCKWORD);
	add_field(c, "mutex.count", MUTEX_AT(__count), 4, HOW_NUMBER);
	add_field(c, "mutex.owner", MUTEX_AT(__owner), 4, HOW_OWNER);
	add_field(c, "mutex.nusers", MUTEX_AT(__nusers), 4, HOW_NUMBER);
	add_field(c, "mutex.kind", MUTEX_AT(__kind), 4, HOW_KIND);
	add_field(c, "mutex.spins+elision", MUTEX_AT(__spins), 4, HOW_BYTES);
	add_field(c, "mutex.list", MUTEX_AT(__list), 16, HOW_BYTES);
	add_field(c, "owner.ns", offsetof(struct mms_header, owner_ns), 8, HOW_NUMBER);
	add_field(c, "owner.tid", offsetof(struct mms_header, owner_tid), 4, HOW_OWNER);
	add_field(c, "owner.check", offsetof(struct mms_header, owner_check), 4, HOW_BYTES);
	add_field(c, "gen", offsetof(struct mms_header, gen), 8, HOW_GEN);
	add_slot_fields(c, 0);
	add_slot_fields(c, 1);
	add_field(c, "anywhere", 0, area_of(c->m)->map_len, HOW_DATA);
}

static pid_t some_pid(struct fuzz_ctx *c, uint64_t *rng)
{
	switch (fuzz_pick(rng, 5)) {
	case 0:
		return c->b->parent;
	case 1:
		return getpid();
	case 2:
		return c->b->dead;
	default:
		return c->b->w[fuzz_pick(rng, FUZZ_WORKERS)].pid;
	}
}

/* A lock word: free, naming a live worker (the waiter's own tid or another's), us, the parent, a
 * dead process or any tid, with the waiters and owner-died bits now and then. */
static uint32_t lock_word(struct fuzz_ctx *c, uint64_t *rng)
{
	uint32_t w;

	switch (fuzz_pick(rng, 6)) {
	case 0:
		w = 0;
		break;
	case 1:
		w = (uint32_t)fuzz_rand(rng);
		return w;
	case 2:
		w = (uint32_t)fuzz_rand(rng) & TID_MASK;
		break;
	default:
		w = (uint32_t)some_pid(c, rng);
		break;
	}
	if (!fuzz_pick(rng, 4))
		w |= FUTEX_WAITERS;
	if (!fuzz_pick(rng, 8))
		w |= FUTEX_OWNER_DIED;
	return w;
}

/* Kinds near the real one (another type, not robust, not shared, PI, PP) or any bits at all. */
static uint32_t kind_word(struct fuzz_ctx *c, uint64_t *rng)
{
	switch (fuzz_pick(rng, 4)) {
	case 0:
		return c->kind ^ (1u << fuzz_pick(rng, 8));
	case 1:
		return (c->kind & ~3u) | (uint32_t)fuzz_pick(rng, 4);
	case 2:
		return 0;
	default:
		return (uint32_t)fuzz_rand(rng);
	}
}

static uint32_t owner_word(struct fuzz_ctx *c, uint64_t *rng)
{
	switch (fuzz_pick(rng, 4)) {
	case 0:
		return 0;
	case 1:
		return OWNER_NOTRECOVERABLE + (uint32_t)fuzz_pick(rng, 2);  /* or INCONSISTENT */
	case 2:
		return (uint32_t)some_pid(c, rng);
	default:
		return (uint32_t)fuzz_rand(rng);
	}
}

/* A generation near the current one either way it is read (seqlock keeps 2g), or a wild one. */
static uint64_t gen_value(uint64_t cur, uint64_t *rng)
{
	static const int64_t near[] = { -3, -2, -1, 1, 2, 3 };

	switch (fuzz_pick(rng, 8)) {
	case 0:
		return fuzz_pick(rng, MMS_GEN_EMPTY + 2);            /* below, at or just past empty */
	case 1:
		return 2 * (uint64_t)MMS_GEN_EMPTY + fuzz_pick(rng, 3);
	case 2:
		return UINT64_MAX - fuzz_pick(rng, 3);
	case 3:
		return (1ULL << 63) + fuzz_pick(rng, 2);
	case 4:
		return cur / 2 + (uint64_t)near[fuzz_pick(rng, 6)];
	case 5:
		return fuzz_rand(rng);
	default:
		return cur + (uint64_t)near[fuzz_pick(rng, 6)];
	}
}

static uint64_t len_value(struct fuzz_ctx *c, uint64_t *rng)
{
	static const uint64_t fixed[] = { 0, 1, 7, 8, UINT64_MAX, 1ULL << 63, 1ULL << 32 };

	switch (fuzz_pick(rng, 4)) {
	case 0:
		return fixed[fuzz_pick(rng, sizeof(fixed) / sizeof(fixed[0]))];
	case 1:
		return c->size + fuzz_pick(rng, 16) - 8;
	case 2:
		return (uint64_t)0 - c->size;
	default:
		return fuzz_rand(rng);
	}
}

static uint64_t number_value(struct fuzz_ctx *c, uint64_t *rng)
{
	switch (fuzz_pick(rng, 4)) {
	case 0:
		return fuzz_pick(rng, 2) ? 0 : UINT64_MAX;
	case 1:
		return c->size + fuzz_pick(rng, 3) - 1;
	case 2:
		return area_of(c->m)->map_len * (1 + fuzz_pick(rng, 2));
	default:
		return fuzz_rand(rng);
	}
}

/* The typed value for the field, as its len bytes. */
static void typed_value(struct fuzz_ctx *c, const struct fuzz_field *f, uint64_t *rng,
			unsigned char *out)
{
	uint64_t v;

	switch (f->how) {
	case HOW_LOCKWORD:
		v = lock_word(c, rng);
		break;
	case HOW_KIND:
		v = kind_word(c, rng);
		break;
	case HOW_OWNER:
		v = owner_word(c, rng);
		break;
	case HOW_GEN:
	case HOW_SLOT_GEN:
		v = gen_value(__atomic_load_n(&area_of(c->m)->hdr->gen, __ATOMIC_RELAXED), rng);
		break;
	case HOW_SLOT_LEN:
		v = len_value(c, rng);
		break;
	default:
		v = number_value(c, rng);
		break;
	}
	memcpy(out, &v, f->len);        /* little-endian: the low bytes for a 4-byte word */
}

/* Choose where and what: a typed value over the whole field, random bytes over part of it, or
 * one byte flipped. */
void fuzz_choose_write(struct fuzz_ctx *c, uint64_t *rng, struct fuzz_write *w)
{
	const struct fuzz_field *f = &c->fields[w->field];
	unsigned char *base = (unsigned char *)area_of(c->m)->hdr;
	size_t k, span = f->how == HOW_DATA ? 8 : f->len;
	uint64_t how = fuzz_pick(rng, 4);

	do {
		w->off = f->off + (size_t)fuzz_pick(rng, f->len);
		w->len = 1 + (size_t)fuzz_pick(rng, span);
		if (w->off + w->len > f->off + f->len)
			w->len = f->off + f->len - w->off;
	} while (fuzz_overlaps(w->off, w->len, c->forbid_off, c->forbid_len));
	if (how == 0) {
		w->len = 1;
		w->ours[0] = base[w->off] ^ (unsigned char)(1 + fuzz_pick(rng, 255));
	} else if (how == 1 || f->how == HOW_BYTES || f->how == HOW_DATA) {
		for (k = 0; k < w->len; k++)
			w->ours[k] = (unsigned char)fuzz_rand(rng);
	} else {
		w->off = f->off;
		w->len = f->len;
		typed_value(c, f, rng, w->ours);
	}
}
