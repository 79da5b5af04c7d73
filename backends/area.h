/* area.h -- the shared-area layout of the memory backends: header, lock line, two value slots. */
#ifndef MMS_AREA_H
#define MMS_AREA_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "mmshare-backend.h"

#define MMS_MAGIC      0x0045524148534d4dULL  /* "MMSHARE\0" read as little-endian bytes */
#define MMS_VERSION    2u
#define MMS_CACHELINE  64
#define MMS_GEN_EMPTY  0x100u           /* generation of a fresh area; below it is corrupt */

/*
 * The mapping starts with this header. Identity fields are written once, before the area is
 * shared, and checked by mms_attach; the handle keeps private copies of everything it trusts, so
 * a scribbled header can make a call fail but never read outside the mapping.
 */
struct mms_header {
	uint64_t magic;             /* MMS_MAGIC */
	uint32_t version;           /* MMS_VERSION */
	uint32_t header_size;       /* sizeof(struct mms_header) */
	uint64_t size;              /* largest value, bytes */
	uint64_t map_len;           /* bytes mapped, header and slots */
	char     backend[16];       /* backend name, NUL-padded */
	uint64_t check;             /* XXH3 of the fields above */
	uint8_t  pad0[MMS_CACHELINE - 56];
	/* line 1: the lock, for backends that keep it in the area */
	pthread_mutex_t mutex;      /* robust, process-shared */
	uint64_t owner_ns;          /* the holder's pid namespace, written once it holds the mutex */
	uint32_t owner_tid;         /* the holder's thread id there, as in the mutex's lock word */
	uint32_t owner_check;       /* binds the two above, so a random scribble is no record */
	uint8_t  pad1[MMS_CACHELINE - sizeof(pthread_mutex_t) - 16];
	/* line 2: which slot holds the value */
	uint64_t gen;               /* generation of the current value (seqlock: 2*gen, odd mid-write) */
	uint8_t  pad2[MMS_CACHELINE - 8];
	uint8_t  pad3[MMS_CACHELINE];   /* keeps slot 0 off the gen line's adjacent-line prefetch */
};

_Static_assert(offsetof(struct mms_header, gen) - offsetof(struct mms_header, mutex) ==
	       MMS_AREA_LOCK_BYTES, "the lock line is MMS_AREA_LOCK_BYTES: bump MMS_BACKEND_ABI");

/* A value slot: generation g lives in slot g & 1; the other slot is where the next write goes. */
struct mms_slot {
	uint64_t gen;               /* generation this slot holds */
	uint64_t len;               /* value length, bytes */
	uint64_t check;             /* XXH3 of the value, bound to gen and len (mms_value_check) */
	uint64_t pad[5];
	uint64_t data[];            /* the value, padded to 8 bytes */
};

static inline struct mms_slot *mms_slot_at(const struct mms_area *a, uint64_t gen)
{
	return (struct mms_slot *)((char *)a->hdr + sizeof(struct mms_header) +
				   (gen & 1) * a->slot_stride);
}

/* Bytes mapped for values of up to size bytes: header and two slots, whole pages. */
size_t mms_area_map_len(size_t size);

/*
 * Hash data outside the lock, then run write under the backend's exclusive lock (unless the
 * caller already holds it): the set of every protocol, whichever way it writes the slots.
 */
typedef void mms_write_fn(struct mms_area *a, const void *data, size_t len, uint64_t hash);
int mms_area_write_locked(struct mms_store *s, mms_write_fn *write, const void *data, size_t len,
			  int held);

/* The backend name an exported area's header gives, after checking fd is such an area. */
int mms_area_peek_backend(int fd, char name[MMS_BACKEND_NAME_MAX + 1]);

#endif
