/* Fuzz target: the gzip path. trpt_gunzip on the raw input under tight
 * limits, and trpt_parse_report (which takes the gzip branch on 1f 8b). A
 * successful inflate must respect max_decompressed and give exactly what
 * zlib's own gzip decoding gives (gzip.c reads the RFC 1952 header and
 * trailer itself and checks the CRC with crc32.c; zlib only inflates), or,
 * where zlib refuses, what libdeflate's gives (libdeflate_takes), and
 * parsing the gzip must agree with parsing what it inflates to. inflate.c
 * (small members; odd-length inputs in this build) is also checked on its
 * own: the raw input as deflate data against zlib's raw inflate. The ctx (and its cached
 * inflater) is reused across calls, as callers do; the first call reads a
 * copy that is freed before the next call, so any state that still points
 * into an earlier input shows up as a use after free. */
#include "common.h"
#include "inflate.h"

#include <zlib.h>
#ifdef TRPT_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

/* zlib's gzip decoding (windowBits 16 + 15, member after member) of
 * data[0..size) into at most cap bytes: 1 (*out, *outlen) when all of it
 * decodes, 0 on an error or trailing garbage, -1 past cap. */
static int zlib_gunzip(const uint8_t *data, size_t size, size_t cap, uint8_t **out,
                       size_t *outlen)
{
    uint8_t *buf = malloc(cap + 1);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (!buf || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        free(buf);
        return -2;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    z.next_out = buf;
    z.avail_out = (uInt)(cap + 1);
    int res;
    for (;;) {
        int zr = inflate(&z, Z_FINISH);
        if ((size_t)(z.next_out - buf) > cap) {
            res = -1;
            break;
        }
        if (zr != Z_STREAM_END) {
            res = 0;
            break;
        }
        if (z.avail_in == 0) {
            res = 1;
            break;
        }
        if (!(z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) ||
            inflateReset(&z) != Z_OK) {
            res = 0;
            break;
        }
    }
    *outlen = (size_t)(z.next_out - buf);
    inflateEnd(&z);
    *out = buf;
    return res;
}

/* inflate.c against zlib on the input as raw deflate data: where zlib
 * decodes n bytes, inflate.c either gives the same bytes and input length
 * or leaves it to zlib, and refuses n - 1 and n + 1; where zlib fails after
 * n bytes, inflate.c refuses n. */
static void check_inflate(const uint8_t *data, size_t size)
{
    enum { CAP = 1 << 16 };
    static uint8_t want[CAP + 1], got[CAP + 1];
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return;
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    z.next_out = want;
    z.avail_out = CAP + 1;
    int zr = inflate(&z, Z_FINISH);
    size_t n = CAP + 1 - z.avail_out, zused = size - z.avail_in, used = 0;
    inflateEnd(&z);
    if (n > CAP) return;
    if (zr == Z_STREAM_END) {
        if (trpt__inflate_small(data, size, got, n, &used))
            FUZZ_CHECK(used == zused && memcmp(got, want, n) == 0,
                       "inflate.c: %zu bytes differ from zlib's (input %zu/%zu)", n, used, zused);
        FUZZ_CHECK(!trpt__inflate_small(data, size, got, n + 1, &used),
                   "inflate.c took %zu bytes for %zu", n + 1, n);
        if (n)
            FUZZ_CHECK(!trpt__inflate_small(data, size, got, n - 1, &used),
                       "inflate.c took %zu bytes for %zu", n - 1, n);
    } else {
        FUZZ_CHECK(!trpt__inflate_small(data, size, got, n, &used),
                   "inflate.c decodes what zlib rejects (%d after %zu bytes)", zr, n);
    }
}

/* libdeflate, which this build gives every member inflate.c does not take
 * (even-length inputs, and odd ones from 64 KiB of output), takes a few
 * streams zlib refuses (test_inflate.c's test_libdeflate_lax; README,
 * Limits): trpt_gunzip may then accept, with libdeflate's own gzip
 * decoding's bytes. 1 when that is so. (inflate.c never takes what zlib
 * refuses: check_inflate.) */
static int libdeflate_takes(const uint8_t *data, size_t size, trpt_str got)
{
#ifdef TRPT_HAVE_LIBDEFLATE
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    uint8_t *buf = malloc(got.len + 1);
    size_t in_used = 0, out_len = 0;
    int same = d && buf &&
               libdeflate_gzip_decompress_ex(d, data, size, buf, got.len + 1, &in_used,
                                             &out_len) == LIBDEFLATE_SUCCESS &&
               in_used == size && out_len == got.len && memcmp(buf, got.ptr, got.len) == 0;
    free(buf);
    if (d) libdeflate_free_decompressor(d);
    return same;
#else
    (void)data, (void)size, (void)got;
    return 0;
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_inflate(data, size);
    trpt_limits lim;
    fuzz_limits(&lim);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
    if (!ctx) return 0;
    trpt_str plain;
    trpt_error err;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        trpt_ctx_free(ctx);
        return 0;
    }
    if (size) memcpy(copy, data, size);
    int rc = trpt_gunzip(ctx, copy, size, &plain, &err);
    free(copy);
    if (rc != TRPT_OK) {
        fuzz_check_error(rc, &err);
    } else {
        fuzz_touch(plain);
        FUZZ_CHECK(plain.len <= lim.max_decompressed, "inflated %zu > cap", plain.len);
    }
    /* zlib as the oracle, under gzip.c's cap: max_decompressed, and past
     * the first MiB max_ratio times the input. */
    size_t cap = size * lim.max_ratio;
    if (cap < ((size_t)1 << 20)) cap = (size_t)1 << 20;
    if (cap > lim.max_decompressed) cap = lim.max_decompressed;
    uint8_t *zbuf = NULL;
    size_t zlen = 0;
    int zo = size <= lim.max_input ? zlib_gunzip(data, size, cap, &zbuf, &zlen) : -2;
    if (zo == 1)
        FUZZ_CHECK(rc == TRPT_OK && plain.len == zlen && memcmp(plain.ptr, zbuf, zlen) == 0,
                   "zlib decodes %zu bytes, trpt_gunzip: %s", zlen, trpt_code_name(rc));
    else if (zo == 0 && rc == TRPT_OK)
        FUZZ_CHECK(libdeflate_takes(data, size, plain),
                   "trpt_gunzip decodes what zlib rejects, and libdeflate does not give it");
    else if (zo == -1)
        FUZZ_CHECK(rc == TRPT_E_LIMIT, "past the cap for zlib, trpt_gunzip: %s",
                   trpt_code_name(rc));
    free(zbuf);

    trpt_report r1, r2;
    trpt_error e1, e2;
    int rc1 = trpt_parse_report(ctx, data, size, NULL, &r1, &e1);
    if (rc1 != TRPT_OK) {
        fuzz_check_error(rc1, &e1);
    } else {
        fuzz_touch_report(&r1);
        fuzz_check_report_limits(&r1, &lim);
    }
    if (rc == TRPT_OK && size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        int rc2 = trpt_parse_report(ctx, plain.ptr, plain.len, NULL, &r2, &e2);
        /* Same outcome, unless the inflated text trips max_input (a cap on
         * the raw input only) or is itself a gzip (inflated once only). */
        if (plain.len <= lim.max_input &&
            !(plain.len >= 2 && (unsigned char)plain.ptr[0] == 0x1f &&
              (unsigned char)plain.ptr[1] == 0x8b))
            FUZZ_CHECK(rc1 == rc2, "gzip parse %s, inflated parse %s", trpt_code_name(rc1),
                       trpt_code_name(rc2));
        if (rc2 == TRPT_OK) {
            fuzz_touch_report(&r2);
            if (rc1 == TRPT_OK)
                FUZZ_CHECK(r1.npolicies == r2.npolicies && r1.nwarnings == r2.nwarnings &&
                               r1.start_epoch == r2.start_epoch && r1.end_epoch == r2.end_epoch,
                           "gzip and inflated parses differ");
        }
    }
    trpt_ctx_free(ctx);
    return 0;
}
