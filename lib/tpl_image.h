/* tpl_image.h -- tell whether bytes are a tpl image that tpl_load and tpl_unpack walk in bounds. */
#ifndef MMS_TPL_IMAGE_H
#define MMS_TPL_IMAGE_H

#include <stddef.h>

/* Limits of this checker (tpl itself has none): longer or deeper formats are refused. */
#define MMS_TPL_MAX_FMT   1024  /* format string length, without its NUL */
#define MMS_TPL_MAX_DEPTH 32    /* nesting of A(...), S(...) and $(...) */
#define MMS_TPL_MAX_POUND 10    /* contiguous '#' after one item (tpl's own limit) */

/*
 * 0 when img[0..len) is a tpl image as tpl 1.6.1 dumps it on this CPU (native byte order; the
 * null-strings flag set exactly when the format holds an 's') whose embedded format and data
 * tpl_load and tpl_unpack can walk without reading outside [img, img + len); MMS_EFORMAT otherwise.
 * The walk is O(len), allocates nothing and uses a bounded stack.
 */
int mms_tpl_image_check(const void *img, size_t len);

#endif
