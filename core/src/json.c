/* JSON lexer slow paths and the generic validating skipper (RFC 8259). */
#include "json.h"
#include "report_internal.h"

#include <stdio.h>
#include <stdlib.h>

void trpt__json_init(trpt_json *j, trpt_ctx *ctx, const char *buf, size_t len, trpt_error *err)
{
    const trpt_limits *lim = trpt_ctx_limits(ctx);
    j->p = j->base = buf;
    j->end = buf + len;
    j->ctx = ctx;
    j->err = err;
    j->max_depth = lim->max_depth < TRPT_JSON_DEPTH_HARD ? lim->max_depth : TRPT_JSON_DEPTH_HARD;
    j->max_string = lim->max_string;
    j->max_elements = lim->max_elements;
    j->depth = 0;
    j->keys = (trpt_vec){ .elem = sizeof(trpt_str) };
}

void trpt__json_done(trpt_json *j) { trpt__vec_free(j->ctx, &j->keys); }

void trpt__json_path(const trpt_json *j, const char *last, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
#define PUT(...)                                                              \
    do {                                                                      \
        int n_ = snprintf(buf + o, cap - o, __VA_ARGS__);                     \
        if (n_ < 0 || (size_t)n_ >= cap - o) return;                          \
        o += (size_t)n_;                                                      \
    } while (0)
    unsigned n = j->depth < TRPT_JSON_PATH_FRAMES ? j->depth : TRPT_JSON_PATH_FRAMES;
    for (unsigned i = 0; i < n; i++) {
        const trpt_jframe *f = &j->path[i];
        if (!f->key && f->len == TRPT_JFRAME_NONE) continue;
        if (f->key) {
            /* A member name is any string: at most 64 bytes of it (or what
             * fits), cut between characters, a NUL shown as '?' (not ending it). */
            PUT("%s", o ? "." : "");
            size_t kl = f->len, max = cap - o - 1 < 64 ? cap - o - 1 : 64;
            if (kl > max) {
                kl = max;
                while (kl && ((unsigned char)f->key[kl] & 0xC0) == 0x80) kl--;
            }
            for (size_t k = 0; k < kl; k++) buf[o++] = f->key[k] ? f->key[k] : '?';
            buf[o] = '\0';
        } else {
            PUT("[%zu]", f->len);
        }
    }
    if (j->depth > TRPT_JSON_PATH_FRAMES) PUT("...");
    if (last) PUT("%s%s", o ? "." : "", last);
#undef PUT
}

int trpt__json_fail(trpt_json *j, int code, const char *rfc, const char *last, const char *fmt,
                    ...)
{
    if (!j->err) return code;
    char path[sizeof j->err->path];
    trpt__json_path(j, last, path, sizeof path);
    char msg[sizeof j->err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t off = j->p <= j->end ? (size_t)(j->p - j->base) : (size_t)(j->end - j->base);
    return trpt__fail(j->err, code, off, rfc, path, "%s", msg);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

int trpt__json_string_slow(trpt_json *j, trpt_str *out)
{
    const char *s = j->p + 1, *p = s, *e = j->end;
    int escaped = 0;
    for (;;) {
        p = trpt__json_scan(p, e);
        if (p >= e) {
            j->p = e;
            return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL, "unterminated string");
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c == '\\') {
            escaped = 1;
            if (e - p < 2) {
                j->p = e;
                return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                                       "unterminated string");
            }
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                continue;
            case 'u':
                break;
            default:
                j->p = p;
                return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                                       "invalid escape '\\%c' in string",
                                       (unsigned char)p[1] >= 0x20 && (unsigned char)p[1] < 0x7f
                                           ? p[1] : '?');
            }
            int u = e - p >= 6 ? hex4(p + 2) : -1;
            if (u < 0) {
                j->p = p;
                return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                                       "invalid \\u escape in string");
            }
            if (u >= 0xDC00 && u <= 0xDFFF) {
                j->p = p;
                return trpt__json_fail(j, TRPT_E_UTF8, TRPT_RFC_JSON, NULL,
                                       "lone low surrogate \\u%04X in string", (unsigned)u);
            }
            if (u >= 0xD800 && u <= 0xDBFF) {
                int lo = (e - p >= 12 && p[6] == '\\' && p[7] == 'u') ? hex4(p + 8) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    j->p = p;
                    return trpt__json_fail(j, TRPT_E_UTF8, TRPT_RFC_JSON, NULL,
                                           "high surrogate \\u%04X without a low one",
                                           (unsigned)u);
                }
                p += 12;
            } else {
                p += 6;
            }
            continue;
        }
        if (c >= 0x80) {
            size_t k = trpt__utf8_seq(p, e);
            if (!k) {
                j->p = p;
                return trpt__json_fail(j, TRPT_E_UTF8, TRPT_RFC_JSON, NULL,
                                       "invalid UTF-8 in string");
            }
            p += k;
            continue;
        }
        j->p = p;
        return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                               "unescaped control character 0x%02x in string", c);
    }
    size_t raw = (size_t)(p - s);
    if (!escaped) {
        if (raw > j->max_string) {
            j->p = s - 1;
            return trpt__json_fail(j, TRPT_E_LIMIT, NULL, NULL,
                                   "string of %zu bytes exceeds max_string (%zu)", raw,
                                   j->max_string);
        }
        out->ptr = s;
        out->len = raw;
        j->p = p + 1;
        return TRPT_OK;
    }
    /* Each escape yields at least one byte per 6 raw ones: reject a string
     * that cannot fit before decoding it; the exact check follows. */
    if (raw / 6 > j->max_string) {
        j->p = s - 1;
        return trpt__json_fail(j, TRPT_E_LIMIT, NULL, NULL,
                               "string exceeds max_string (%zu)", j->max_string);
    }
    char *buf = trpt_ctx_alloc(j->ctx, raw + 1);
    if (!buf) return trpt__json_fail(j, TRPT_E_NOMEM, NULL, NULL, "out of memory");
    size_t n = trpt__json_unescape(s, raw, buf);
    buf[n] = '\0';
    if (n > j->max_string) {
        j->p = s - 1;
        return trpt__json_fail(j, TRPT_E_LIMIT, NULL, NULL,
                               "string of %zu bytes exceeds max_string (%zu)", n, j->max_string);
    }
    out->ptr = buf;
    out->len = n;
    j->p = p + 1;
    return TRPT_OK;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t trpt__json_unescape(const char *raw, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        const char *bs = memchr(raw + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (raw + i)) : n - i;
        memmove(out + o, raw + i, run);
        o += run;
        i += run;
        if (i >= n || i + 1 >= n) break;
        char c = raw[i + 1];
        switch (c) {
        case 'b': out[o++] = '\b'; i += 2; continue;
        case 'f': out[o++] = '\f'; i += 2; continue;
        case 'n': out[o++] = '\n'; i += 2; continue;
        case 'r': out[o++] = '\r'; i += 2; continue;
        case 't': out[o++] = '\t'; i += 2; continue;
        case 'u': break;
        default: out[o++] = c; i += 2; continue; /* " \ / */
        }
        if (i + 6 > n) break;
        unsigned cp = (unsigned)hex4(raw + i + 2);
        i += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n) {
            unsigned lo = (unsigned)hex4(raw + i + 2);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        o += put_utf8(out + o, cp);
    }
    return o;
}

int trpt__json_number(trpt_json *j, int *is_int, int64_t *v)
{
    const char *p = j->p, *e = j->end;
    int neg = 0;
    *is_int = 0;
    if (p < e && *p == '-') {
        neg = 1;
        p++;
    }
    if (p >= e || *p < '0' || *p > '9')
        return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL, "invalid number");
    uint64_t acc = 0;
    int big = 0;
    if (*p == '0') {
        p++;
        if (p < e && *p >= '0' && *p <= '9')
            return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                                   "number with a leading zero");
    } else {
        while (p < e && *p >= '0' && *p <= '9') {
            if (acc > (uint64_t)TRPT_JSON_INT_MAX) big = 1;
            else acc = acc * 10 + (uint64_t)(*p - '0');
            p++;
        }
    }
    int frac = 0;
    if (p < e && *p == '.') {
        frac = 1;
        p++;
        if (p >= e || *p < '0' || *p > '9') {
            j->p = p;
            return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                                   "digit expected after '.'");
        }
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        frac = 1;
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || *p < '0' || *p > '9') {
            j->p = p;
            return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                                   "digit expected in exponent");
        }
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (!frac) {
        if (big || acc > (uint64_t)TRPT_JSON_INT_MAX)
            return trpt__json_fail(j, TRPT_E_LIMIT, "RFC 7493 §2.2", NULL,
                                   "integer beyond 2^53-1");
        *is_int = 1;
        *v = neg ? -(int64_t)acc : (int64_t)acc;
    }
    j->p = p;
    return TRPT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    const trpt_str *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->ptr, y->ptr, n) : 0;
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

int trpt__json_check_dups(trpt_json *j, trpt_str *keys, size_t n)
{
    const trpt_str *dup = NULL;
    if (n <= 16) {
        for (size_t a = 1; a < n && !dup; a++)
            for (size_t b = 0; b < a; b++)
                if (keys[a].len == keys[b].len &&
                    (keys[a].len == 0 || memcmp(keys[a].ptr, keys[b].ptr, keys[a].len) == 0)) {
                    dup = &keys[a];
                    break;
                }
    } else {
        /* O(n log n): an object may hold max_elements members. */
        qsort(keys, n, sizeof *keys, cmp_str);
        for (size_t a = 1; a < n; a++)
            if (cmp_str(&keys[a - 1], &keys[a]) == 0) {
                dup = &keys[a];
                break;
            }
    }
    if (!dup) return TRPT_OK;
    int kl = dup->len > 64 ? 64 : (int)dup->len;
    return trpt__json_fail(j, TRPT_E_DUPLICATE, "RFC 8259 §4", NULL, "duplicate key \"%.*s\"",
                           kl, dup->ptr);
}

static int expect_lit(trpt_json *j, const char *lit, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL, "invalid literal");
    j->p += n;
    return TRPT_OK;
}

/* Enters the object or array at the cursor (frame: the path frame's len,
 * TRPT_JFRAME_NONE for an object until its first key, 0 for an array's
 * index); 1 when it is empty (and already left), 0 when an element
 * follows, -1 with *rc set on error. This and container_next are always
 * inlined: trpt__json_skip runs them per element of every unknown value,
 * and out of line they cost skipping ~11% more instructions. */
static inline __attribute__((always_inline)) int container_open(trpt_json *j, size_t frame,
                                                                char close, int *rc)
{
    if ((*rc = trpt__json_enter(j, NULL, frame))) return -1;
    j->p++;
    trpt__json_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return 1;
    }
    return 0;
}

/* After an element: 1 when ',' follows (consumed, with the whitespace
 * after it), 0 at the closing byte (left for the caller, whose errors
 * point at it), -1 with *rc set when neither is there. */
static inline __attribute__((always_inline)) int container_next(trpt_json *j, char close, int *rc)
{
    trpt__json_ws(j);
    if (j->p < j->end && *j->p == ',') {
        j->p++;
        trpt__json_ws(j);
        return 1;
    }
    if (j->p < j->end && *j->p == close) return 0;
    *rc = trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                          close == '}' ? "',' or '}' expected" : "',' or ']' expected");
    return -1;
}

static int skip_object(trpt_json *j)
{
    int rc;
    size_t keys_at = j->keys.len, count = 0;
    int st = container_open(j, TRPT_JFRAME_NONE, '}', &rc);
    if (st) return st < 0 ? rc : TRPT_OK;
    unsigned frame = j->depth - 1;
    for (;;) {
        if (j->p >= j->end || *j->p != '"')
            return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                                   "member name expected");
        trpt_str k;
        if ((rc = trpt__json_string(j, &k))) return rc;
        if (++count > j->max_elements)
            return trpt__json_fail(j, TRPT_E_LIMIT, NULL, NULL,
                                   "object with more than max_elements (%zu) members",
                                   j->max_elements);
        trpt_str *slot = trpt__vec_push(j->ctx, &j->keys);
        if (!slot) return trpt__json_fail(j, TRPT_E_NOMEM, NULL, NULL, "out of memory");
        *slot = k;
        if (frame < TRPT_JSON_PATH_FRAMES) j->path[frame] = (trpt_jframe){ k.ptr, k.len };
        trpt__json_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL, "':' expected");
        j->p++;
        trpt__json_ws(j);
        if ((rc = trpt__json_skip(j))) return rc;
        if ((st = container_next(j, '}', &rc)) < 0) return rc;
        if (!st) break;
    }
    j->depth--; /* a duplicate is reported at the object's own path */
    rc = trpt__json_check_dups(j, (trpt_str *)(void *)j->keys.data + keys_at, count);
    if (rc) return rc;
    j->keys.len = keys_at;
    j->p++;
    return TRPT_OK;
}

static int skip_array(trpt_json *j)
{
    int rc;
    int st = container_open(j, 0, ']', &rc);
    if (st) return st < 0 ? rc : TRPT_OK;
    unsigned frame = j->depth - 1;
    size_t count = 0;
    for (;;) {
        if (++count > j->max_elements)
            return trpt__json_fail(j, TRPT_E_LIMIT, NULL, NULL,
                                   "array with more than max_elements (%zu) elements",
                                   j->max_elements);
        if (frame < TRPT_JSON_PATH_FRAMES) j->path[frame].len = count - 1;
        if ((rc = trpt__json_skip(j))) return rc;
        if ((st = container_next(j, ']', &rc)) < 0) return rc;
        if (!st) break;
    }
    j->p++;
    j->depth--;
    return TRPT_OK;
}

int trpt__json_skip(trpt_json *j)
{
    if (j->p >= j->end)
        return trpt__json_fail(j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL, "value expected");
    switch (*j->p) {
    case '"': {
        trpt_str s;
        return trpt__json_string(j, &s);
    }
    case '{': return skip_object(j);
    case '[': return skip_array(j);
    case 't': return expect_lit(j, "true", 4);
    case 'f': return expect_lit(j, "false", 5);
    case 'n': return expect_lit(j, "null", 4);
    default: {
        int is_int;
        int64_t v;
        return trpt__json_number(j, &is_int, &v);
    }
    }
}

int trpt__json_validate(trpt_ctx *ctx, const char *buf, size_t len, trpt_error *err)
{
    if (!ctx || (!buf && len)) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL,
                                                 "NULL argument");
    if (len > trpt_ctx_limits(ctx)->max_input)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, NULL,
                          "input of %zu bytes exceeds max_input (%zu)", len,
                          trpt_ctx_limits(ctx)->max_input);
    trpt_json j;
    trpt__json_init(&j, ctx, buf ? buf : "", len, err);
    trpt__json_ws(&j);
    int rc = trpt__json_skip(&j);
    if (!rc) {
        trpt__json_ws(&j);
        if (j.p != j.end)
            rc = trpt__json_fail(&j, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                                 "trailing characters after the JSON value");
    }
    trpt__json_done(&j);
    return rc;
}

int trpt__json_string_array(trpt_ctx *ctx, trpt_str s, int (*each)(void *ud, trpt_str str),
                            void *ud, int *is_array)
{
    *is_array = 0;
    if (s.len < 2 || s.ptr[0] != '[' || s.ptr[s.len - 1] != ']') return TRPT_OK;
    trpt_json sub;
    trpt__json_init(&sub, ctx, s.ptr, s.len, NULL);
    int ok = 0, rc = TRPT_OK;
    trpt__json_ws(&sub);
    sub.p++;
    trpt__json_ws(&sub);
    if (sub.p < sub.end && *sub.p == ']') {
        sub.p++;
        ok = 1;
    }
    while (!ok) {
        trpt_str e;
        if (sub.p >= sub.end || *sub.p != '"') break;
        /* Only running out of memory is an error: any other failure of
         * an inner string means the element is not an array of strings. */
        int src = trpt__json_string(&sub, &e);
        if (src) {
            if (src == TRPT_E_NOMEM) rc = src;
            break;
        }
        if (each && (rc = each(ud, e))) break;
        trpt__json_ws(&sub);
        if (sub.p < sub.end && *sub.p == ',') {
            sub.p++;
            trpt__json_ws(&sub);
            continue;
        }
        if (sub.p < sub.end && *sub.p == ']') {
            sub.p++;
            ok = 1;
        }
        break;
    }
    trpt__json_ws(&sub);
    trpt__json_done(&sub);
    *is_array = ok && sub.p == sub.end;
    return rc;
}
