/* trpt_gunzip: bombs, ratio, truncation, multi-member, lying trailers,
 * cached inflater reuse, the RFC 1952 header fields and trailer checks
 * (read by gzip.c, not zlib), inflate.c for small members (test_inflate.c
 * has its own tests), the one-call libdeflate path for big members
 * (and the same answers from a build without it), and crc32.c against
 * zlib's crc32. */
#include "tap.h"
#include "internal.h"
#include "crc32.h"
#include "vectors.h"
#include "testutil.h"

#include <zlib.h>

typedef struct counter {
    size_t cur, peak, allocs;
} counter;

static void *counting_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    counter *c = ud;
    size_t *h = p ? (size_t *)p - 2 : NULL;
    (void)osize;
    if (nsize == 0) {
        if (h) {
            c->cur -= h[0];
            free(h);
        }
        return NULL;
    }
    size_t old = h ? h[0] : 0;
    size_t *n = realloc(h, nsize + 2 * sizeof(size_t));
    if (!n) return NULL;
    n[0] = nsize;
    c->cur = c->cur - old + nsize;
    if (c->cur > c->peak) c->peak = c->cur;
    c->allocs++;
    return n + 2;
}

/* gzip of in[0..n) into a malloc'd buffer. */
static unsigned char *gz(const void *in, size_t n, size_t *outn)
{
    size_t cap = compressBound((uLong)n) + 64;
    unsigned char *out = malloc(cap);
    *outn = tu_gzip(in, n, out, cap);
    return out;
}

static const char TEXT[] = "{\"organization-name\":\"Example\",\"policies\":[]}";

/* Security review: trpt_alloc_fn has lua_Alloc's contract, so a block is
 * freed with its size as osize; allocators that account by osize rely on
 * it. Counts the frees and reallocs that pass a wrong osize. */
static void *osize_checking_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    size_t *wrong = ud;
    size_t *h = p ? (size_t *)p - 2 : NULL;
    if (h && h[0] != osize) (*wrong)++;
    if (nsize == 0) {
        free(h);
        return NULL;
    }
    size_t *n = realloc(h, nsize + 2 * sizeof(size_t));
    if (!n) return NULL;
    n[0] = nsize;
    return n + 2;
}

/* gzip of TEXT with every optional header field (RFC 1952 §2.3: FEXTRA,
 * FNAME, FCOMMENT, FHCRC), as zlib writes them, into a malloc'd buffer. */
static unsigned char *gz_fields(size_t *outn)
{
    static unsigned char extra[] = { 'A', 'B', 4, 0, 1, 2, 3, 4 };
    gz_header h;
    memset(&h, 0, sizeof h);
    h.extra = extra;
    h.extra_len = sizeof extra;
    h.name = (Bytef *)"report.json";
    h.comment = (Bytef *)"a comment";
    h.hcrc = 1;
    size_t cap = 1024;
    unsigned char *out = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    deflateSetHeader(&z, &h);
    z.next_in = (Bytef *)(uintptr_t)TEXT;
    z.avail_in = (uInt)strlen(TEXT);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    *outn = z.total_out;
    deflateEnd(&z);
    return out;
}

static void test_header_and_trailer(trpt_ctx *ctx)
{
    trpt_str out;
    trpt_error e;
    size_t n;
    unsigned char *g = gz_fields(&n);
    ok(g[3] == (2 | 4 | 8 | 16), "zlib wrote FHCRC, FEXTRA, FNAME, FCOMMENT (flags %#x)", g[3]);
    ok(trpt_gunzip(ctx, g, n, &out, &e) == TRPT_OK && out.len == strlen(TEXT) &&
           memcmp(out.ptr, TEXT, out.len) == 0,
       "every optional header field is skipped");
    /* name starts after 10 + 2 + 8 bytes of header and extra */
    g[21] ^= 1;
    is_int(trpt_gunzip(ctx, g, n, &out, &e), TRPT_E_GZIP, "a changed file name");
    ok(strstr(e.message, "header crc mismatch") != NULL, "fails the FHCRC: %s", e.message);
    g[21] ^= 1;
    g[3] |= 0x20;
    is_int(trpt_gunzip(ctx, g, n, &out, &e), TRPT_E_GZIP, "a reserved flag");
    ok(strstr(e.message, "unknown header flags") != NULL, "says so: %s", e.message);
    g[3] &= (unsigned char)~0x20;
    g[2] = 7;
    is_int(trpt_gunzip(ctx, g, n, &out, &e), TRPT_E_GZIP, "compression method 7");
    ok(strstr(e.message, "compression method") != NULL, "says so: %s", e.message);
    g[2] = 8;
    g[n - 8] ^= 1;
    is_int(trpt_gunzip(ctx, g, n, &out, &e), TRPT_E_GZIP, "a changed CRC-32 trailer");
    ok(strstr(e.message, "incorrect data check") != NULL, "says so: %s", e.message);
    is_int((long long)e.offset, (long long)(n - 8), "at the trailer");
    g[n - 8] ^= 1;
    g[n - 4] ^= 1;
    is_int(trpt_gunzip(ctx, g, n, &out, &e), TRPT_E_GZIP, "a changed ISIZE trailer");
    ok(strstr(e.message, "incorrect length check") != NULL, "says so: %s", e.message);
    g[n - 4] ^= 1;
    is_int(trpt_gunzip(ctx, g, n, &out, &e), TRPT_OK, "restored, it decodes again");
    free(g);
}

/* crc32.c's folding path (>= 256 bytes, any alignment, any tail) and its
 * chaining agree with zlib's crc32. */
static void test_crc32(void)
{
    size_t big = (size_t)1 << 20;
    unsigned char *b = malloc(big);
    uint64_t st = 0x243F6A8885A308D3u;
    for (size_t i = 0; i < big; i++) {
        st = st * 6364136223846793005u + 1442695040888963407u;
        b[i] = (unsigned char)(st >> 56);
    }
    int bad = 0;
    for (size_t len = 0; len <= 1100; len++)
        for (size_t off = 0; off < 4; off++) {
            uint32_t seed = (uint32_t)(len * 2654435761u);
            if (trpt__crc32(seed, b + off, len) != (uint32_t)crc32(seed, b + off, (uInt)len)) bad++;
        }
    ok(bad == 0, "lengths 0-1100 at offsets 0-3, chained seeds: as zlib (%d differ)", bad);
    uint32_t c = trpt__crc32(0, b, 300000);
    c = trpt__crc32(c, b + 300000, big - 300000);
    ok(c == (uint32_t)crc32(0, b, (uInt)big), "1 MiB in two chained parts: as zlib");
    ok(trpt__crc32(0, "123456789", 9) == 0xCBF43926u, "check value of \"123456789\"");
    free(b);
}

/* Big members (>= 64 KiB out) decode in one libdeflate call where the build
 * has it; every irregular one must still get the zlib path's answer. */
static void test_whole_member(void)
{
    counter cnt = { 0, 0, 0 };
    trpt_ctx *ctx = trpt_ctx_new(counting_alloc, &cnt, NULL);
    trpt_str out;
    trpt_error e;
    size_t n = 200000, zl, ml;
    char *text = malloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) { /* JSON-like text that compresses about 4:1 */
        x = x * 1103515245u + 12345u;
        text[i] = "{\"abcdefgh0123456789.:, }"[(x >> 16) % 24];
    }
    unsigned char *z = gz(text, n, &zl);
    is_int(trpt_gunzip(ctx, z, zl, &out, &e), TRPT_OK, "200 kB member");
    ok(out.len == n && memcmp(out.ptr, text, n) == 0 && out.ptr[n] == '\0', "same bytes");
#ifdef TRPT_HAVE_LIBDEFLATE
    printf("# built with libdeflate\n");
    ok(ctx->deflater != NULL && ctx->inflater == NULL, "decoded by libdeflate, zlib not set up");
#else
    printf("# built without libdeflate\n");
    ok(ctx->deflater == NULL && ctx->inflater != NULL, "decoded by zlib");
#endif
    z[zl - 8] ^= 1;
    is_int(trpt_gunzip(ctx, z, zl, &out, &e), TRPT_E_GZIP, "big member, changed CRC-32");
    ok(strstr(e.message, "incorrect data check") && e.offset == zl - 8, "at the trailer: %s",
       e.message);
    z[zl - 8] ^= 1;
    for (int d = -1; d <= 1; d += 2) {
        z[zl - 4] = (unsigned char)(z[zl - 4] + d);
        is_int(trpt_gunzip(ctx, z, zl, &out, &e), TRPT_E_GZIP, "ISIZE %+d", d);
        ok(strstr(e.message, "incorrect length check") != NULL, "says so: %s", e.message);
        z[zl - 4] = (unsigned char)(z[zl - 4] - d);
    }
    int bad = 0;
    for (size_t cut = 1; cut <= zl - 10; cut += cut < 64 ? 1 : 997)
        bad += trpt_gunzip(ctx, z, zl - cut, &out, &e) != TRPT_E_GZIP;
    ok(bad == 0, "truncated big members fail (%d did not)", bad);
    bad = 0;
    for (size_t at = 10; at < zl - 8; at += 1009) {
        z[at] ^= 0x40;
        int rc = trpt_gunzip(ctx, z, zl, &out, &e);
        bad += rc != TRPT_E_GZIP && !(rc == TRPT_OK && out.len == n);
        z[at] ^= 0x40;
    }
    ok(bad == 0, "flipped bits in a big member: TRPT_E_GZIP (%d otherwise)", bad);
    unsigned char *m = malloc(2 * zl);
    memcpy(m, z, zl);
    memcpy(m + zl, z, zl);
    ml = 2 * zl;
    is_int(trpt_gunzip(ctx, m, ml, &out, &e), TRPT_OK, "two big members");
    ok(out.len == 2 * n && memcmp(out.ptr, text, n) == 0 && memcmp(out.ptr + n, text, n) == 0,
       "both, in order");
    trpt_limits lim;
    trpt_limits_default(&lim);
    lim.max_decompressed = n - 1;
    trpt_ctx_set_limits(ctx, &lim);
    is_int(trpt_gunzip(ctx, z, zl, &out, &e), TRPT_E_LIMIT, "big member over max_decompressed");
    is_int(trpt_gunzip(ctx, z, zl, &out, &e), TRPT_E_LIMIT, "and again (state reset)");
    trpt_ctx_set_limits(ctx, NULL);
    is_int(trpt_gunzip(ctx, z, zl, &out, &e), TRPT_OK, "decodes after every error");
    ok(out.len == n && memcmp(out.ptr, text, n) == 0, "same bytes");
    trpt_ctx_free(ctx);
    ok(cnt.cur == 0, "everything freed (%zu bytes left)", cnt.cur);
    free(m);
    free(z);
    free(text);
}

/* Coverage review: a member header cut short (RFC 1952 §2.3) is truncated
 * data at the end of the input, not corrupt data at the member's start,
 * in the first member and in one that follows. */
static void test_truncated_header(trpt_ctx *ctx)
{
    trpt_str out;
    trpt_error e;
    size_t n;
    unsigned char *g = gz_fields(&n);
    /* FNAME starts at offset 20: cut in the name, past the 18-byte minimum */
    is_int(trpt_gunzip(ctx, g, 24, &out, &e), TRPT_E_GZIP, "header cut inside FNAME");
    ok(strcmp(e.message, "truncated gzip data") == 0, "says truncated: %s", e.message);
    is_int((long long)e.offset, 24, "at the end of the input");
    /* FEXTRA's 8 bytes cut: the flags say extra, the length runs past the end */
    is_int(trpt_gunzip(ctx, g, 19, &out, &e), TRPT_E_GZIP, "header cut inside FEXTRA");
    ok(strcmp(e.message, "truncated gzip data") == 0, "says truncated: %s", e.message);
    /* a second member of only its first 4 header bytes */
    size_t zl;
    unsigned char *z = gz(TEXT, strlen(TEXT), &zl);
    unsigned char *two = malloc(zl + 4);
    memcpy(two, z, zl);
    memcpy(two + zl, z, 4);
    is_int(trpt_gunzip(ctx, two, zl + 4, &out, &e), TRPT_E_GZIP, "second member header cut short");
    ok(strcmp(e.message, "truncated gzip data") == 0, "says truncated: %s", e.message);
    is_int((long long)e.offset, (long long)(zl + 4), "at the end of the input");
    free(two);
    free(z);
    free(g);
}

int main(void)
{
    (void)tap_slurp;
    (void)tap_real_corpus;
    counter cnt = { 0, 0, 0 };
    trpt_ctx *ctx = trpt_ctx_new(counting_alloc, &cnt, NULL);
    trpt_str out;
    trpt_error e;
    size_t zl;
    unsigned char *z = gz(TEXT, strlen(TEXT), &zl);

    is_int(trpt_gunzip(ctx, z, zl, &out, &e), TRPT_OK, "small member");
    is_str(out.ptr, out.len, TEXT, "round trip");
    ok(out.ptr[out.len] == '\0', "output is NUL-terminated");
    ok(ctx->inflater == NULL, "decoded by inflate.c: no zlib inflater");
    /* Its heap is the ctx and the arena (the bench's small.json.gz: 9.5 KB
     * with zlib's state, 1.5 KB now). */
    ok(cnt.cur < 1024, "%zu bytes of heap held (ctx and arena)", cnt.cur);
    size_t allocs = cnt.allocs;
    trpt_ctx_reset(ctx);
    is_int(trpt_gunzip(ctx, z, zl, &out, &e), TRPT_OK, "second call");
    ok(cnt.allocs == allocs, "no allocation on reuse (%zu new)", cnt.allocs - allocs);

    /* Multi-member (RFC 1952 §2.2): concatenated output; ISIZE of the last
     * member is short, so the buffer must grow. These go the zlib way, whose
     * inflater the ctx then keeps. */
    size_t z2l;
    unsigned char *z2 = gz("second", 6, &z2l);
    unsigned char *mm = malloc(zl + z2l);
    memcpy(mm, z2, z2l);
    memcpy(mm + z2l, z, zl);
    is_int(trpt_gunzip(ctx, mm, zl + z2l, &out, &e), TRPT_OK, "two members");
    ok(out.len == 6 + strlen(TEXT) && memcmp(out.ptr, "second", 6) == 0 &&
           memcmp(out.ptr + 6, TEXT, strlen(TEXT)) == 0,
       "members concatenated");
    void *inflater = ctx->inflater;
    ok(inflater != NULL, "zlib inflater cached in the ctx");
    trpt_ctx_reset(ctx);
    allocs = cnt.allocs;
    is_int(trpt_gunzip(ctx, mm, zl + z2l, &out, &e), TRPT_OK, "two members again");
    ok(ctx->inflater == inflater, "same inflater reused");
    ok(cnt.allocs == allocs, "no allocation on reuse (%zu new)", cnt.allocs - allocs);
    free(mm);

    /* Every truncation fails cleanly. */
    int bad = 0;
    for (size_t cut = 0; cut < zl; cut++) {
        int rc = trpt_gunzip(ctx, z, cut, &out, &e);
        if (rc != TRPT_E_GZIP) bad++;
    }
    ok(bad == 0, "all %zu truncations give TRPT_E_GZIP (%d did not)", zl, bad);
    /* Every single-byte corruption fails cleanly or decodes (CRC catches most). */
    bad = 0;
    for (size_t i = 0; i < zl; i++) {
        unsigned char *c = malloc(zl);
        memcpy(c, z, zl);
        c[i] ^= 0xff;
        int rc = trpt_gunzip(ctx, c, zl, &out, &e);
        if (rc != TRPT_E_GZIP && rc != TRPT_OK) bad++;
        free(c);
    }
    ok(bad == 0, "byte flips give TRPT_E_GZIP or OK, nothing else");
    is_int(trpt_gunzip(ctx, z, zl, &out, &e), TRPT_OK, "inflater still good after errors");

    unsigned char *tg = malloc(zl + 3);
    memcpy(tg, z, zl);
    memcpy(tg + zl, "xyz", 3);
    is_int(trpt_gunzip(ctx, tg, zl + 3, &out, &e), TRPT_E_GZIP, "trailing garbage");
    ok(strstr(e.message, "trailing") != NULL, "says trailing: %s", e.message);
    free(tg);
    is_int(trpt_gunzip(ctx, TEXT, strlen(TEXT), &out, &e), TRPT_E_GZIP, "plain JSON is not gzip");
    is_int(trpt_gunzip(ctx, "\x1f\x8b", 2, &out, &e), TRPT_E_GZIP, "magic only");
    is_int(trpt_gunzip(NULL, z, zl, &out, &e), TRPT_E_ARG, "NULL ctx");
    is_int(trpt_gunzip(ctx, NULL, 5, &out, &e), TRPT_E_ARG, "NULL data");
    is_int(trpt_gunzip(ctx, z, zl, NULL, &e), TRPT_E_ARG, "NULL out");

    size_t ezl;
    unsigned char *ez = gz("", 0, &ezl);
    is_int(trpt_gunzip(ctx, ez, ezl, &out, &e), TRPT_OK, "empty member");
    is_int(out.len, 0, "empty output");
    free(ez);

    /* Lying ISIZE: a small file claiming 4 GiB must not allocate it. */
    unsigned char *lie = malloc(zl);
    memcpy(lie, z, zl);
    memset(lie + zl - 4, 0xff, 4);
    trpt_ctx_free(ctx);
    cnt = (counter){ 0, 0, 0 };
    ctx = trpt_ctx_new(counting_alloc, &cnt, NULL);
    is_int(trpt_gunzip(ctx, lie, zl, &out, &e), TRPT_E_GZIP, "ISIZE that lies (zlib checks it)");
    ok(cnt.peak < ((size_t)3 << 20), "peak %zu bytes, not 4 GiB", cnt.peak);
    free(lie);

    /* Bombs: 8 MiB of zeros is ~8 KiB of gzip, a ratio of ~1000. */
    size_t bn = (size_t)8 << 20, bzl;
    char *zeros = calloc(1, bn);
    unsigned char *bomb = gz(zeros, bn, &bzl);
    trpt_ctx_free(ctx);
    cnt = (counter){ 0, 0, 0 };
    ctx = trpt_ctx_new(counting_alloc, &cnt, NULL);
    is_int(trpt_gunzip(ctx, bomb, bzl, &out, &e), TRPT_E_LIMIT, "ratio bomb (default max_ratio 200)");
    ok(strstr(e.message, "max_ratio") != NULL, "names max_ratio: %s", e.message);
    ok(cnt.peak < ((size_t)4 << 20), "stopped at the cap: peak %zu bytes", cnt.peak);
    trpt_limits lim;
    trpt_limits_default(&lim);
    lim.max_ratio = 0; /* off */
    lim.max_decompressed = (size_t)4 << 20;
    trpt_ctx_set_limits(ctx, &lim);
    is_int(trpt_gunzip(ctx, bomb, bzl, &out, &e), TRPT_E_LIMIT, "over max_decompressed");
    ok(strstr(e.message, "max_decompressed") != NULL, "names max_decompressed: %s", e.message);
    lim.max_decompressed = bn;
    trpt_ctx_set_limits(ctx, &lim);
    is_int(trpt_gunzip(ctx, bomb, bzl, &out, &e), TRPT_OK, "exactly max_decompressed is fine");
    ok(out.len == bn, "all %zu bytes", bn);
    lim.max_decompressed = bn - 1;
    trpt_ctx_set_limits(ctx, &lim);
    is_int(trpt_gunzip(ctx, bomb, bzl, &out, &e), TRPT_E_LIMIT, "one byte over max_decompressed");
    /* The first MiB is free of the ratio check. */
    trpt_limits_default(&lim);
    trpt_ctx_set_limits(ctx, &lim);
    size_t mzl;
    unsigned char *mib = gz(zeros, (size_t)1 << 20, &mzl);
    is_int(trpt_gunzip(ctx, mib, mzl, &out, &e), TRPT_OK, "1 MiB of zeros passes the ratio check");
    lim.max_input = mzl - 1;
    trpt_ctx_set_limits(ctx, &lim);
    is_int(trpt_gunzip(ctx, mib, mzl, &out, &e), TRPT_E_LIMIT, "max_input");
    free(mib);
    free(bomb);
    free(zeros);
    free(z);
    free(z2);
    trpt_ctx_free(ctx);
    ok(cnt.cur == 0, "everything freed (%zu bytes left)", cnt.cur);

    /* Security review: zlib's frees reach the allocator with the real osize. */
    size_t wrong = 0;
    ctx = trpt_ctx_new(osize_checking_alloc, &wrong, NULL);
    {
        size_t zn;
        unsigned char *zz = gz(TEXT, sizeof TEXT - 1, &zn);
        int rc = trpt_gunzip(ctx, zz, zn, &out, NULL);
        ok(rc == TRPT_OK && out.len == sizeof TEXT - 1, "gunzip with an osize-checking allocator");
        free(zz);
    }
    trpt_ctx_free(ctx);
    is_int(wrong, 0, "every free and realloc passes the block's size as osize");
    ctx = trpt_ctx_new(NULL, NULL, NULL);
    test_header_and_trailer(ctx);
    test_truncated_header(ctx);
    trpt_ctx_free(ctx);
    test_crc32();
    test_whole_member();
    return done_testing();
}
