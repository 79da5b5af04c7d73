/* memfd.c -- a sealed memfd that any process given its descriptor can share, even a hostile one.
 *
 * Protocol: seqcount.c's two-slot sequence lock: get copies without a lock and never writes the
 * mapping; set and mms_lock take an OFD write lock on the memfd through a description of the
 * process's own (ofd_lock.c). The memfd is sealed against shrink, grow and further sealing, so no
 * holder of the descriptor can truncate it under another's mapping (SIGBUS). mms_fd hands the
 * descriptor out (e.g. over a UNIX socket); mms_attach checks magic, version, header checksum,
 * size and seals before trusting it.
 * Ordering: seqcount.c's fences; the kernel's lock hand-off orders writers among themselves.
 * Crash story: the kernel drops a dead holder's OFD lock with its last descriptor; a writer that
 * died mid-set left the sequence odd, and the next writer rewrites that slot. The lock lives in
 * the kernel and the mapping holds no pointers, so a peer that writes it can make calls fail
 * (MMS_ECORRUPT) or retry (bounded by mms_set_timeout), never crash or redirect another process.
 */
#include "mmshare.h"
#include "backend.h"

static int memfd_open(struct mms_store *s)
{
	struct mms_area *a = mms_area_of(s);
	int err = mms_area_open(a, MMS_STORE_MEMFD);

	if (err)
		return err;
	mms_seq_init(a);
	err = mms_ofd_open(a);
	if (err)
		mms_area_close(a);
	return err;
}

static int memfd_attach(struct mms_store *s, int fd)
{
	struct mms_area *a = mms_area_of(s);
	int err = mms_area_attach(a, fd);

	if (err)
		return err;
	err = mms_ofd_open(a);
	if (err)
		mms_area_close(a);
	return err;
}

const struct mms_backend mms_backend_memfd = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name    = "memfd",
	.summary = "sealed memfd for any process given its fd: lock-free reads, OFD-locked writes; safe with hostile peers",
	.caps    = MMS_CAP_CRASH_SAFE | MMS_CAP_SHARED_READ | MMS_CAP_READ_NOWAIT | MMS_CAP_EXPORT_FD | MMS_CAP_HOSTILE_SAFE |
		   MMS_CAP_MAPPING,
	.open    = memfd_open,
	.attach  = memfd_attach,
	.close   = mms_area_close_method,
	.lock    = mms_ofd_lock,
	.unlock  = mms_ofd_unlock,
	.get     = mms_seq_get,
	.set     = mms_seq_set,
	.fd      = mms_area_fd,
	.mapping = mms_area_mapping,
};
