/* tpl_glue.h -- internal: the guarded load behind mms_get_tpl, without the image check. */
#ifndef MMS_TPL_GLUE_H
#define MMS_TPL_GLUE_H

#include <stddef.h>
#include <tpl.h>

/*
 * What mms_get_tpl does once the stored image is copied and checked: load buf[0..len), which
 * came from tpl_hook.malloc, into tn with tpl's fatal hook turned into a return. Ownership of
 * buf passes in all cases: to tn on 0 and wherever tpl took it before failing (tpl_free(tn)
 * releases it), otherwise it is freed here. 0, MMS_EFORMAT, or MMS_ESYS (errno ENOMEM).
 * mms_get_tpl never calls it on unchecked bytes; tests use it to reach tpl's own failures.
 */
int mms_tpl_load_unchecked(tpl_node *tn, void *buf, size_t len);

#endif
