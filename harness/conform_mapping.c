/* conform_mapping.c -- the one place the cases reach past the API: a handle's raw mapping. */
#include "conform.h"
#include "handle.h"

int conform_mapping(struct mms *m, void **base, size_t *len)
{
	if (!m || !base || !len || !m->area.hdr || !m->area.map_len)
		return MMS_EINVAL;
	*base = m->area.hdr;
	*len = m->area.map_len;
	return 0;
}
