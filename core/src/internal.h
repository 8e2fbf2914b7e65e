/* Internal helpers shared by the core sources. Not installed. */
#ifndef TRPT_INTERNAL_H
#define TRPT_INTERNAL_H

#include "trpt.h"
#include <stdarg.h>
#include <string.h>

#define TRPT_HIDDEN __attribute__((visibility("hidden")))
#define TRPT_LIKELY(x) __builtin_expect(!!(x), 1)
#define TRPT_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* 9999-12-31T23:59:59Z: the last instant with a 4-digit RFC 3339 year, the
 * end of the dates reports carry (report.c warns past it, the builder
 * writes nothing past it). */
#define TRPT_MAX_EPOCH INT64_C(253402300799)

/* RFC 8460 sections cited by the warnings and errors of the report parser,
 * the builder and the e-mail code (static strings), in one place so that
 * they cannot drift apart: §4 the report metadata (organization-name,
 * contact-info, report-id), §4.1 report time frame (the date-range), §4.2
 * delivery summary (the counts), §4.3 result types, §4.4 the JSON report
 * schema (the policy object, the failure-detail members and every member
 * not described in prose elsewhere). */
#define TRPT_RFC_METADATA  "RFC 8460 §4"
#define TRPT_RFC_TIMEFRAME "RFC 8460 §4.1"
#define TRPT_RFC_POLICY    "RFC 8460 §4.4"
#define TRPT_RFC_COUNTS    "RFC 8460 §4.2"
#define TRPT_RFC_RESULTS   "RFC 8460 §4.3"
#define TRPT_RFC_SCHEMA    "RFC 8460 §4.4"
#define TRPT_RFC_FILENAME  "RFC 8460 §5.1"
#define TRPT_RFC_DELIVERY  "RFC 8460 §5.3"
#define TRPT_RFC_JSON      "RFC 8259"
#define TRPT_RFC_DATETIME  "RFC 3339 §5.6"

struct trpt_ctx {
    trpt_alloc_fn alloc;
    void *ud;
    trpt_limits limits;
    struct trpt_chunk *chunks;   /* arena blocks, newest first */
    char *cur, *end;             /* bump region of the newest block */
    size_t bytes;                /* bytes held in chunks */
    void *inflater;              /* cached z_stream (gzip.c), NULL until used */
    void *deflater;              /* cached libdeflate decompressor (gzip.c), ditto */
    void (*inflater_free)(trpt_ctx *); /* frees both */
};

/* Raw allocation through the ctx allocator (not the arena). */
TRPT_HIDDEN void *trpt__mem(trpt_ctx *ctx, void *p, size_t osize, size_t nsize);

/* ctx.c: makes the arena's bump region hold at least n bytes, in one new
 * block of exactly n (rounded to 16) when it does not: parsers that can
 * estimate their output from the input length (report.c, gzip.c) get one
 * block of the right size instead of a doubling series from 4 KiB, which
 * a ctx reset then keeps whole. 0, or -1 when out of memory. */
TRPT_HIDDEN int trpt__ctx_reserve(trpt_ctx *ctx, size_t n);

/* Arena copy of s with a NUL terminator. */
TRPT_HIDDEN char *trpt__strdup(trpt_ctx *ctx, const char *s, size_t n);

/* Fills err (if any) and returns code. path may be NULL. */
TRPT_HIDDEN int trpt__fail(trpt_error *err, int code, size_t offset, const char *rfc,
                           const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The allocation failure: TRPT_E_NOMEM, "out of memory", no offset. */
static inline int trpt__nomem(trpt_error *err)
{
    return trpt__fail(err, TRPT_E_NOMEM, TRPT_NO_OFFSET, NULL, NULL, "out of memory");
}

/* ASCII character classes (locale-free, unlike <ctype.h>); c as unsigned char. */
static inline int trpt__is_alpha(int c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static inline int trpt__is_digit(int c) { return c >= '0' && c <= '9'; }
static inline int trpt__is_alnum(int c) { return trpt__is_alpha(c) || trpt__is_digit(c); }

/* Growable array in the ctx allocator (not the arena): for building lists
 * whose final size is unknown; trpt__vec_finish copies into the arena. An
 * optional first buffer (inl, inl_cap elements, the caller's: on its stack)
 * is used before any allocation, so small inputs need no heap for it. */
typedef struct trpt_vec {
    char *data;
    size_t len, cap;     /* in elements */
    size_t elem;
    void *inl;
    size_t inl_cap;
} trpt_vec;

TRPT_HIDDEN void *trpt__vec_push(trpt_ctx *ctx, trpt_vec *v);
TRPT_HIDDEN void *trpt__vec_finish(trpt_ctx *ctx, trpt_vec *v); /* arena copy; frees v */
TRPT_HIDDEN void trpt__vec_free(trpt_ctx *ctx, trpt_vec *v);

static inline int trpt__lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static inline int trpt__ieq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) return 0;
    for (size_t i = 0; i < an; i++)
        if (trpt__lower((unsigned char)a[i]) != trpt__lower((unsigned char)b[i])) return 0;
    return 1;
}

/* Domain names equal ignoring ASCII case and one trailing dot (RFC 4343);
 * an empty name equals nothing. */
static inline int trpt__dom_eq(trpt_str a, trpt_str b)
{
    if (a.len && a.ptr[a.len - 1] == '.') a.len--;
    if (b.len && b.ptr[b.len - 1] == '.') b.len--;
    return a.len && trpt__ieq(a.ptr, a.len, b.ptr, b.len);
}

/* a[0..n) == b[0..n) for the short names and values of the hot parse and
 * table-building loops: word loads inline, where memcmp with a run-time
 * length is a libc call per member (4-8% of Lua 5.4's parse_report on the
 * bench's medium report). */
static inline int trpt__eq(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    if (n >= 8) {
        uint64_t u, v;
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&u, x + i, 8);
            memcpy(&v, y + i, 8);
            if (u != v) return 0;
        }
        memcpy(&u, x + n - 8, 8); /* the last 8, overlapping the loop's */
        memcpy(&v, y + n - 8, 8);
        return u == v;
    }
    if (n >= 4) {
        uint32_t u, v, s, t;
        memcpy(&u, x, 4);
        memcpy(&v, y, 4);
        memcpy(&s, x + n - 4, 4);
        memcpy(&t, y + n - 4, 4);
        return u == v && s == t;
    }
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return 0;
    return 1;
}

#define TRPT_STR(lit) ((trpt_str){ (lit), sizeof(lit) - 1 })

#endif
