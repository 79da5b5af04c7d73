/* area.c -- open, attach and check the memory backends' shared area; the lock-based value protocol. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "mmshare.h"
#include "backend.h"

#define SEALS_WANTED (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

static size_t slot_stride(size_t size)
{
	return round_up(sizeof(struct mms_slot) + round_up(size, 8), MMS_CACHELINE);
}

size_t mms_area_map_len(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return round_up(sizeof(struct mms_header) + 2 * slot_stride(size), page);
}

/* Binding the generation into the check keeps a stale slot from passing as the current one. */
uint64_t mms_value_check(uint64_t hash, uint64_t gen)
{
	return hash ^ (gen * 0x9e3779b97f4a7c15ULL);
}

static uint64_t header_check(const struct mms_header *h)
{
	return XXH3_64bits(h, offsetof(struct mms_header, check));
}

static void header_fill(struct mms_area *a, const char *backend)
{
	struct mms_header *h = a->hdr;

	h->magic = MMS_MAGIC;
	h->version = MMS_VERSION;
	h->header_size = sizeof(*h);
	h->size = a->store.size;
	h->map_len = a->map_len;
	strncpy(h->backend, backend, sizeof(h->backend) - 1);
	h->check = header_check(h);
	h->gen = MMS_GEN_EMPTY;
}

static int memfd_open(size_t len)
{
	int fd = memfd_create("mmshare", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len) < 0 || fcntl(fd, F_ADD_SEALS, SEALS_WANTED) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int map_area(struct mms_area *a)
{
	int flags = a->fd < 0 ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED;
	void *p = mmap(NULL, a->map_len, PROT_READ | PROT_WRITE, flags, a->fd, 0);

	if (p == MAP_FAILED)
		return MMS_ESYS;
	a->hdr = p;
	return 0;
}

/* Map a fresh area for a->store.size bytes, in the storage the backend asks for. */
int mms_area_open(struct mms_area *a, enum mms_storage storage)
{
	int err;

	a->map_len = mms_area_map_len(a->store.size);
	a->slot_stride = slot_stride(a->store.size);
	a->fd = -1;
	a->lock_fd = -1;
	if (storage == MMS_STORE_MEMFD) {
		a->fd = memfd_open(a->map_len);
		if (a->fd < 0)
			return MMS_ESYS;
	}
	err = map_area(a);
	if (err)
		goto close_fd;
	header_fill(a, a->store.be->name);
	return 0;
close_fd:
	if (a->fd >= 0)
		close(a->fd);
	return err;
}

static int header_valid(const struct mms_header *h, size_t file_len)
{
	return h->magic == MMS_MAGIC && h->version == MMS_VERSION &&
	       h->header_size == sizeof(*h) && h->check == header_check(h) &&
	       h->size >= 1 && h->size <= MMS_MAX_SIZE &&
	       h->map_len == file_len && h->map_len == mms_area_map_len(h->size) &&
	       memchr(h->backend, '\0', sizeof(h->backend)) != NULL;
}

/* Size and seals must be right before we map: a peer could otherwise shrink the file (SIGBUS). */
static int fd_acceptable(int fd, size_t *len)
{
	struct stat st;
	int seals;

	if (fstat(fd, &st) < 0)
		return MMS_EINVAL;
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size < sizeof(struct mms_header) ||
	    (uint64_t)st.st_size > 2 * MMS_MAX_SIZE + (1u << 20))
		return MMS_EINVAL;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & SEALS_WANTED) != SEALS_WANTED)
		return MMS_EINVAL;
	*len = (size_t)st.st_size;
	return 0;
}

/*
 * The header, read with pread before anything else touches fd: closing any descriptor of a file
 * drops the caller's classic POSIX locks on it, so nothing is duplicated, opened or closed
 * until the header says this is an area whose backend exports it (never an fcntl area).
 */
static int header_peek(int fd, struct mms_header *h, size_t *len)
{
	int err = fd_acceptable(fd, len);

	if (err)
		return err;
	if (pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h) || !header_valid(h, *len))
		return MMS_EINVAL;
	return 0;
}

int mms_area_peek_backend(int fd, char name[MMS_BACKEND_NAME_MAX + 1])
{
	struct mms_header h;
	size_t len;
	int err = header_peek(fd, &h, &len);

	if (err)
		return err;
	memcpy(name, h.backend, MMS_BACKEND_NAME_MAX);
	name[MMS_BACKEND_NAME_MAX] = '\0';
	return 0;
}

/*
 * Map an area another process created in a sealed memfd for the backend a->store.be, after
 * checking that it is one, and one of that backend's. The caller has checked the backend
 * exports its areas (MMS_CAP_EXPORT_FD): an fcntl area's descriptor must never be dup'ed.
 */
int mms_area_attach(struct mms_area *a, int fd)
{
	struct mms_header peek, copy;
	size_t len;
	int err = header_peek(fd, &peek, &len);

	a->fd = -1;
	a->lock_fd = -1;
	if (err)
		return err;
	if (strcmp(peek.backend, a->store.be->name))
		return MMS_EINVAL;
	a->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (a->fd < 0)
		return MMS_ESYS;
	a->map_len = len;
	err = map_area(a);
	if (err)
		goto close_fd;
	memcpy(&copy, a->hdr, sizeof(copy));
	err = MMS_EINVAL;
	if (memcmp(&copy, &peek, offsetof(struct mms_header, check) + sizeof(copy.check)))
		goto unmap;             /* changed since the peek: trust neither */
	a->store.size = copy.size;
	a->slot_stride = slot_stride(copy.size);
	a->mutex_kind = mms_rmutex_kind_expected();
	return 0;
unmap:
	munmap(a->hdr, a->map_len);
close_fd:
	close(a->fd);
	a->fd = -1;
	return err;
}

void mms_area_close(struct mms_area *a)
{
	mms_ofd_close(a);
	munmap(a->hdr, a->map_len);
	if (a->fd >= 0)
		close(a->fd);
}

void mms_area_close_method(struct mms_store *s)
{
	mms_area_close(mms_area_of(s));
}

void *mms_area_lock_line(struct mms_area *a)
{
	return &a->hdr->mutex;
}

int mms_area_fd(const struct mms_store *s)
{
	return ((const struct mms_area *)s)->fd;
}

int mms_area_mapping(const struct mms_store *s, void **base, size_t *len)
{
	const struct mms_area *a = (const struct mms_area *)s;

	*base = a->hdr;
	*len = a->map_len;
	return 0;
}

/*
 * Copy the current value out; the caller holds the lock. Each shared field is read once into a
 * local before it is checked and used, so a peer that changes it meanwhile cannot move the copy
 * past what was checked.
 */
static int read_current(struct mms_area *a, void *buf, size_t cap, size_t *len,
			uint64_t *gen, uint64_t *check)
{
	uint64_t g = __atomic_load_n(&a->hdr->gen, __ATOMIC_ACQUIRE), sgen, slen;
	struct mms_slot *s;

	if (g == MMS_GEN_EMPTY)
		return MMS_EEMPTY;
	if (g < MMS_GEN_EMPTY)
		return MMS_ECORRUPT;
	s = mms_slot_at(a, g);
	sgen = __atomic_load_n(&s->gen, __ATOMIC_RELAXED);
	slen = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
	if (sgen != g || slen > a->store.size)
		return MMS_ECORRUPT;
	*len = slen;
	if (slen > cap)
		return MMS_ESHORT;
	if (slen)
		memcpy(buf, s->data, slen);     /* buf may be NULL when cap and the value are 0 */
	*gen = g;
	*check = __atomic_load_n(&s->check, __ATOMIC_RELAXED);
	return 0;
}

int mms_area_get_locked(struct mms_store *s, void *buf, size_t cap, size_t *len, int held)
{
	uint64_t gen = 0, check = 0;
	int err;

	if (!held) {
		err = s->be->lock(s, MMS_LOCK_SHARED);
		if (err)
			return err;
	}
	err = read_current(mms_area_of(s), buf, cap, len, &gen, &check);
	if (!held)
		s->be->unlock(s, MMS_LOCK_SHARED);
	if (err)
		return err;
	if (mms_value_check(mms_value_hash(buf, *len), gen) != check)
		return MMS_ECORRUPT;
	return 0;
}

/*
 * Write into the slot that does not hold the current value, then publish it with one release
 * store: a writer killed at any instant leaves the current value whole.
 */
static void write_next(struct mms_area *a, const void *data, size_t len, uint64_t hash)
{
	uint64_t g = __atomic_load_n(&a->hdr->gen, __ATOMIC_RELAXED);
	struct mms_slot *s;

	if (g < MMS_GEN_EMPTY || g == UINT64_MAX)      /* scribbled: start over */
		g = MMS_GEN_EMPTY;
	s = mms_slot_at(a, g + 1);
	s->gen = g + 1;
	s->len = len;
	if (len)
		memcpy(s->data, data, len);
	s->check = mms_value_check(hash, g + 1);
	__atomic_store_n(&a->hdr->gen, g + 1, __ATOMIC_RELEASE);
}

int mms_area_write_locked(struct mms_store *s, mms_write_fn *write, const void *data, size_t len,
			  int held)
{
	uint64_t hash = mms_value_hash(data, len);
	int err;

	if (!held) {
		err = s->be->lock(s, MMS_LOCK_EXCL);
		if (err)
			return err;
	}
	write(mms_area_of(s), data, len, hash);
	if (!held)
		s->be->unlock(s, MMS_LOCK_EXCL);
	return 0;
}

int mms_area_set_locked(struct mms_store *s, const void *data, size_t len, int held)
{
	return mms_area_write_locked(s, write_next, data, len, held);
}
