/* Deflate decoding (RFC 1951) with its whole state on the stack, for gzip
 * members under 64 KiB (trpt_gunzip): zlib keeps a 7 KiB inflate state on
 * the heap and libdeflate an 11 KiB decompressor, several times a small
 * report, and both for the ctx's lifetime. The output is the caller's
 * buffer of the size the gzip trailer gives, so there is no window: a
 * match copies from the output itself.
 *
 * Lookups go through a table of the next LBITS (literal/length) or DBITS
 * (distance) bits; longer codes, rare in small reports, are decoded bit by
 * bit from the canonical code counts. The decoder refuses what zlib
 * refuses (invalid block type, LEN/NLEN mismatch, too many symbols,
 * over-subscribed codes, repeat without a previous length, missing
 * end-of-block code, codes 286-287 and 30-31, distances too far back) and
 * also every incomplete code, which zlib takes in one corner case: there
 * the caller's zlib pass decides. */
#include "inflate.h"

#define LBITS 9
#define DBITS 7
#define CBITS 7 /* code length codes are at most 7 bits: all in the table */

typedef struct huff {
    uint16_t count[16]; /* codes of each length */
    uint16_t sym[288];  /* symbols in canonical order: by length, then value */
} huff;

typedef struct bits {
    const unsigned char *p, *end;
    uint64_t buf; /* bits above cnt may hold the next input bits already */
    unsigned cnt;
    size_t pad; /* zero bytes fed past the end (a truncated stream uses them) */
} bits;

static inline uint64_t le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* At least 56 bits in buf afterwards. Near the end, zeros stand in for the
 * missing bytes; trpt__inflate_small then finds that it used them. */
static inline void refill(bits *b)
{
    if (TRPT_LIKELY(b->end - b->p >= 8)) {
        b->buf |= le64(b->p) << b->cnt;
        b->p += (63 - b->cnt) >> 3;
        b->cnt |= 56;
        return;
    }
    while (b->cnt <= 56) {
        if (b->p < b->end) b->buf |= (uint64_t)*b->p++ << b->cnt;
        else b->pad++;
        b->cnt += 8;
    }
}

static inline unsigned take(bits *b, unsigned n) /* n <= cnt */
{
    unsigned v = (unsigned)(b->buf & (((uint64_t)1 << n) - 1));
    b->buf >>= n;
    b->cnt -= n;
    return v;
}

/* Canonical code from code lengths: 0, or -1 for a code that is empty,
 * over-subscribed or incomplete. fast[] maps the next fbits input bits to
 * (length << 9 | symbol), 0 where the code is longer. */
static int build(huff *h, uint16_t *fast, unsigned fbits, const unsigned char *lens, unsigned n)
{
    memset(h->count, 0, sizeof h->count);
    for (unsigned i = 0; i < n; i++) h->count[lens[i]]++;
    if (h->count[0] == n) return -1;
    int left = 1;
    for (unsigned len = 1; len < 16; len++) {
        left = (left << 1) - h->count[len];
        if (left < 0) return -1;
    }
    if (left) return -1;
    unsigned offs[16];
    offs[1] = 0;
    for (unsigned len = 1; len < 15; len++) offs[len + 1] = offs[len] + h->count[len];
    for (unsigned i = 0; i < n; i++)
        if (lens[i]) h->sym[offs[lens[i]]++] = (uint16_t)i;
    /* A complete code whose codes all fit the table writes every entry. */
    unsigned longer = 0;
    for (unsigned len = fbits + 1; len < 16; len++) longer += h->count[len];
    if (longer) memset(fast, 0, sizeof *fast << fbits);
    /* Codes go in MSB first and the table is indexed LSB first: count in
     * bit-reversed form (a longer length appends a 0, which leaves it be). */
    unsigned rev = 0, k = 0;
    for (unsigned len = 1; len <= fbits; len++)
        for (unsigned c = h->count[len]; c; c--, k++) {
            uint16_t e = (uint16_t)(len << 9 | h->sym[k]);
            for (unsigned r = rev; r < 1u << fbits; r += 1u << len) fast[r] = e;
            unsigned bit = 1u << (len - 1);
            while (rev & bit) bit >>= 1;
            rev = (rev & (bit - 1)) | bit;
        }
    return 0;
}

/* A code longer than the table's bits, one bit at a time from in (15 bits
 * or more there): the symbol, with its length in *len; -1 if none (not
 * reached with a complete code). */
static int decode_slow(const huff *h, uint64_t in, unsigned *len)
{
    int code = 0, first = 0, index = 0;
    for (unsigned n = 1; n < 16; n++) {
        code |= (int)(in & 1);
        in >>= 1;
        int count = h->count[n];
        if (code - count < first) {
            *len = n;
            return h->sym[index + (code - first)];
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    *len = 0;
    return -1;
}

/* The callers keep their bits in a local copy: their output stores are
 * unsigned char, which may alias anything the compiler sees in memory. */
static inline int decode(bits *b, const huff *h, const uint16_t *fast, unsigned fbits)
{
    unsigned e = fast[b->buf & ((1u << fbits) - 1)], len;
    if (TRPT_LIKELY(e)) {
        take(b, e >> 9);
        return (int)(e & 511);
    }
    int sym = decode_slow(h, b->buf, &len);
    take(b, len);
    return sym;
}

static const uint16_t len_base[29] = { 3,  4,  5,  6,  7,  8,  9,  10,  11,  13,
                                       15, 17, 19, 23, 27, 31, 35, 43,  51,  59,
                                       67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                       2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1,    2,    3,    4,    5,    7,     9,     13,
                                        17,   25,   33,   49,   65,   97,    129,   193,
                                        257,  385,  513,  769,  1025, 1537,  2049,  3073,
                                        4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                        6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };
static const uint8_t clen_order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                        11, 4, 12, 3, 13, 2, 14, 1, 15 };

typedef struct tables {
    huff lit, dist;
    uint16_t lfast[1 << LBITS], dfast[1 << DBITS];
} tables;

/* RFC 1951 §3.2.6: lengths 8/9/7/8 and 5 for all 32 distance codes (the
 * two unused ones, 30 and 31, are refused when they occur, as zlib does). */
static void fixed_tables(tables *t)
{
    unsigned char lens[288];
    memset(lens, 8, 144);
    memset(lens + 144, 9, 112);
    memset(lens + 256, 7, 24);
    memset(lens + 280, 8, 8);
    (void)build(&t->lit, t->lfast, LBITS, lens, 288);
    memset(lens, 5, 32);
    (void)build(&t->dist, t->dfast, DBITS, lens, 32);
}

/* RFC 1951 §3.2.7: the code length code, then the literal/length and
 * distance code lengths as one sequence (repeats may cross between them). */
static int dynamic_tables(bits *b, tables *t)
{
    refill(b);
    unsigned nlen = take(b, 5) + 257, ndist = take(b, 5) + 1, ncode = take(b, 4) + 4;
    if (nlen > 286 || ndist > 30) return -1;
    unsigned char lens[286 + 30];
    memset(lens, 0, 19);
    for (unsigned i = 0; i < ncode; i++) {
        if (b->cnt < 3) refill(b);
        lens[clen_order[i]] = (unsigned char)take(b, 3);
    }
    huff ch;
    uint16_t cfast[1 << CBITS];
    if (build(&ch, cfast, CBITS, lens, 19)) return -1;
    for (unsigned i = 0; i < nlen + ndist;) {
        refill(b);
        int sym = decode(b, &ch, cfast, CBITS);
        if (sym < 0) return -1;
        if (sym < 16) {
            lens[i++] = (unsigned char)sym;
            continue;
        }
        unsigned char val = 0;
        unsigned rep;
        if (sym == 16) {
            if (i == 0) return -1;
            val = lens[i - 1];
            rep = 3 + take(b, 2);
        } else if (sym == 17) {
            rep = 3 + take(b, 3);
        } else {
            rep = 11 + take(b, 7);
        }
        if (rep > nlen + ndist - i) return -1;
        memset(lens + i, val, rep);
        i += rep;
    }
    if (lens[256] == 0) return -1; /* no end-of-block code */
    if (build(&t->lit, t->lfast, LBITS, lens, nlen)) return -1;
    if (build(&t->dist, t->dfast, DBITS, lens + nlen, ndist)) return -1;
    return 0;
}

/* One compressed block into out[*o..outlen): 0, or -1. */
static int inflate_block(bits *bp, const tables *t, unsigned char *out, size_t *o, size_t outlen)
{
    bits local = *bp, *b = &local;
    size_t at = *o;
    for (;;) {
        refill(b); /* 56 bits: a length code and a distance code with their extra bits fit */
        int sym = decode(b, &t->lit, t->lfast, LBITS);
        if (TRPT_LIKELY((unsigned)sym < 256)) {
            if (TRPT_UNLIKELY(at == outlen)) return -1;
            out[at++] = (unsigned char)sym;
            continue;
        }
        if (sym == 256) break;
        sym -= 257;
        if (sym < 0 || sym >= 29) return -1; /* 286, 287 (fixed code), or -1 */
        size_t len = len_base[sym] + take(b, len_extra[sym]);
        int ds = decode(b, &t->dist, t->dfast, DBITS);
        if (ds < 0 || ds >= 30) return -1;
        size_t dist = dist_base[ds] + take(b, dist_extra[ds]);
        if (dist > at || len > outlen - at) return -1;
        unsigned char *dst = out + at;
        const unsigned char *src = dst - dist;
        at += len;
        if (dist >= 8 && outlen - at >= 8) {
            /* 8 bytes a step may write up to 7 past the match: there is room. */
            do {
                memcpy(dst, src, 8);
                dst += 8;
                src += 8;
            } while (len > 8 && (len -= 8, 1));
        } else {
            while (len--) *dst++ = *src++;
        }
    }
    *o = at;
    *bp = local;
    return 0;
}

int trpt__inflate_small(const unsigned char *in, size_t n, unsigned char *out, size_t outlen,
                        size_t *used)
{
    bits b = { in, in + n, 0, 0, 0 };
    tables t;
    size_t o = 0;
    unsigned final;
    do {
        refill(&b);
        final = take(&b, 1);
        unsigned type = take(&b, 2);
        if (type == 0) { /* stored (§3.2.4): byte-aligned LEN, NLEN, then LEN bytes */
            take(&b, b.cnt & 7);
            refill(&b);
            unsigned len = take(&b, 16), nlen = take(&b, 16);
            if (len != (~nlen & 0xffffu)) return 0;
            size_t held = b.cnt >> 3; /* whole bytes already pulled into buf */
            if (held < b.pad) return 0;
            b.p -= held - b.pad;
            b.buf = 0;
            b.cnt = 0;
            b.pad = 0;
            if (len > (size_t)(b.end - b.p) || len > outlen - o) return 0;
            if (len) memcpy(out + o, b.p, len);
            b.p += len;
            o += len;
        } else if (type == 1) {
            fixed_tables(&t);
            if (inflate_block(&b, &t, out, &o, outlen)) return 0;
        } else if (type == 2) {
            if (dynamic_tables(&b, &t) || inflate_block(&b, &t, out, &o, outlen)) return 0;
        } else {
            return 0;
        }
    } while (!final);
    /* Bits used, against the bits there were: zeros fed past the end mean
     * a truncated stream. */
    size_t pulled = (size_t)(b.p - in) + b.pad;
    if (pulled * 8 - b.cnt > n * 8 || o != outlen) return 0;
    *used = (pulled * 8 - b.cnt + 7) / 8;
    return 1;
}
