/* JSON lexer shared by the schema-directed report parser (report.c), the
 * generic validating skipper (json.c) and the Lua binding's decoder of
 * unknown members. No DOM: callers walk the buffer and take slices. */
#ifndef TRPT_JSON_H
#define TRPT_JSON_H

#include "internal.h"
#include "utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Recursion is bounded by limits.max_depth, and by this hard cap whatever
 * the caller configures: the skipper recurses on the C stack. */
#define TRPT_JSON_DEPTH_HARD 512
/* Path frames kept for error messages; deeper frames render as "...". */
#define TRPT_JSON_PATH_FRAMES 64
/* I-JSON (RFC 7493 §2.2): integers must stay exactly representable in a double. */
#define TRPT_JSON_INT_MAX ((int64_t)9007199254740991) /* 2^53 - 1 */

/* len of a frame that names nothing yet (an object before its first member). */
#define TRPT_JFRAME_NONE ((size_t)-1)

typedef struct trpt_jframe {
    const char *key;     /* member name (decoded), or NULL for an array index */
    size_t len;          /* key length, or the array index */
} trpt_jframe;

typedef struct trpt_json {
    const char *p;               /* cursor */
    const char *end;
    const char *base;            /* start of the document, for offsets */
    trpt_ctx *ctx;
    trpt_error *err;
    unsigned max_depth;          /* min(limits.max_depth, TRPT_JSON_DEPTH_HARD) */
    size_t max_string;
    size_t max_elements;
    unsigned depth;              /* frames in use in path[] */
    trpt_jframe path[TRPT_JSON_PATH_FRAMES];
    trpt_vec keys;               /* scratch (trpt_str) for duplicate-key checks */
} trpt_json;

TRPT_HIDDEN void trpt__json_init(trpt_json *j, trpt_ctx *ctx, const char *buf, size_t len,
                                 trpt_error *err);
TRPT_HIDDEN void trpt__json_done(trpt_json *j);

/* Is s a JSON-encoded array of strings ("[" first, strings, "]" last)?
 * Each string, decoded, goes to each(ud, str) unless each is NULL; each
 * returns 0 or an error that stops the scan (then returned). 0 with
 * *is_array set otherwise. */
TRPT_HIDDEN int trpt__json_string_array(trpt_ctx *ctx, trpt_str s,
                                        int (*each)(void *ud, trpt_str str), void *ud,
                                        int *is_array);

/* Renders the current path ("policies[0].policy.policy-type") plus an
 * optional last member name into buf (always NUL-terminated). */
TRPT_HIDDEN void trpt__json_path(const trpt_json *j, const char *last, char *buf, size_t cap);

/* Fails with code at the cursor, naming the current path. */
TRPT_HIDDEN int trpt__json_fail(trpt_json *j, int code, const char *rfc, const char *last,
                                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* String at the cursor (which must be '"'): validates escapes and UTF-8,
 * enforces max_string, and sets *out to a slice of the input when there
 * were no escapes, else to a decoded copy in the arena. */
TRPT_HIDDEN int trpt__json_string_slow(trpt_json *j, trpt_str *out);

/* Validates one value of any type at the cursor and moves past it (depth,
 * element counts, duplicate keys, 2^53 integers, UTF-8 all checked). */
TRPT_HIDDEN int trpt__json_skip(trpt_json *j);

/* Number at the cursor: an integer within ±(2^53-1) sets *is_int and *v;
 * any other valid JSON number leaves *is_int 0. */
TRPT_HIDDEN int trpt__json_number(trpt_json *j, int *is_int, int64_t *v);

/* Fails with TRPT_E_DUPLICATE if two of keys[0..n) are equal (reorders keys). */
TRPT_HIDDEN int trpt__json_check_dups(trpt_json *j, trpt_str *keys, size_t n);

/* Validates a whole document (one value, surrounding whitespace only) under
 * the ctx limits. Used by the oracle test and the fuzzers. */
TRPT_HIDDEN int trpt__json_validate(trpt_ctx *ctx, const char *buf, size_t len, trpt_error *err);

/* Decodes the escapes of an already validated string body raw[0..n) into
 * out (room for n bytes); returns the decoded length. */
TRPT_HIDDEN size_t trpt__json_unescape(const char *raw, size_t n, char *out);

/* ---------------------------------------------------------------- inline */

static inline void trpt__json_ws(trpt_json *j)
{
    const char *p = j->p, *e = j->end;
    while (p < e && (unsigned char)*p <= ' ') {
        if (*p == '\n' || *p == '\r') {
            /* Pretty-printed reports: skip the indentation after a line
             * break 8 bytes at a time. */
            p++;
            uint64_t w;
            while (e - p >= 8 && (memcpy(&w, p, 8), w == 0x2020202020202020ull)) p += 8;
            continue;
        }
        if (*p != ' ' && *p != '\t') break;
        p++;
    }
    j->p = p;
}

/* First byte in [p, e) that a string scan must look at: '"', '\\', a
 * control character or a non-ASCII byte; e when none. */
static inline const char *trpt__json_scan(const char *p, const char *e)
{
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
    while (e - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compare: bytes >= 0x80 are negative, so "< 0x20" flags both
         * control characters and non-ASCII bytes in one instruction. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
                                 _mm_cmplt_epi8(x, sp));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask) return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return p;
        p++;
    }
    return p;
}

/* Opens a container: checks max_depth and pushes a path frame (key for an
 * object member, NULL for an array index; updated as the walk goes on). */
static inline int trpt__json_enter(trpt_json *j, const char *key, size_t len)
{
    if (TRPT_UNLIKELY(j->depth >= j->max_depth))
        return trpt__json_fail(j, TRPT_E_LIMIT, NULL, NULL, "nesting deeper than max_depth (%u)",
                               j->max_depth);
    if (j->depth < TRPT_JSON_PATH_FRAMES) j->path[j->depth] = (trpt_jframe){ key, len };
    j->depth++;
    return TRPT_OK;
}

/* Sets the innermost frame (member name or array index). */
static inline void trpt__json_frame(trpt_json *j, const char *key, size_t len)
{
    unsigned f = j->depth - 1;
    if (f < TRPT_JSON_PATH_FRAMES) j->path[f] = (trpt_jframe){ key, len };
}

/* String at the cursor ('"'): the common case (plain ASCII, no escapes)
 * inline, everything else in trpt__json_string_slow. */
static inline int trpt__json_string(trpt_json *j, trpt_str *out)
{
    const char *s = j->p + 1;
    const char *q = trpt__json_scan(s, j->end);
    if (TRPT_LIKELY(q < j->end && *q == '"' && (size_t)(q - s) <= j->max_string)) {
        out->ptr = s;
        out->len = (size_t)(q - s);
        j->p = q + 1;
        return TRPT_OK;
    }
    return trpt__json_string_slow(j, out);
}

#endif
