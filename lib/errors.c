/* errors.c -- a sentence for every MMS_E* code. */
#include "mmshare.h"

const char *mms_strerror(int err)
{
	switch (err) {
	case 0:              return "success";
	case MMS_EINVAL:     return "invalid argument";
	case MMS_ENOBACKEND: return "no backend of that name (see `mmshare list`)";
	case MMS_ETOOBIG:    return "value is longer than the area's size; the stored value is unchanged";
	case MMS_ESHORT:     return "buffer too short for the value; *len holds the length needed";
	case MMS_EEMPTY:     return "no value has been set yet";
	case MMS_ECORRUPT:   return "the shared area or the stored value failed its integrity check";
	case MMS_ELOCKED:    return "lock misuse: lock while already held, or unlock while not held";
	case MMS_ESYS:       return "a system call failed (see errno)";
	case MMS_EFORMAT:    return "the stored value is not a tpl image of the requested format";
	case MMS_ETIMEDOUT:  return "timed out waiting for the lock (mms_set_timeout); nothing changed";
	case MMS_ETHREAD:    return "the handle is locked by another thread of this process; nothing changed";
	case MMS_EDEAD:      return "a holder died and this strategy cannot recover: the area is unusable";
	case MMS_EFENCED:    return "the lock's lease ran out and another process may hold it: the call "
				    "under the lock was refused and changed nothing";
	default:             return "unknown mmshare error code";
	}
}
