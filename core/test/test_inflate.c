/* inflate.c (the stack-only deflate decoder for small gzip members) against
 * zlib: every stream zlib's deflate makes, at every level and strategy,
 * decodes to the same bytes; wrong output sizes and truncations are
 * refused; hand-made streams that zlib rejects (each of its checks) are
 * rejected too, and the ones it gives up on but zlib takes (an incomplete
 * code) still decode through trpt_gunzip's zlib path. */
#include "tap.h"
#include "internal.h"
#include "crc32.h"
#include "inflate.h"
#include "testutil.h"

#include <zlib.h>
#ifdef TRPT_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

/* zlib's raw inflate of in[0..n) into at most cap bytes: the length, or -1
 * when zlib rejects the stream (or it does not end, or does not fit). */
static long zlib_raw(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return -2;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int zr = inflate(&z, Z_FINISH);
    long got = zr == Z_STREAM_END ? (long)z.total_out : -1;
    inflateEnd(&z);
    return got;
}

static uint32_t rnd_state = 2463534242u;
static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

/* Inputs of several kinds: random bytes, JSON-like text, runs, a skewed
 * alphabet (Huffman codes up to 15 bits, past the lookup tables). */
static void fill(unsigned char *b, size_t n, int kind)
{
    static const char json[] = "{\"abcdefgh0123456789.:, }\n";
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rnd();
        switch (kind) {
        case 0: b[i] = (unsigned char)r; break;
        case 1: b[i] = (unsigned char)json[r % (sizeof json - 1)]; break;
        case 2: b[i] = (unsigned char)(i / (1 + r % 40 + (i % 7))); break;
        default: b[i] = (unsigned char)__builtin_ctz(r | 0x80000000u) * 7; break;
        }
    }
}

static void test_against_zlib(void)
{
    size_t cap = 70000;
    unsigned char *src = malloc(cap), *comp = malloc(2 * cap + 1024), *out = malloc(cap + 1);
    int bad = 0, bad_size = 0, bad_trunc = 0, n_ok = 0;
    static const int strategies[] = { Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE,
                                      Z_FIXED };
    for (int it = 0; it < 1500; it++) {
        size_t n = it < 1000 ? rnd() % 3000 : rnd() % cap;
        fill(src, n, it % 4);
        int level = it % 10, strategy = strategies[(it / 10) % 5];
        size_t cn = tu_deflate(src, n, comp, 2 * cap + 1024, level, -MAX_WBITS, strategy);
        size_t used = 0;
        if (trpt__inflate_small(comp, cn, out, n, &used) && used == cn &&
            memcmp(out, src, n) == 0)
            n_ok++;
        else if (bad++ < 3)
            printf("# n=%zu level=%d strategy=%d: not as zlib\n", n, level, strategy);
        if (n && trpt__inflate_small(comp, cn, out, n - 1, &used)) bad_size++;
        if (trpt__inflate_small(comp, cn, out, n + 1, &used)) bad_size++;
        for (size_t cut = 1; cut <= cn && cut <= 12; cut++)
            if (trpt__inflate_small(comp, cn - cut, out, n, &used)) bad_trunc++;
    }
    ok(bad == 0, "%d streams of zlib's deflate (levels 0-9, every strategy) decode as zlib's "
                 "(%d differ)", n_ok, bad);
    ok(bad_size == 0, "an output size one off either way is refused (%d taken)", bad_size);
    ok(bad_trunc == 0, "the last 1-12 bytes cut: refused (%d taken)", bad_trunc);
    free(src);
    free(comp);
    free(out);
}

/* ------------------------------------------------ hand-made streams */

typedef struct bw {
    unsigned char b[4096];
    size_t n;
    unsigned bit;
} bw;

static void put(bw *w, unsigned v, unsigned nbits) /* LSB first, as deflate packs */
{
    for (unsigned i = 0; i < nbits; i++) {
        if (w->bit == 0) w->b[w->n++] = 0;
        w->b[w->n - 1] |= (unsigned char)(((v >> i) & 1) << w->bit);
        w->bit = (w->bit + 1) & 7;
    }
}

/* Canonical codes from lengths (RFC 1951 §3.2.2), for writing symbols. */
static void codes(const unsigned char *lens, unsigned n, unsigned *code)
{
    unsigned count[16] = { 0 }, next[16];
    for (unsigned i = 0; i < n; i++) count[lens[i]]++;
    count[0] = 0;
    unsigned c = 0;
    for (unsigned len = 1; len < 16; len++) next[len] = c = (c + count[len - 1]) << 1;
    for (unsigned i = 0; i < n; i++)
        if (lens[i]) code[i] = next[lens[i]]++;
}

static void put_msb(bw *w, unsigned code, unsigned len)
{
    for (unsigned i = len; i-- > 0;) put(w, (code >> i) & 1, 1);
}

static void put_sym(bw *w, const unsigned char *lens, const unsigned *code, unsigned sym)
{
    put_msb(w, code[sym], lens[sym]); /* Huffman codes go MSB first */
}

/* A final dynamic block header: code length code of 4 bits for 0-15 (and
 * 16 with length `rep16` when asked, to write a repeat first). */
static void dyn_header(bw *w, const unsigned char *lit, unsigned nlit, const unsigned char *dist,
                       unsigned ndist, int rep16_first)
{
    static const unsigned char order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                             11, 4, 12, 3, 13, 2, 14, 1, 15 };
    unsigned char cl[19] = { 0 };
    /* 0-15 at 4 bits fill the code; with 16 too: 0-14 at 4, 15 and 16 at 5. */
    for (int i = 0; i < 16; i++) cl[i] = 4;
    if (rep16_first) cl[15] = cl[16] = 5;
    unsigned ccode[19];
    codes(cl, 19, ccode);
    put(w, 1, 1); /* BFINAL */
    put(w, 2, 2); /* dynamic */
    put(w, nlit - 257, 5);
    put(w, ndist - 1, 5);
    put(w, 19 - 4, 4);
    for (int i = 0; i < 19; i++) put(w, cl[order[i]], 3);
    if (rep16_first) {
        put_sym(w, cl, ccode, 16);
        put(w, 0, 2);
    }
    for (unsigned i = 0; i < nlit; i++) put_sym(w, cl, ccode, lit[i]);
    for (unsigned i = 0; i < ndist; i++) put_sym(w, cl, ccode, dist[i]);
}

/* Both decoders on one stream: 1 when they agree (zlib's length, or both
 * refuse); *mine, *theirs what each gave. */
static int agree(const bw *w, size_t outlen, int *mine, long *theirs)
{
    unsigned char a[1024], b[1024];
    size_t used;
    *theirs = zlib_raw(w->b, w->n, b, sizeof b);
    *mine = trpt__inflate_small(w->b, w->n, a, outlen, &used);
    if (*mine) return *theirs == (long)outlen && memcmp(a, b, outlen) == 0 && used == w->n;
    return 1;
}

static void test_hand_made(void)
{
    unsigned char lit[288], dist[32];
    unsigned lcode[288], dcode[32];
    int mine = 0;
    long theirs = 0;

    /* A valid code with lengths up to 15 (past both lookup tables): 'a' at
     * 1 bit, then 2, 3, ... 14 bits for 'b'..'n', 15 bits for 'o' and 256. */
    memset(lit, 0, sizeof lit);
    for (int i = 0; i < 14; i++) lit['a' + i] = (unsigned char)(i + 1);
    lit['o'] = 15;
    lit[256] = 15;
    memset(dist, 0, sizeof dist);
    dist[0] = dist[1] = 1;
    bw w = { .n = 0 };
    dyn_header(&w, lit, 257, dist, 2, 0);
    codes(lit, 257, lcode);
    codes(dist, 2, dcode);
    const char *text = "abcdefghijklmnoonmlkjihgfedcba";
    for (const char *p = text; *p; p++) put_sym(&w, lit, lcode, (unsigned char)*p);
    put_sym(&w, lit, lcode, 256);
    int same = agree(&w, strlen(text), &mine, &theirs);
    ok(same && mine == 1,
       "codes of 1-15 bits: decoded as zlib does (mine %d, zlib %ld)", mine, theirs);

    /* Each rejection zlib makes, made by hand from a valid stream (kinds 0
     * and 12, which both must decode: so each case fails for its reason). */
    struct {
        const char *what;
        int kind;
    } cases[] = {
        { "literal/length code incomplete", 1 },  { "over-subscribed", 2 },
        { "no end-of-block code", 3 },            { "287 literal/length codes", 4 },
        { "repeat with no previous length", 5 },  { "distance too far back", 6 },
        { "fixed code: length symbol 286", 7 },   { "fixed code: distance symbol 30", 8 },
        { "stored: LEN and NLEN disagree", 9 },   { "block type 3", 10 },
        { "31 distance codes", 11 },              { "control: valid dynamic block", 0 },
        { "control: valid fixed block", 12 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        bw v = { .n = 0 };
        unsigned char l[288], d[32];
        memset(l, 0, sizeof l);
        memset(d, 0, sizeof d);
        for (int i = 0; i < 256; i++) l[i] = 9; /* 256 x 9 bits + 2 x 2 bits: complete */
        l[256] = l[257] = 2;
        d[0] = d[1] = 1;
        unsigned nlit = 258, ndist = 2;
        int k = cases[c].kind;
        if (k == 1) l[257] = 0;
        if (k == 2) l[257] = 1;
        if (k == 3) l[256] = 0, l[258] = 2, nlit = 259;
        if (k == 4) nlit = 287, l[257] = 9, l[258] = 9, l[259] = 0; /* lengths aside: too many */
        if (k == 11) ndist = 31;
        if (k <= 6 || k == 11) {
            dyn_header(&v, l, nlit, d, ndist, k == 5);
            unsigned lc[288], dc[32];
            codes(l, nlit, lc);
            codes(d, ndist, dc);
            put_sym(&v, l, lc, 'x');
            if (k == 6) {
                put_sym(&v, l, lc, 257); /* length 3 */
                put_sym(&v, d, dc, 1);   /* distance 2, one byte out so far */
            }
            put_sym(&v, l, lc, 256);
        } else if (k == 7 || k == 8 || k == 12) { /* RFC 1951 §3.2.6 codes, MSB first */
            put(&v, 1, 1);
            put(&v, 1, 2);
            put_msb(&v, 0x30 + 'x', 8);
            if (k == 7) {
                put_msb(&v, 0xc0 + (286 - 280), 8);
            } else if (k == 8) {
                put_msb(&v, 257 - 256, 7); /* length 3 */
                put_msb(&v, 30, 5);
            }
            put_msb(&v, 0, 7); /* 256 */
        } else if (k == 9) {
            put(&v, 1, 1);
            put(&v, 0, 2);
            v.bit = 0;
            v.b[v.n++] = 1, v.b[v.n++] = 0, v.b[v.n++] = 0xff, v.b[v.n++] = 0xff; /* 1, not ~1 */
            v.b[v.n++] = 'x';
        } else {
            put(&v, 1, 1);
            put(&v, 3, 2);
            put(&v, 0, 5);
        }
        int agreed = agree(&v, 1, &mine, &theirs);
        if (k == 0 || k == 12)
            ok(agreed && mine && theirs == 1, "%s: decoded by both (mine %d, zlib %ld)",
               cases[c].what, mine, theirs);
        else
            ok(agreed && !mine && theirs < 0, "%s: refused like zlib (mine %d, zlib %ld)",
               cases[c].what, mine, theirs);
    }

    /* zlib takes one incomplete code: a single distance code of one bit.
     * inflate.c gives up on it, and trpt_gunzip's zlib pass decodes it. */
    bw v = { .n = 0 };
    unsigned char l[288], d[2] = { 1, 0 };
    for (int i = 0; i < 256; i++) l[i] = 9;
    l[256] = l[257] = 2;
    dyn_header(&v, l, 258, d, 1, 0);
    unsigned lc[288], dc[1];
    codes(l, 258, lc);
    codes(d, 1, dc);
    put_sym(&v, l, lc, 'x');
    put_sym(&v, l, lc, 257);
    put_sym(&v, d, dc, 0); /* distance 1: "xxxx" */
    put_sym(&v, l, lc, 256);
    unsigned char outb[16];
    size_t used;
    ok(zlib_raw(v.b, v.n, outb, sizeof outb) == 4 && memcmp(outb, "xxxx", 4) == 0,
       "single one-bit distance code: zlib decodes it");
    ok(!trpt__inflate_small(v.b, v.n, outb, 4, &used), "inflate.c leaves it to zlib");
    unsigned char gzm[10 + sizeof v.b + 8] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
    size_t gn = 10;
    memcpy(gzm + gn, v.b, v.n);
    gn += v.n;
    uint32_t crc = trpt__crc32(0, "xxxx", 4);
    for (int i = 0; i < 4; i++) gzm[gn++] = (unsigned char)(crc >> (8 * i));
    gzm[gn++] = 4, gzm[gn++] = 0, gzm[gn++] = 0, gzm[gn++] = 0;
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_str out;
    trpt_error e;
    is_int(trpt_gunzip(ctx, gzm, gn, &out, &e), TRPT_OK, "trpt_gunzip decodes it (zlib path)");
    ok(out.len == 4 && memcmp(out.ptr, "xxxx", 4) == 0, "to the same bytes");
    trpt_ctx_free(ctx);
}

/* libdeflate, which decodes members of 64 KiB and more where it is built
 * in, is laxer than zlib in places no encoder goes (fixed-code symbols 286
 * and 287, distance symbols 30 and 31, HLIT and HDIST past their maxima, a
 * one-bit code answering to both bits); README, Limits. Here a fixed-code
 * length symbol 286 after 65,533 bytes, which libdeflate reads as 258: the
 * zlib-only build refuses the member, a libdeflate build answers as
 * libdeflate's own gzip decoding does. */
static void test_libdeflate_lax(void)
{
    bw v = { .n = 0 };
    put(&v, 0, 1); /* a fixed block, not final: 'a', then 254 x (258, 1) */
    put(&v, 1, 2);
    put_msb(&v, 0x30 + 'a', 8);
    for (int i = 0; i < 254; i++) {
        put_msb(&v, 0xc0 + (285 - 280), 8);
        put_msb(&v, 0, 5);
    }
    put_msb(&v, 0, 7);
    put(&v, 1, 1); /* the final fixed block: symbol 286, distance 1 */
    put(&v, 1, 2);
    put_msb(&v, 0xc0 + (286 - 280), 8);
    put_msb(&v, 0, 5);
    put_msb(&v, 0, 7);
    enum { N = 65533 + 258 };
    static unsigned char want[N], outb[N + 1];
    memset(want, 'a', N);
    ok(zlib_raw(v.b, v.n, outb, sizeof outb) < 0, "zlib refuses fixed length symbol 286");
    static unsigned char gzm[10 + sizeof v.b + 8] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
    size_t gn = 10;
    memcpy(gzm + gn, v.b, v.n);
    gn += v.n;
    uint32_t crc = trpt__crc32(0, want, N);
    for (int i = 0; i < 4; i++) gzm[gn++] = (unsigned char)(crc >> (8 * i));
    for (int i = 0; i < 4; i++) gzm[gn++] = (unsigned char)((uint32_t)N >> (8 * i));
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_str out;
    trpt_error e;
    int rc = trpt_gunzip(ctx, gzm, gn, &out, &e);
#ifdef TRPT_HAVE_LIBDEFLATE
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t in_used = 0, out_len = 0;
    int lr = libdeflate_gzip_decompress_ex(d, gzm, gn, outb, sizeof outb, &in_used, &out_len);
    libdeflate_free_decompressor(d);
    int theirs_ok = lr == LIBDEFLATE_SUCCESS && in_used == gn;
    if (theirs_ok)
        ok(rc == TRPT_OK && out.len == out_len && memcmp(out.ptr, outb, out_len) == 0,
           "libdeflate build: decoded as libdeflate decodes it (%zu bytes)", out_len);
    else
        ok(rc == TRPT_E_GZIP, "libdeflate build: refused as libdeflate refuses it (%s)",
           trpt_code_name(rc));
#else
    is_int(rc, TRPT_E_GZIP, "zlib-only build: refused (%s)", rc ? e.message : "ok");
#endif
    trpt_ctx_free(ctx);
}

int main(void)
{
    (void)tap_slurp;
    (void)tap_real_corpus;
    test_against_zlib();
    test_hand_made();
    test_libdeflate_lax();
    return done_testing();
}
