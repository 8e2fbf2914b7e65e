/* zlib allocation shims: every z_stream's memory goes through the ctx
 * allocator, so zlib obeys the same caller-supplied allocator (and its
 * accounting) as the rest of the library. */
#include "zalloc.h"

#include <stdint.h>

/* zlib frees without a size, while trpt_alloc_fn (lua_Alloc) wants the old
 * size: each block carries its size in a 16-byte header (16 keeps the
 * allocator's alignment for zlib's structures). */
#define ZHDR 16

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    /* Overflow check written for any size_t width, not just 64-bit. */
    if (size && items > (SIZE_MAX - ZHDR) / size) return Z_NULL;
    size_t n = (size_t)items * size;
    char *p = trpt__mem(opaque, NULL, 0, n + ZHDR);
    if (!p) return Z_NULL;
    memcpy(p, &n, sizeof n);
    return p + ZHDR;
}

static void z_free(voidpf opaque, voidpf addr)
{
    if (!addr) return;
    char *p = (char *)addr - ZHDR;
    size_t n;
    memcpy(&n, p, sizeof n);
    trpt__mem(opaque, p, n + ZHDR, 0);
}

void trpt__zstream_use(z_stream *zs, trpt_ctx *ctx)
{
    zs->zalloc = z_alloc;
    zs->zfree = z_free;
    zs->opaque = ctx;
}
