/* zlib memory through the ctx allocator, shared by gzip.c (inflate) and
 * deflate.c (deflate). Not installed. */
#ifndef TRPT_ZALLOC_H
#define TRPT_ZALLOC_H

#include "internal.h"

#include <zlib.h>

/* Points zs->zalloc / zfree / opaque at ctx's allocator; call before
 * inflateInit2 / deflateInit2. */
TRPT_HIDDEN void trpt__zstream_use(z_stream *zs, trpt_ctx *ctx);

#endif
