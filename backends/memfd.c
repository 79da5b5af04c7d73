/* memfd.c -- the mutex protocol in a sealed memfd that a non-descendant process can attach.
 *
 * Protocol: as mutex.c; the area lives in a memfd sealed against shrink, grow and further
 * sealing, so no holder of the descriptor can truncate it under another's mapping (SIGBUS).
 * mms_fd hands the descriptor out (e.g. over a UNIX socket); mms_attach checks magic, version,
 * header checksum, size and seals before trusting it.
 * Ordering: the robust mutex orders everything, as in mutex.c.
 * Crash story: as mutex.c; a robust mutex works between unrelated processes mapping one file.
 */
#include "mmshare.h"
#include "backend.h"

const struct mms_backend mms_backend_memfd = {
	.name    = "memfd",
	.summary = "mutex protocol in a sealed memfd; mms_fd/mms_attach share it beyond fork",
	.caps    = MMS_CAP_EXPORT_FD,
	.storage = MMS_STORE_MEMFD,
	.init    = mms_rmutex_init,
	.lock    = mms_rmutex_lock,
	.unlock  = mms_rmutex_unlock,
	.get     = mms_area_get_locked,
	.set     = mms_area_set_locked,
};
