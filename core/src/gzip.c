/* gunzip under limits (RFC 8460 §5.2 compression; RFC 1952 format).
 *
 * The output buffer is sized from the last member's ISIZE trailer, clamped
 * so that a lying trailer cannot make us allocate more than the limits
 * allow; a report then inflates in one call. max_decompressed and
 * max_ratio are enforced while inflating, so a bomb stops at the cap. The
 * z_stream is cached in the ctx and reset per call: small .gz reports do
 * not pay inflateInit2 and its window allocation each time. */
#include "internal.h"
#include "json.h" /* trpt__ctx_reserve */
#include "zalloc.h"

#include <limits.h>

#define RATIO_FREE ((size_t)1 << 20) /* max_ratio is checked past 1 MiB */

static void inflater_free(trpt_ctx *ctx)
{
    z_stream *zs = ctx->inflater;
    if (!zs) return;
    inflateEnd(zs);
    trpt__mem(ctx, zs, sizeof *zs, 0);
    ctx->inflater = NULL;
}

static z_stream *get_inflater(trpt_ctx *ctx)
{
    z_stream *zs = ctx->inflater;
    if (zs) {
        if (inflateReset(zs) == Z_OK) return zs;
        inflater_free(ctx);
    }
    zs = trpt__mem(ctx, NULL, 0, sizeof *zs);
    if (!zs) return NULL;
    memset(zs, 0, sizeof *zs);
    trpt__zstream_use(zs, ctx);
    if (inflateInit2(zs, 16 + MAX_WBITS) != Z_OK) { /* 16: gzip wrapper only */
        trpt__mem(ctx, zs, sizeof *zs, 0);
        return NULL;
    }
    ctx->inflater = zs;
    ctx->inflater_free = inflater_free;
    return zs;
}

int trpt_gunzip(trpt_ctx *ctx, const void *data, size_t len, trpt_str *out, trpt_error *err)
{
    if (!ctx || !out || (!data && len))
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL argument");
    out->ptr = NULL;
    out->len = 0;
    const trpt_limits *lim = &ctx->limits;
    if (len > lim->max_input)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, NULL,
                          "input of %zu bytes exceeds max_input (%zu)", len, lim->max_input);
    const unsigned char *in = data;
    if (len < 18 || in[0] != 0x1f || in[1] != 0x8b)
        return trpt__fail(err, TRPT_E_GZIP, 0, "RFC 1952 §2.3", NULL,
                          len < 18 && len >= 2 && in[0] == 0x1f && in[1] == 0x8b
                              ? "truncated gzip data"
                              : "not gzip data (no 1f 8b magic)");

    /* The most output we accept: max_decompressed, and past the ratio-free
     * first MiB no more than max_ratio times the input. */
    size_t cap = lim->max_decompressed;
    int ratio_bound = 0;
    if (lim->max_ratio) {
        size_t by_ratio = len > SIZE_MAX / lim->max_ratio ? SIZE_MAX : len * lim->max_ratio;
        if (by_ratio < RATIO_FREE) by_ratio = RATIO_FREE;
        if (by_ratio < cap) {
            cap = by_ratio;
            ratio_bound = 1;
        }
    }
    size_t isize = (size_t)in[len - 4] | (size_t)in[len - 3] << 8 | (size_t)in[len - 2] << 16 |
                   (size_t)in[len - 1] << 24;
    size_t size = isize < cap ? isize : cap;

    z_stream *zs = get_inflater(ctx);
    if (!zs) return trpt__fail(err, TRPT_E_NOMEM, TRPT_NO_OFFSET, NULL, NULL, "out of memory");
    /* inflateReset keeps next_in/avail_in: a failed call may have left input. */
    zs->next_in = Z_NULL;
    zs->avail_in = 0;

    /* A fresh arena would make this buffer its head block, and the next
     * block would double from it: start a small head first (trpt_parse_report
     * has already reserved one for its results), so the buffer goes in a
     * block of its own behind it (peak memory). */
    if (!ctx->chunks && trpt__ctx_reserve(ctx, 64))
        return trpt__fail(err, TRPT_E_NOMEM, TRPT_NO_OFFSET, NULL, NULL, "out of memory");
    /* +1: the output is NUL-terminated for callers that like C strings. */
    char *buf = trpt_ctx_alloc(ctx, size + 1);
    if (!buf) return trpt__fail(err, TRPT_E_NOMEM, TRPT_NO_OFFSET, NULL, NULL, "out of memory");
    size_t have = 0, in_off = 0;
    int members = 0;
    for (;;) {
        if (zs->avail_in == 0 && in_off < len) {
            size_t n = len - in_off < UINT_MAX ? len - in_off : UINT_MAX;
            zs->next_in = (Bytef *)(uintptr_t)(in + in_off);
            zs->avail_in = (uInt)n;
            in_off += n;
        }
        if (have == size && size < cap) {
            /* ISIZE was short (several members, or a lying trailer): grow
             * geometrically up to cap; the old block stays in the arena. */
            size_t nsize = size < (SIZE_MAX - 1) / 2 ? size * 2 : SIZE_MAX - 1;
            if (nsize < 4096) nsize = 4096;
            if (nsize > cap) nsize = cap;
            char *nb = trpt_ctx_alloc(ctx, nsize + 1);
            if (!nb)
                return trpt__fail(err, TRPT_E_NOMEM, TRPT_NO_OFFSET, NULL, NULL, "out of memory");
            memcpy(nb, buf, have);
            buf = nb;
            size = nsize;
        }
        /* At the cap, inflate into a 1-byte probe: any byte it gets breaks a limit. */
        unsigned char probe;
        int at_cap = have == size;
        size_t room = at_cap ? 1 : (size - have < UINT_MAX ? size - have : UINT_MAX);
        zs->next_out = at_cap ? &probe : (Bytef *)buf + have;
        zs->avail_out = (uInt)room;
        /* Z_FINISH: with the whole output in view zlib never allocates or
         * fills its 32 KiB window (less memory, no copy). */
        int zr = inflate(zs, Z_FINISH);
        if (at_cap && zs->avail_out == 0) {
            if (ratio_bound)
                return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, NULL,
                                  "decompressed data exceeds max_ratio (%u) times the input",
                                  lim->max_ratio);
            return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, NULL,
                              "decompressed data exceeds max_decompressed (%zu bytes)",
                              lim->max_decompressed);
        }
        if (!at_cap) have += room - zs->avail_out;
        if (zr == Z_STREAM_END) {
            members++;
            size_t left = zs->avail_in + (len - in_off);
            if (left == 0) break;
            /* Another member follows (RFC 1952 §2.2), or trailing garbage. */
            if (left >= 2 && in[len - left] == 0x1f && in[len - left + 1] == 0x8b) {
                if (inflateReset(zs) != Z_OK)
                    return trpt__fail(err, TRPT_E_GZIP, len - left, NULL, NULL,
                                      "inflate reset failed");
                continue;
            }
            return trpt__fail(err, TRPT_E_GZIP, len - left, "RFC 1952 §2.2", NULL,
                              "trailing bytes after gzip member %d", members);
        }
        if (zr == Z_OK) continue;
        if (zr == Z_BUF_ERROR) {
            /* Under Z_FINISH this also means "output full": grow above. */
            if (zs->avail_out > 0 && zs->avail_in == 0 && in_off >= len)
                return trpt__fail(err, TRPT_E_GZIP, len, "RFC 1952 §2.2", NULL,
                                  "truncated gzip data");
            continue; /* output full: grow above */
        }
        if (zr == Z_MEM_ERROR)
            return trpt__fail(err, TRPT_E_NOMEM, TRPT_NO_OFFSET, NULL, NULL, "out of memory");
        return trpt__fail(err, TRPT_E_GZIP, len - zs->avail_in - (len - in_off), "RFC 1952",
                          NULL, "corrupt gzip data: %s", zs->msg ? zs->msg : "inflate error");
    }
    buf[have] = '\0';
    out->ptr = buf;
    out->len = have;
    return TRPT_OK;
}
