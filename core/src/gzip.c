/* gunzip under limits (RFC 8460 §5.2 compression; RFC 1952 format).
 *
 * The output buffer is sized from the last member's ISIZE trailer, clamped
 * so that a lying trailer cannot make us allocate more than the limits
 * allow; a report then inflates in one call. max_decompressed and
 * max_ratio are enforced while inflating, so a bomb stops at the cap. The
 * z_stream is cached in the ctx and reset per call: small .gz reports do
 * not pay inflateInit2 each time. zlib inflates the raw deflate data; the
 * member header and trailer are read here, so that the CRC-32 check runs
 * on crc32.c's folding code (5x zlib's, which spent a fifth of the gzip
 * inflate time on it).
 *
 * A report of one member whose trailer gives its exact size decodes in one
 * call instead: under 64 KiB with inflate.c, whose state is on the stack
 * (zlib's 7 KiB inflate state was most of a small report's memory), and,
 * built with libdeflate (TRPT_HAVE_LIBDEFLATE, optional), from 64 KiB up
 * with libdeflate: 2.5x zlib's inflate speed on the bench's reports (1.97
 * against 0.74 GB/s). Anything else (several members, a trailer that lies,
 * corrupt or truncated data) goes the zlib way, which finds and words every
 * error, so all paths answer alike, with one exception: libdeflate takes a
 * few streams zlib refuses, in places no encoder goes (fixed-code symbols
 * 286-287 and distances 30-31, HLIT/HDIST past their maxima, a one-bit
 * code answering to both bits); the CRC and size checks still hold. */
#include "internal.h"
#include "crc32.h"
#include "inflate.h"
#include "json.h" /* trpt__ctx_reserve */
#include "zalloc.h"

#include <limits.h>
#ifdef TRPT_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#define RATIO_FREE ((size_t)1 << 20) /* max_ratio is checked past 1 MiB */

/* Outputs below this size stay with zlib: libdeflate's decompressor takes
 * 11.3 KiB (zlib's inflate state 7 KiB) and gains little on a small report.
 * The fuzz build lowers it to 0 so that every input tries both paths. */
#ifndef TRPT_WHOLE_INFLATE_MIN
#define TRPT_WHOLE_INFLATE_MIN ((size_t)64 << 10)
#endif

static void inflater_free(trpt_ctx *ctx)
{
    z_stream *zs = ctx->inflater;
    if (zs) {
        inflateEnd(zs);
        trpt__mem(ctx, zs, sizeof *zs, 0);
        ctx->inflater = NULL;
    }
#ifdef TRPT_HAVE_LIBDEFLATE
    if (ctx->deflater) libdeflate_free_decompressor(ctx->deflater);
    ctx->deflater = NULL;
#endif
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
    if (inflateInit2(zs, -MAX_WBITS) != Z_OK) { /* raw deflate: the wrapper is ours */
        trpt__mem(ctx, zs, sizeof *zs, 0);
        return NULL;
    }
    ctx->inflater = zs;
    ctx->inflater_free = inflater_free;
    return zs;
}

/* Length of the RFC 1952 §2.3 member header at in[0..n), or 0 with *why
 * (*trunc: it ran past the input). The checks are zlib's: method 8, no
 * reserved flag, FEXTRA/FNAME/FCOMMENT skipped, FHCRC verified. */
static size_t member_header(const unsigned char *in, size_t n, const char **why, int *trunc)
{
    *trunc = 0;
    if (n < 10) goto truncated;
    if (in[2] != 8) return *why = "unknown compression method", 0;
    unsigned flg = in[3];
    if (flg & 0xe0) return *why = "unknown header flags set", 0;
    size_t pos = 10;
    if (flg & 4) { /* FEXTRA */
        if (n - pos < 2) goto truncated;
        size_t xlen = (size_t)in[pos] | (size_t)in[pos + 1] << 8;
        pos += 2;
        if (n - pos < xlen) goto truncated;
        pos += xlen;
    }
    for (unsigned bit = 8; bit <= 16; bit <<= 1) { /* FNAME, FCOMMENT: NUL-terminated */
        if (!(flg & bit)) continue;
        const unsigned char *z = memchr(in + pos, 0, n - pos);
        if (!z) goto truncated;
        pos = (size_t)(z - in) + 1;
    }
    if (flg & 2) { /* FHCRC: the low 16 bits of the header's CRC-32 */
        if (n - pos < 2) goto truncated;
        unsigned want = (unsigned)in[pos] | (unsigned)in[pos + 1] << 8;
        if ((trpt__crc32(0, in, pos) & 0xffffu) != want) return *why = "header crc mismatch", 0;
        pos += 2;
    }
    return pos;
truncated:
    *trunc = 1;
    *why = "truncated gzip data";
    return 0;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Members below 64 KiB decode with inflate.c. The fuzz build
 * (TRPT_FUZZ_SPLIT) sends only inputs of odd length there, so that
 * libdeflate, which it lets take members of any size, sees small ones too. */
#define SMALL_INFLATE_MAX ((size_t)64 << 10)
#ifdef TRPT_FUZZ_SPLIT
#define small_path(len, isize) (((len) & 1) && (isize) < SMALL_INFLATE_MAX)
#else
#define small_path(len, isize) ((isize) < SMALL_INFLATE_MAX)
#endif

/* The whole input as one member of exactly isize bytes, decoded into buf
 * in one call: by inflate.c under 64 KiB, by libdeflate (where built in)
 * from TRPT_WHOLE_INFLATE_MIN up. 1 when it decoded and checked (all the
 * input used, exactly isize bytes, the CRC), 0 to take the zlib path, -1
 * out of memory. libdeflate's decompressor comes from its own allocator
 * (its 1.14 API has no per-object one) and is kept in the ctx. */
static int whole_member(trpt_ctx *ctx, const unsigned char *in, size_t len, char *buf,
                        size_t isize)
{
    const char *why;
    int trunc;
    size_t hlen = member_header(in, len, &why, &trunc);
    if (!hlen || len - hlen < 8) return 0;
    size_t body = len - hlen - 8, used = 0;
    if (small_path(len, isize)) {
        if (!trpt__inflate_small(in + hlen, body, (unsigned char *)buf, isize, &used)) return 0;
    } else {
#ifdef TRPT_HAVE_LIBDEFLATE
        if (isize < TRPT_WHOLE_INFLATE_MIN) return 0;
        struct libdeflate_decompressor *d = ctx->deflater;
        if (!d) {
            if (!(d = libdeflate_alloc_decompressor())) return -1;
            ctx->deflater = d;
            ctx->inflater_free = inflater_free;
        }
        size_t used_out;
        if (libdeflate_deflate_decompress_ex(d, in + hlen, body, buf, isize, &used,
                                             &used_out) != LIBDEFLATE_SUCCESS ||
            used_out != isize)
            return 0;
#else
        (void)ctx;
        return 0;
#endif
    }
    return used == body && trpt__crc32(0, buf, isize) == le32(in + len - 8);
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
    if (cap > SIZE_MAX - 1) cap = SIZE_MAX - 1; /* the buffer takes cap + 1 (32-bit size_t) */
    int ratio_bound = 0;
    if (lim->max_ratio) {
        size_t by_ratio = len > SIZE_MAX / lim->max_ratio ? SIZE_MAX : len * lim->max_ratio;
        if (by_ratio < RATIO_FREE) by_ratio = RATIO_FREE;
        if (by_ratio < cap) {
            cap = by_ratio;
            ratio_bound = 1;
        }
    }
    size_t isize = le32(in + len - 4);
    size_t size = isize < cap ? isize : cap;

    /* A fresh arena would make this buffer its head block, and the next
     * block would double from it: start a small head first (trpt_parse_report
     * has already reserved one for its results), so the buffer goes in a
     * block of its own behind it (peak memory). */
    if (!ctx->chunks && trpt__ctx_reserve(ctx, 64))
        return trpt__nomem(err);
    /* +1: the output is NUL-terminated for callers that like C strings. */
    char *buf = trpt_ctx_alloc(ctx, size + 1);
    if (!buf) return trpt__nomem(err);
    if (isize <= cap) { /* then size == isize */
        int w = whole_member(ctx, in, len, buf, isize);
        if (w < 0)
            return trpt__nomem(err);
        if (w) {
            buf[isize] = '\0';
            out->ptr = buf;
            out->len = isize;
            return TRPT_OK;
        }
    }
    z_stream *zs = get_inflater(ctx);
    if (!zs) return trpt__nomem(err);
    size_t have = 0, pos = 0; /* pos: where the current member starts */
    int members = 0;
    for (;;) {
        const char *why;
        int trunc;
        size_t hlen = member_header(in + pos, len - pos, &why, &trunc);
        if (!hlen)
            return trpt__fail(err, TRPT_E_GZIP, trunc ? len : pos, "RFC 1952 §2.3", NULL,
                              trunc ? "%s" : "corrupt gzip data: %s", why);
        if (members && inflateReset(zs) != Z_OK)
            return trpt__fail(err, TRPT_E_GZIP, pos, NULL, NULL, "inflate reset failed");
        size_t in_off = pos + hlen, mstart = have;
        /* inflateReset keeps next_in/avail_in: a failed call may have left input. */
        zs->next_in = Z_NULL;
        zs->avail_in = 0;
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
                    return trpt__nomem(err);
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
            if (zr == Z_STREAM_END) break;
            if (zr == Z_OK) continue;
            if (zr == Z_BUF_ERROR) {
                /* Under Z_FINISH this also means "output full": grow above. */
                if (zs->avail_out > 0 && zs->avail_in == 0 && in_off >= len)
                    return trpt__fail(err, TRPT_E_GZIP, len, "RFC 1952 §2.2", NULL,
                                      "truncated gzip data");
                continue;
            }
            if (zr == Z_MEM_ERROR)
                return trpt__nomem(err);
            return trpt__fail(err, TRPT_E_GZIP, (size_t)((const unsigned char *)zs->next_in - in),
                              "RFC 1951", NULL, "corrupt gzip data: %s",
                              zs->msg ? zs->msg : "inflate error");
        }
        members++;
        /* The trailer (RFC 1952 §2.3.1): CRC-32 and length mod 2^32 of the
         * member's data. */
        size_t end = (size_t)((const unsigned char *)zs->next_in - in);
        if (len - end < 8)
            return trpt__fail(err, TRPT_E_GZIP, len, "RFC 1952 §2.2", NULL, "truncated gzip data");
        if (trpt__crc32(0, buf + mstart, have - mstart) != le32(in + end))
            return trpt__fail(err, TRPT_E_GZIP, end, "RFC 1952 §2.3.1", NULL,
                              "corrupt gzip data: incorrect data check");
        if ((uint32_t)(have - mstart) != le32(in + end + 4))
            return trpt__fail(err, TRPT_E_GZIP, end + 4, "RFC 1952 §2.3.1", NULL,
                              "corrupt gzip data: incorrect length check");
        pos = end + 8;
        if (pos == len) break;
        /* Another member follows (RFC 1952 §2.2), or trailing garbage. */
        if (len - pos >= 2 && in[pos] == 0x1f && in[pos + 1] == 0x8b) continue;
        return trpt__fail(err, TRPT_E_GZIP, pos, "RFC 1952 §2.2", NULL,
                          "trailing bytes after gzip member %d", members);
    }
    buf[have] = '\0';
    out->ptr = buf;
    out->len = have;
    return TRPT_OK;
}
