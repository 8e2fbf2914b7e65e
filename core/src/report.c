/* SMTP TLS report parser (RFC 8460 §4): one schema-directed pass over the
 * JSON, no DOM. Known members are recognised by length + memcmp and stored
 * as slices of the input (copies only for strings with escapes); unknown
 * members are validated by the generic skipper and kept as raw JSON text.
 * Lenient deviations become warnings (doc/warnings.md); strict mode fails
 * on the first one with TRPT_E_STRICT. */
#include "report_internal.h"
#include "hostname.h"
#include "json.h"
#include "utf8.h"

#include <stddef.h>
#include <stdio.h>

typedef struct rp {
    trpt_json j;
    trpt_report *r;
    int strict;
    size_t max_warnings;
    trpt_vec warnings;   /* trpt_warning */
    trpt_vec pols;       /* trpt_policy_result */
    trpt_vec fails;      /* trpt_failure, scratch for one policy */
    trpt_vec strs;       /* trpt_str, scratch for one string list */
    trpt_vec extra;      /* trpt_kv, used as a stack by nested objects */
    size_t total_failures;
    size_t arena0;       /* arena bytes in use before parsing (reserve_ahead) */
    size_t dr_nest[2];   /* date-range's block of extra (extra_finish skips it) */
    /* First buffers of the scratch arrays (parse_json's frame): a small
     * report needs no heap for them (each took a 256-byte allocation, a
     * third of an 810-byte report's peak memory). Keep them last (memset). */
    trpt_warning warnings_inl[8];
    trpt_policy_result pols_inl[4];
    trpt_failure fails_inl[4];
    trpt_str strs_inl[16];
    trpt_kv extra_inl[8];
    trpt_str keys_inl[16];
} rp;

#define J (&r->j)

/* Arena reservations (report_estimate, reserve_ahead): never more than
 * RESERVE_MAX at once for the results; a .gz report up to
 * RESERVE_GZ_INLINE decompressed gets its buffer in the same block, so a
 * reset ctx keeps one block that fits the next such report whole (with two
 * blocks of similar size, one was freed and re-faulted on every call). */
#define RESERVE_MAX ((size_t)32 << 20)
#define RESERVE_GZ_INLINE ((size_t)16 << 20)

static void reserve_ahead(rp *r, size_t now);

/* A scratch array's n bytes copied into the arena (through reserve_ahead):
 * the copy, or NULL out of memory. */
static void *arena_copy(rp *r, const void *src, size_t n)
{
    reserve_ahead(r, n);
    void *dst = trpt_ctx_alloc(J->ctx, n);
    if (dst) memcpy(dst, src, n);
    return dst;
}

/* ------------------------------------------------------------ warnings */

static int push_warning(trpt_ctx *ctx, trpt_vec *v, size_t max, size_t *dropped,
                        const char *code, const char *path, const char *rfc, const char *msg)
{
    if (v->len >= max) {
        (*dropped)++;
        return TRPT_OK;
    }
    char *p = trpt__strdup(ctx, path, strlen(path));
    char *m = trpt__strdup(ctx, msg, strlen(msg));
    trpt_warning *w = p && m ? trpt__vec_push(ctx, v) : NULL;
    if (!w) return TRPT_E_NOMEM;
    trpt__text_clean(p);
    trpt__text_clean(m);
    *w = (trpt_warning){ code, p, rfc, m };
    return TRPT_OK;
}

/* A deviation at the current path (plus member last, if any). */
static int warn(rp *r, const char *code, const char *rfc, const char *last, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int warn(rp *r, const char *code, const char *rfc, const char *last, const char *fmt, ...)
{
    char msg[256], path[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->strict)
        return trpt__json_fail(J, TRPT_E_STRICT, rfc, last, "%s [%s]", msg, code);
    trpt__json_path(J, last, path, sizeof path);
    if (r->warnings.len < r->max_warnings)
        reserve_ahead(r, strlen(path) + strlen(msg) + 2 + 32); /* two strings, aligned */
    if (push_warning(J->ctx, &r->warnings, r->max_warnings, &r->r->nwarnings_dropped, code, path,
                     rfc, msg))
        return trpt__json_fail(J, TRPT_E_NOMEM, NULL, NULL, "out of memory");
    return TRPT_OK;
}

int trpt__report_warn(trpt_ctx *ctx, trpt_report *rep, const trpt_parse_opts *opts,
                      const char *code, const char *path, const char *rfc, trpt_error *err,
                      const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!path) path = "";
    if (opts && opts->strict)
        return trpt__fail(err, TRPT_E_STRICT, TRPT_NO_OFFSET, rfc, path, "%s [%s]", msg, code);
    if (rep->nwarnings >= ctx->limits.max_warnings) {
        rep->nwarnings_dropped++;
        return TRPT_OK;
    }
    /* Copy-on-append: rare (e-mail/header checks add a handful). */
    trpt_warning *nw = trpt_ctx_alloc(ctx, (rep->nwarnings + 1) * sizeof *nw);
    char *p = trpt__strdup(ctx, path, strlen(path));
    char *m = trpt__strdup(ctx, msg, strlen(msg));
    if (!nw || !p || !m)
        return trpt__nomem(err);
    trpt__text_clean(p);
    trpt__text_clean(m);
    if (rep->nwarnings) memcpy(nw, rep->warnings, rep->nwarnings * sizeof *nw);
    nw[rep->nwarnings] = (trpt_warning){ code, p, rfc, m };
    rep->warnings = nw;
    rep->nwarnings++;
    return TRPT_OK;
}

/* -------------------------------------------------------------- values */

static const char *type_name(const trpt_json *j)
{
    if (j->p >= j->end) return "nothing";
    switch (*j->p) {
    case '"': return "a string";
    case '{': return "an object";
    case '[': return "an array";
    case 't': case 'f': return "a boolean";
    case 'n': return "null";
    default: return "a number";
    }
}

/* A value of the wrong type: a field error if it is valid JSON, else the
 * syntax error the generic skipper finds. */
static int type_error(rp *r, const char *want, const char *rfc)
{
    const char *at = J->p;
    unsigned depth = J->depth;
    int rc = trpt__json_skip(J);
    if (rc) return rc;
    J->p = at;
    J->depth = depth;
    return trpt__json_fail(J, TRPT_E_FIELD, rfc, NULL, "must be %s, not %s", want, type_name(J));
}

/* Is the value at the cursor a JSON null? Consumes it if so. */
static int take_null(rp *r)
{
    if (J->end - J->p >= 4 && memcmp(J->p, "null", 4) == 0) {
        J->p += 4;
        return 1;
    }
    return 0;
}

/* "nul-byte" if s, a string just read, holds a NUL: only a \u0000 escape
 * makes one, so only strings decoded into the arena (not slices of the
 * input) are searched. The builder refuses NULs (C consumers truncate). */
static int nul_check(rp *r, trpt_str s)
{
    if (TRPT_LIKELY(s.ptr >= J->base && s.ptr < J->end) || !memchr(s.ptr, '\0', s.len))
        return TRPT_OK;
    return warn(r, "nul-byte", TRPT_RFC_JSON, NULL, "string holds a NUL byte (\\u0000), kept");
}

/* A string member. *present is 0 for null (warned as field-null). */
static int str_field(rp *r, trpt_str *out, int *present, const char *rfc)
{
    if (TRPT_LIKELY(J->p < J->end && *J->p == '"')) {
        *present = 1;
        int rc = trpt__json_string(J, out);
        return rc ? rc : nul_check(r, *out);
    }
    if (take_null(r)) {
        *present = 0;
        return warn(r, "field-null", rfc, NULL, "null where a string is required");
    }
    return type_error(r, "a string", rfc);
}

/* A string member that may not be null: null is the same field error in
 * lenient and strict mode (no field-null warning first). */
static int req_str_field(rp *r, trpt_str *out, const char *rfc, const char *what)
{
    if (J->p < J->end && *J->p == 'n' && take_null(r))
        return trpt__json_fail(J, TRPT_E_FIELD, rfc, NULL, "%s, not null", what);
    int present;
    return str_field(r, out, &present, rfc);
}

/* A non-negative integer count within 2^53-1. */
static int count_field(rp *r, int64_t *out, const char *rfc)
{
    const char *p = J->p, *e = J->end;
    /* Fast path: a few plain digits followed by a delimiter. */
    if (p < e && *p >= '1' && *p <= '9') {
        int64_t v = *p++ - '0';
        int n = 1;
        while (p < e && *p >= '0' && *p <= '9' && n < 15) v = v * 10 + (*p++ - '0'), n++;
        if (p < e && *p != '.' && *p != 'e' && *p != 'E' && (*p < '0' || *p > '9')) {
            J->p = p;
            *out = v;
            return TRPT_OK;
        }
    }
    if (J->p < e && (*J->p == '-' || (*J->p >= '0' && *J->p <= '9'))) {
        int is_int;
        int64_t v;
        const char *at = J->p;
        int rc = trpt__json_number(J, &is_int, &v);
        if (rc) return rc;
        if (!is_int || v < 0) {
            size_t nlen = (size_t)(J->p - at); /* the number, not what follows it */
            J->p = at;
            return trpt__json_fail(J, TRPT_E_FIELD, rfc, NULL,
                                   "must be a non-negative integer, not %.*s",
                                   (int)(nlen > 24 ? 24 : nlen), at);
        }
        *out = v;
        return TRPT_OK;
    }
    return type_error(r, "a non-negative integer", rfc);
}

/* Unknown member: validate its value and keep the raw text in r->extra.
 * Those of a nested object (date-range, a policy's policy and summary)
 * join their parent's extras as "<object>/<name>": objects apart may use
 * one name, which as a bare key would collide. */
static int extra_member(rp *r, trpt_str key, const char *rfc, const char *object)
{
    const char *at = J->p;
    int rc = trpt__json_skip(J);
    if (rc) return rc;
    if (object) {
        size_t ol = strlen(object);
        char *q = trpt_ctx_alloc(J->ctx, ol + 1 + key.len);
        if (!q) return trpt__json_fail(J, TRPT_E_NOMEM, NULL, NULL, "out of memory");
        memcpy(q, object, ol);
        q[ol] = '/';
        if (key.len) memcpy(q + ol + 1, key.ptr, key.len);
        key = (trpt_str){ q, ol + 1 + key.len };
    }
    trpt_kv *kv = trpt__vec_push(J->ctx, &r->extra);
    if (!kv) return trpt__json_fail(J, TRPT_E_NOMEM, NULL, NULL, "out of memory");
    kv->key = key;
    kv->value = (trpt_str){ at, (size_t)(J->p - at) };
    return warn(r, "unknown-key", rfc, NULL, "unknown member kept in extra");
}

/* Duplicate check of one object's unknown members: entries [from, to) of
 * r->extra, less the blocks [skip[2k], skip[2k+1]) its nested objects
 * pushed (checked on their own: names are unique per object, RFC 8259 §4,
 * so a parent's literal "policy/x" and its policy's "x" may both be). */
static int extra_dups(rp *r, size_t from, size_t to, const size_t *skip, int nskip)
{
    if (to - from < 2) return TRPT_OK;
    size_t base = J->keys.len, cnt = 0;
    for (size_t i = from; i < to; i++) {
        int nested = 0;
        for (int k = 0; k < nskip; k++) nested |= i >= skip[2 * k] && i < skip[2 * k + 1];
        if (nested) continue;
        trpt_str *s = trpt__vec_push(J->ctx, &J->keys);
        if (!s) return trpt__json_fail(J, TRPT_E_NOMEM, NULL, NULL, "out of memory");
        *s = ((trpt_kv *)(void *)r->extra.data)[i].key;
        cnt++;
    }
    int rc = cnt > 1 ? trpt__json_check_dups(J, (trpt_str *)(void *)J->keys.data + base, cnt) : 0;
    J->keys.len = base;
    return rc;
}

/* Closes an object's extras: duplicate check (less its nested objects'
 * blocks, see extra_dups), arena copy, pop the stack. */
static int extra_finish(rp *r, size_t from, const size_t *skip, int nskip, const trpt_kv **out,
                        size_t *n)
{
    size_t cnt = r->extra.len - from;
    *out = NULL;
    *n = 0;
    if (!cnt) return TRPT_OK;
    int rc = extra_dups(r, from, r->extra.len, skip, nskip);
    if (rc) return rc;
    trpt_kv *kv = (trpt_kv *)(void *)r->extra.data + from;
    const trpt_kv *dst = arena_copy(r, kv, cnt * sizeof *kv);
    if (!dst) return trpt__json_fail(J, TRPT_E_NOMEM, NULL, NULL, "out of memory");
    r->extra.len = from;
    *out = dst;
    *n = cnt;
    return TRPT_OK;
}

static int dup_key(rp *r)
{
    return trpt__json_fail(J, TRPT_E_DUPLICATE, "RFC 8259 §4", NULL, "duplicate key");
}

/* Object walk: each parse_<object> loops member() / member_next() over the
 * object, switching on the key's index in its keytab (-1: unknown). Duplicate
 * known keys fail in member(); unknown ones are checked in extra_finish. */
typedef struct keytab {
    const char *name;
    size_t len;
} keytab;

#define K(s) { s, sizeof(s) - 1 }

static inline int key_lookup(const keytab *t, int n, trpt_str k)
{
    for (int i = 0; i < n; i++)
        if (t[i].len == k.len && trpt__eq(t[i].name, k.ptr, k.len)) return i;
    return -1;
}

/* Is the member name at p (a '"', avail bytes) exactly the plain name t? */
static inline int name_at(const char *p, size_t avail, const keytab *t, size_t max_string)
{
    size_t l = t->len;
    return avail > l + 1 && p[1] == t->name[0] && p[l + 1] == '"' &&
           trpt__eq(p + 1, t->name, l) && l <= max_string;
}

/* The state of one object's member walk (zeroed before the first member). */
typedef struct mwalk {
    unsigned seen; /* bit i: t[i] was read; a second one is a duplicate */
    int hint;      /* index tried first: the one after the last known name */
    size_t count;  /* members so far, against max_elements */
} mwalk;

/* Reads '"name"' ':' at the cursor (after '{' or ','), sets *id to the
 * name's index in t[0..n) or -1, sets the path frame and counts the member
 * against max_elements (unknown members are unbounded); a known name read
 * twice is TRPT_E_DUPLICATE. The RFC names are tried in place, t[w->hint]
 * first (senders write members in a fixed order, so the one after the
 * previous usually comes next): a plain name then needs no scan and no
 * second compare. Always inlined: it runs once per member of every object,
 * and gcc's size heuristics would otherwise call it out of line (+12%
 * instructions on the bench's medium report). */
static inline __attribute__((always_inline)) int member(rp *r, mwalk *w, const keytab *t, int n,
                                                        trpt_str *k, int *id)
{
    const int hint = w->hint;
    trpt__json_ws(J);
    const char *p = J->p;
    size_t avail = (size_t)(J->end - p);
    if (TRPT_UNLIKELY(avail == 0 || *p != '"'))
        return trpt__json_fail(J, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL, "member name expected");
    *id = -1;
    if (hint < n && name_at(p, avail, &t[hint], J->max_string)) {
        *id = hint;
    } else {
        for (int i = 0; i < n; i++)
            if (name_at(p, avail, &t[i], J->max_string)) {
                *id = i;
                break;
            }
    }
    if (*id >= 0) {
        k->ptr = p + 1;
        k->len = t[*id].len;
        J->p = p + k->len + 2;
    }
    if (*id < 0) {
        int rc = trpt__json_string(J, k);
        if (rc) return rc;
        *id = key_lookup(t, n, *k); /* a name written with escapes */
    }
    trpt__json_frame(J, k->ptr, k->len);
    if (TRPT_UNLIKELY(++w->count > J->max_elements))
        return trpt__json_fail(J, TRPT_E_LIMIT, NULL, NULL,
                               "object with more than max_elements (%zu) members",
                               J->max_elements);
    trpt__json_ws(J);
    if (TRPT_UNLIKELY(J->p >= J->end || *J->p != ':'))
        return trpt__json_fail(J, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL, "':' expected");
    J->p++;
    trpt__json_ws(J);
    w->hint = *id + 1;
    if (*id >= 0) {
        if (w->seen & (1u << *id)) return dup_key(r);
        w->seen |= 1u << *id;
    }
    return TRPT_OK;
}

/* After a member value: 1 if another member follows, 0 at '}', <0 error. */
static inline int member_next(rp *r, int *rc)
{
    trpt__json_ws(J);
    if (TRPT_LIKELY(J->p < J->end)) {
        if (*J->p == ',') {
            J->p++;
            return 1;
        }
        if (*J->p == '}') {
            J->p++;
            return 0;
        }
    }
    *rc = trpt__json_fail(J, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL, "',' or '}' expected");
    return -1;
}

/* Opens an object value at the cursor; returns 1 if it is empty ('{}'). */
static int object_open(rp *r, int *rc, const char *rfc)
{
    if (TRPT_UNLIKELY(J->p >= J->end || *J->p != '{')) {
        *rc = type_error(r, "an object", rfc);
        return -1;
    }
    if ((*rc = trpt__json_enter(J, NULL, TRPT_JFRAME_NONE))) return -1;
    J->p++;
    trpt__json_ws(J);
    if (J->p < J->end && *J->p == '}') {
        J->p++;
        return 1;
    }
    return 0;
}

/* Array walk helpers: array_open returns 1 if empty; array_next like member_next. */
static int array_open(rp *r, int *rc)
{
    if ((*rc = trpt__json_enter(J, NULL, 0))) return -1;
    J->p++;
    trpt__json_ws(J);
    if (J->p < J->end && *J->p == ']') {
        J->p++;
        return 1;
    }
    return 0;
}

static inline int array_next(rp *r, int *rc)
{
    trpt__json_ws(J);
    if (TRPT_LIKELY(J->p < J->end)) {
        if (*J->p == ',') {
            J->p++;
            trpt__json_ws(J);
            return 1;
        }
        if (*J->p == ']') {
            J->p++;
            return 0;
        }
    }
    *rc = trpt__json_fail(J, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL, "',' or ']' expected");
    return -1;
}

static int too_many(rp *r, const char *what)
{
    return trpt__json_fail(J, TRPT_E_LIMIT, NULL, NULL, "more than max_elements (%zu) %s",
                           J->max_elements, what);
}

/* "domain-invalid" unless s is a domain name (wildcard: an mx-host
 * pattern may start with "*."): the builder's check (hostname.c), so what
 * passes here builds. */
static int check_domain(rp *r, trpt_str s, int wildcard)
{
    if (trpt__domain_ok(s.ptr, s.len, wildcard)) return TRPT_OK;
    return warn(r, "domain-invalid", TRPT_RFC_SCHEMA, NULL,
                "\"%.*s\" is not a %s (LDH labels), kept verbatim", (int)(s.len > 64 ? 64 : s.len),
                s.ptr, wildcard ? "domain name or *. pattern" : "domain name");
}

enum { LIST_POLICY_STRING, LIST_MX_HOST };

/* A policy-string or mx-host entry (kind LIST_*): a NUL is warned, and so
 * is an empty policy-string (the builder refuses both; an empty mx-host is
 * domain-invalid). Both kept. */
static int list_entry_check(rp *r, int kind, trpt_str s)
{
    int rc;
    if (kind == LIST_POLICY_STRING && s.len == 0 &&
        (rc = warn(r, "empty-value", TRPT_RFC_POLICY, NULL, "empty string, kept")))
        return rc;
    return nul_check(r, s);
}

/* --------------------------------------------------------- string lists */

/* A policy-string element that is itself a JSON array of strings (seen
 * from Microsoft for tlsa policies): *array = 1 with its strings pushed, 0
 * if it is not one. Errors: out of memory, and the list growing past
 * max_elements (the cap counts the strings of the expanded list). */
typedef struct expand_state {
    rp *r;
    int over; /* past max_elements: scanned on without keeping */
} expand_state;

static int expand_one(void *ud, trpt_str e)
{
    expand_state *st = ud;
    rp *r = st->r;
    /* Past the cap: scan on without keeping, and fail only if the element
     * does turn out to be an array of strings. */
    if (st->over || r->strs.len >= J->max_elements) {
        st->over = 1;
        return TRPT_OK;
    }
    trpt_str *slot = trpt__vec_push(J->ctx, &r->strs);
    if (!slot) return TRPT_E_NOMEM;
    *slot = e;
    return TRPT_OK;
}

static int expand_json_array(rp *r, trpt_str s, int *array)
{
    size_t mark = r->strs.len;
    expand_state st = { r, 0 };
    int is_array;
    int rc = trpt__json_string_array(J->ctx, s, expand_one, &st, &is_array);
    if (rc || st.over || !is_array) r->strs.len = mark;
    *array = 0;
    if (rc == TRPT_E_NOMEM) return trpt__json_fail(J, rc, NULL, NULL, "out of memory");
    if (st.over && is_array) return too_many(r, "strings");
    *array = is_array && !st.over;
    return TRPT_OK;
}

/* One policy-string / mx-host entry s, pushed to r->strs after its checks:
 * a policy-string holding a JSON-encoded array gives its strings instead,
 * an mx-host entry loses a policy file's "mx:" prefix (each warned). */
static int list_entry(rp *r, int kind, trpt_str s)
{
    int rc;
    size_t mark = r->strs.len;
    int array = 0;
    if (kind == LIST_POLICY_STRING && s.len && s.ptr[0] == '[' &&
        (rc = expand_json_array(r, s, &array)))
        return rc;
    if (array) {
        if ((rc = warn(r, "policy-string-json-array", TRPT_RFC_POLICY, NULL,
                       "element holds a JSON-encoded array; its strings are used")))
            return rc;
        for (size_t i = mark; i < r->strs.len; i++)
            if ((rc = list_entry_check(r, kind, ((trpt_str *)r->strs.data)[i]))) return rc;
        return TRPT_OK;
    }
    if ((rc = list_entry_check(r, kind, s))) return rc;
    if (kind == LIST_MX_HOST && s.len > 3 && memcmp(s.ptr, "mx:", 3) == 0) {
        if ((rc = warn(r, "mx-host-prefix", TRPT_RFC_POLICY, NULL,
                       "mx-host entry keeps the policy file's \"mx:\" prefix")))
            return rc;
        s.ptr += 3;
        s.len -= 3;
        while (s.len && (*s.ptr == ' ' || *s.ptr == '\t')) s.ptr++, s.len--;
    }
    if (kind == LIST_MX_HOST && (rc = check_domain(r, s, 1))) return rc;
    if (r->strs.len >= J->max_elements) return too_many(r, "strings"); /* after an expansion */
    trpt_str *slot = trpt__vec_push(J->ctx, &r->strs);
    if (!slot) return trpt__json_fail(J, TRPT_E_NOMEM, NULL, NULL, "out of memory");
    *slot = s;
    return TRPT_OK;
}

/* policy-string / mx-host: an array of strings. A lone string is taken as
 * a one-element list (warned); null as absent (warned). */
static int string_list(rp *r, int kind, const trpt_str **out, size_t *n, unsigned *has,
                       unsigned bit)
{
    int rc = 0;
    r->strs.len = 0;
    if (J->p < J->end && *J->p == '"') {
        trpt_str s;
        if ((rc = trpt__json_string(J, &s))) return rc;
        if ((rc = warn(r, "expected-array", TRPT_RFC_POLICY, NULL,
                       "a string where an array of strings is required")))
            return rc;
        if ((rc = list_entry(r, kind, s))) return rc;
    } else if (take_null(r)) {
        return warn(r, "field-null", TRPT_RFC_POLICY, NULL, "null where an array is required");
    } else if (J->p < J->end && *J->p == '[') {
        int st = array_open(r, &rc);
        if (st < 0) return rc;
        size_t idx = 0;
        while (!st) {
            trpt__json_frame(J, NULL, idx);
            if (++idx > J->max_elements) return too_many(r, "strings");
            if (J->p >= J->end || *J->p != '"') return type_error(r, "a string", TRPT_RFC_POLICY);
            trpt_str s;
            if ((rc = trpt__json_string(J, &s))) return rc;
            if ((rc = list_entry(r, kind, s))) return rc;
            st = array_next(r, &rc) ? 0 : 1;
            if (rc) return rc;
        }
        J->depth--;
    } else {
        return type_error(r, "an array of strings", TRPT_RFC_POLICY);
    }
    *has |= bit;
    *n = r->strs.len;
    *out = NULL;
    if (r->strs.len) {
        if (!(*out = arena_copy(r, r->strs.data, r->strs.len * sizeof(trpt_str))))
            return trpt__json_fail(J, TRPT_E_NOMEM, NULL, NULL, "out of memory");
    }
    r->strs.len = 0;
    return TRPT_OK;
}

/* ------------------------------------------------------------- checks */

/* An optional string member of a failure detail. */
enum { OPT_TEXT, OPT_IP, OPT_HOST };

static int opt_str(rp *r, trpt_failure *f, trpt_str *dst, unsigned bit, int kind)
{
    int present, rc;
    if ((rc = str_field(r, dst, &present, TRPT_RFC_SCHEMA))) return rc;
    if (!present) return TRPT_OK;
    if (dst->len == 0)
        return warn(r, "empty-value", TRPT_RFC_SCHEMA, NULL, "empty string, treated as absent");
    if (kind == OPT_IP && !trpt__ip_ok(dst->ptr, dst->len)) {
        if ((rc = warn(r, "ip-invalid", TRPT_RFC_SCHEMA, NULL, "not an IPv4 or IPv6 address")))
            return rc;
    } else if (kind == OPT_HOST && (rc = check_domain(r, *dst, 0))) {
        return rc;
    }
    f->has |= bit;
    return TRPT_OK;
}

/* -------------------------------------------------------------- objects */

static const keytab failure_keys[] = {
    K("result-type"), K("sending-mta-ip"), K("receiving-mx-hostname"), K("receiving-mx-helo"),
    K("receiving-ip"), K("failed-session-count"), K("additional-information"),
    K("failure-reason-code"),
};

/* RFC 8460 §4.3 result type of s (TRPT_RESULT_OTHER if unknown), without
 * the strlen per name of trpt_result_type_from: this runs per detail. */
static int result_type(trpt_str s)
{
    static const keytab names[] = {
        K("starttls-not-supported"), K("certificate-host-mismatch"), K("certificate-expired"),
        K("certificate-not-trusted"), K("validation-failure"), K("tlsa-invalid"),
        K("dnssec-invalid"), K("dane-required"), K("sts-policy-fetch-error"),
        K("sts-policy-invalid"), K("sts-webpki-invalid"),
    };
    int i = key_lookup(names, (int)(sizeof names / sizeof names[0]), s);
    /* Same order as trpt_result_type (RFC order, from 1). */
    return i < 0 ? TRPT_RESULT_OTHER : TRPT_RESULT_STARTTLS_NOT_SUPPORTED + i;
}

static int parse_failure(rp *r, trpt_failure *f)
{
    int rc = 0;
    size_t xfrom = r->extra.len;
    mwalk w = { 0, 0, 0 };
    int has_type = 0, has_count = 0;
    memset(f, 0, sizeof *f);
    int st = object_open(r, &rc, TRPT_RFC_SCHEMA);
    if (st < 0) return rc;
    while (!st) {
        trpt_str k;
        int id = -1;
        if ((rc = member(r, &w, failure_keys, 8, &k, &id))) return rc;
        switch (id) {
        case 0: {
            if ((rc = req_str_field(r, &f->result_type, TRPT_RFC_RESULTS, "result-type must be a string")))
                return rc;
            has_type = 1;
            f->result = result_type(f->result_type);
            if (f->result == TRPT_RESULT_OTHER &&
                (rc = warn(r, "result-type-unknown", TRPT_RFC_RESULTS, NULL,
                           "unknown result-type \"%.*s\" kept verbatim",
                           (int)(f->result_type.len > 64 ? 64 : f->result_type.len),
                           f->result_type.ptr)))
                return rc;
            break;
        }
        case 1: rc = opt_str(r, f, &f->sending_mta_ip, TRPT_HAS_SENDING_MTA_IP, OPT_IP); break;
        case 2:
            rc = opt_str(r, f, &f->receiving_mx_hostname, TRPT_HAS_RECEIVING_MX_HOSTNAME,
                         OPT_HOST);
            break;
        case 3:
            rc = opt_str(r, f, &f->receiving_mx_helo, TRPT_HAS_RECEIVING_MX_HELO, OPT_TEXT);
            break;
        case 4: rc = opt_str(r, f, &f->receiving_ip, TRPT_HAS_RECEIVING_IP, OPT_IP); break;
        case 5:
            rc = count_field(r, &f->failed_session_count, TRPT_RFC_COUNTS);
            has_count = 1;
            break;
        case 6:
            rc = opt_str(r, f, &f->additional_information, TRPT_HAS_ADDITIONAL_INFORMATION,
                         OPT_TEXT);
            break;
        case 7:
            rc = opt_str(r, f, &f->failure_reason_code, TRPT_HAS_FAILURE_REASON_CODE, OPT_TEXT);
            break;
        default: rc = extra_member(r, k, TRPT_RFC_SCHEMA, NULL); break;
        }
        if (rc) return rc;
        st = member_next(r, &rc) ? 0 : 1;
        if (rc) return rc;
    }
    J->depth--;
    if (!has_type)
        return trpt__json_fail(J, TRPT_E_FIELD, TRPT_RFC_RESULTS, "result-type",
                               "required member missing");
    if (!has_count &&
        (rc = warn(r, "field-missing", TRPT_RFC_COUNTS, "failed-session-count",
                   "required member missing, taken as 0")))
        return rc;
    return extra_finish(r, xfrom, NULL, 0, &f->extra, &f->nextra);
}

/* Before an arena allocation of now bytes that does not fit the current
 * block: reserve one block for it and for what the rest of the input will
 * likely need, extrapolated from the bytes used per input byte so far.
 * Doubling blocks would overshoot by up to 2x on reports whose view structs
 * outweigh their JSON (short failure details); on a report with several
 * policies this sizes the rest in one go. A failed reservation is left to
 * the allocation that follows to report. The views, lists and warnings all
 * come through here (an overflow in trpt_ctx_alloc would take a 4 KiB
 * block); only decoded escaped strings, rare, do not. POLICY_ROOM is a
 * policy's strings, lists and extras, guessed before it is parsed: 512
 * made small reports take a second block. */
#define POLICY_ROOM 256

static void reserve_ahead(rp *r, size_t now)
{
    trpt_ctx *ctx = J->ctx;
    if ((size_t)(ctx->end - ctx->cur) >= now) return;
    size_t done = (size_t)(J->p - J->base), left = (size_t)(J->end - J->p);
    /* Results so far: not the decompressed buffer, which came before. */
    size_t used = ctx->bytes - (size_t)(ctx->end - ctx->cur) - r->arena0 + now;
    double more = done ? (double)used * (double)left / (double)done : 0;
    more += more / 8; /* the tail of a report is not always like its head */
    if (more > (double)RESERVE_MAX) more = (double)RESERVE_MAX;
    (void)trpt__ctx_reserve(ctx, now + (size_t)more);
}

static int parse_failures(rp *r, trpt_policy_result *pr, int *is_array)
{
    int rc = 0;
    if (take_null(r))
        return warn(r, "field-null", TRPT_RFC_SCHEMA, NULL, "null where an array is required");
    *is_array = 1;
    if (J->p >= J->end || *J->p != '[') return type_error(r, "an array", TRPT_RFC_SCHEMA);
    r->fails.len = 0;
    int st = array_open(r, &rc);
    if (st < 0) return rc;
    size_t idx = 0;
    while (!st) {
        trpt__json_frame(J, NULL, idx);
        if (++idx > J->max_elements || ++r->total_failures > J->max_elements)
            return too_many(r, "failure details");
        trpt_failure *f = trpt__vec_push(J->ctx, &r->fails);
        if (!f) return trpt__json_fail(J, TRPT_E_NOMEM, NULL, NULL, "out of memory");
        if ((rc = parse_failure(r, f))) return rc;
        st = array_next(r, &rc) ? 0 : 1;
        if (rc) return rc;
    }
    J->depth--;
    if (r->fails.len) {
        if (!(pr->failures = arena_copy(r, r->fails.data, r->fails.len * sizeof(trpt_failure))))
            return trpt__json_fail(J, TRPT_E_NOMEM, NULL, NULL, "out of memory");
        pr->nfailures = r->fails.len;
    }
    r->fails.len = 0;
    return TRPT_OK;
}

static const keytab policy_keys[] = {
    K("policy-type"), K("policy-string"), K("policy-domain"), K("mx-host"),
};

/* The "policy" object (RFC 8460 §4.4); its extras go to the policy result. */
static int parse_policy(rp *r, trpt_policy_result *pr)
{
    int rc = 0;
    mwalk w = { 0, 0, 0 };
    int st = object_open(r, &rc, TRPT_RFC_POLICY);
    if (st < 0) return rc;
    while (!st) {
        trpt_str k;
        int id = -1;
        if ((rc = member(r, &w, policy_keys, 4, &k, &id))) return rc;
        int present;
        switch (id) {
        case 0:
            if ((rc = req_str_field(r, &pr->policy_type, TRPT_RFC_POLICY, "policy-type must be a string")))
                return rc;
            pr->type = trpt_policy_type_from(pr->policy_type.ptr, pr->policy_type.len);
            if (pr->type == TRPT_POLICY_OTHER)
                rc = warn(r, "policy-type-unknown", TRPT_RFC_POLICY, NULL,
                          "unknown policy-type \"%.*s\" kept verbatim",
                          (int)(pr->policy_type.len > 64 ? 64 : pr->policy_type.len),
                          pr->policy_type.ptr);
            break;
        case 1:
            rc = string_list(r, LIST_POLICY_STRING, &pr->policy_string, &pr->npolicy_string,
                             &pr->has, TRPT_HAS_POLICY_STRING);
            break;
        case 2:
            if ((rc = str_field(r, &pr->policy_domain, &present, TRPT_RFC_POLICY))) return rc;
            if (!present) break;
            pr->has |= TRPT_HAS_POLICY_DOMAIN;
            rc = check_domain(r, pr->policy_domain, 0);
            break;
        case 3:
            rc = string_list(r, LIST_MX_HOST, &pr->mx_host, &pr->nmx_host, &pr->has,
                             TRPT_HAS_MX_HOST);
            break;
        default: rc = extra_member(r, k, TRPT_RFC_POLICY, "policy"); break;
        }
        if (rc) return rc;
        st = member_next(r, &rc) ? 0 : 1;
        if (rc) return rc;
    }
    J->depth--;
    if (!(w.seen & 1u))
        return trpt__json_fail(J, TRPT_E_FIELD, TRPT_RFC_POLICY, "policy-type",
                               "required member missing");
    if (!(w.seen & 4u) &&
        (rc = warn(r, "field-missing", TRPT_RFC_POLICY, "policy-domain",
                   "required member missing")))
        return rc;
    return TRPT_OK;
}

static const keytab summary_keys[] = {
    K("total-successful-session-count"), K("total-failure-session-count"),
};

static int parse_summary(rp *r, trpt_policy_result *pr)
{
    int rc = 0;
    mwalk w = { 0, 0, 0 };
    int st = object_open(r, &rc, TRPT_RFC_COUNTS);
    if (st < 0) return rc;
    while (!st) {
        trpt_str k;
        int id = -1;
        if ((rc = member(r, &w, summary_keys, 2, &k, &id))) return rc;
        if (id == 0) rc = count_field(r, &pr->total_successful_session_count, TRPT_RFC_COUNTS);
        else if (id == 1) rc = count_field(r, &pr->total_failure_session_count, TRPT_RFC_COUNTS);
        else rc = extra_member(r, k, TRPT_RFC_COUNTS, "summary");
        if (rc) return rc;
        st = member_next(r, &rc) ? 0 : 1;
        if (rc) return rc;
    }
    J->depth--;
    for (int i = 0; i < 2; i++)
        if (!(w.seen & (1u << i)) &&
            (rc = warn(r, "field-missing", TRPT_RFC_COUNTS, summary_keys[i].name,
                       "required member missing, taken as 0")))
            return rc;
    return TRPT_OK;
}

static const keytab item_keys[] = { K("policy"), K("summary"), K("failure-details") };

/* One element of "policies": {policy, summary, failure-details}. Extras of
 * the element, its policy and its summary all land in pr->extra. */
static int parse_policy_item(rp *r, trpt_policy_result *pr)
{
    int rc = 0;
    mwalk w = { 0, 0, 0 };
    int fd_array = 0;
    size_t xfrom = r->extra.len, nest[4]; /* the policy's and summary's blocks */
    int nnest = 0;
    memset(pr, 0, sizeof *pr);
    int st = object_open(r, &rc, TRPT_RFC_SCHEMA);
    if (st < 0) return rc;
    while (!st) {
        trpt_str k;
        int id = -1;
        if ((rc = member(r, &w, item_keys, 3, &k, &id))) return rc;
        size_t at = r->extra.len;
        switch (id) {
        case 0: rc = parse_policy(r, pr); break;
        case 1: rc = parse_summary(r, pr); break;
        case 2: rc = parse_failures(r, pr, &fd_array); break;
        default: rc = extra_member(r, k, TRPT_RFC_SCHEMA, NULL); break;
        }
        if (id == 0 || id == 1) { /* each at most once (member() refuses a repeat) */
            if (!rc) rc = extra_dups(r, at, r->extra.len, NULL, 0);
            nest[2 * nnest] = at;
            nest[2 * nnest++ + 1] = r->extra.len;
        }
        if (rc) return rc;
        st = member_next(r, &rc) ? 0 : 1;
        if (rc) return rc;
    }
    J->depth--;
    if (!(w.seen & 1u))
        return trpt__json_fail(J, TRPT_E_FIELD, TRPT_RFC_POLICY, "policy",
                               "required member missing");
    if (!(w.seen & 2u) &&
        (rc = warn(r, "field-missing", TRPT_RFC_COUNTS, "summary",
                   "required member missing, counts taken as 0")))
        return rc;
    if (fd_array) {
        /* RFC 8460 §4.2: the details break down the failure total. */
        int64_t sum = 0;
        int over = 0;
        for (size_t i = 0; i < pr->nfailures; i++)
            over |= __builtin_add_overflow(sum, pr->failures[i].failed_session_count, &sum);
        if ((over || sum != pr->total_failure_session_count) &&
            (rc = warn(r, "count-mismatch", TRPT_RFC_COUNTS, "summary.total-failure-session-count",
                       "failure-details add up to %lld failed sessions, summary says %lld",
                       (long long)sum, (long long)pr->total_failure_session_count)))
            return rc;
    }
    return extra_finish(r, xfrom, nest, nnest, &pr->extra, &pr->nextra);
}

static int parse_policies(rp *r)
{
    int rc = 0;
    if (J->p >= J->end || *J->p != '[') return type_error(r, "an array", TRPT_RFC_SCHEMA);
    int st = array_open(r, &rc);
    if (st < 0) return rc;
    size_t idx = 0;
    while (!st) {
        trpt__json_frame(J, NULL, idx);
        if (++idx > J->max_elements) return too_many(r, "policies");
        trpt_policy_result *pr = trpt__vec_push(J->ctx, &r->pols);
        if (!pr) return trpt__json_fail(J, TRPT_E_NOMEM, NULL, NULL, "out of memory");
        reserve_ahead(r, POLICY_ROOM); /* its strings, lists, extras */
        if ((rc = parse_policy_item(r, pr))) return rc;
        st = array_next(r, &rc) ? 0 : 1;
        if (rc) return rc;
    }
    J->depth--;
    /* No policy result: nothing to report on (and nothing the builder
     * would write back). */
    if (idx == 0) return warn(r, "policies-empty", TRPT_RFC_SCHEMA, NULL, "no policy results");
    return TRPT_OK;
}

static int parse_date(rp *r, trpt_str *s, int64_t *epoch)
{
    int rc;
    if ((rc = req_str_field(r, s, TRPT_RFC_TIMEFRAME, "must be an RFC 3339 date-time")))
        return rc;
    int k = trpt__datetime_parse(s->ptr, s->len, epoch);
    if (k < 0)
        return trpt__json_fail(J, TRPT_E_FIELD, TRPT_RFC_DATETIME, NULL,
                               "not an RFC 3339 date-time: \"%.*s\"",
                               (int)(s->len > 40 ? 40 : s->len), s->ptr);
    if ((k & TRPT_DT_SPACE) &&
        (rc = warn(r, "datetime-space", TRPT_RFC_DATETIME, NULL,
                   "a space instead of \"T\" between date and time (only RFC 3339's NOTE allows "
                   "it, by agreement)")))
        return rc;
    if ((k & TRPT_DT_NO_ZONE) && (rc = warn(r, "datetime-no-timezone", TRPT_RFC_DATETIME, NULL,
                                            "date-time without a time zone, read as UTC")))
        return rc;
    /* RFC 3339 has years 0000-9999 and offsets around them; a report's dates
     * lie in 1970..9999 UTC (the builder writes no other). */
    if (*epoch < 0 || *epoch > TRPT_MAX_EPOCH)
        return warn(r, "datetime-out-of-range", TRPT_RFC_TIMEFRAME, NULL,
                    "date-time before 1970 or after 9999 (UTC), kept");
    return TRPT_OK;
}

/* organization-name, contact-info, report-id: required, so "" is kept
 * (present) but warned; the builder refuses it. */
static int meta_str(rp *r, trpt_str *dst, unsigned bit)
{
    int present, rc;
    if ((rc = str_field(r, dst, &present, TRPT_RFC_METADATA)) || !present) return rc;
    r->r->has |= bit;
    if (dst->len == 0) return warn(r, "empty-value", TRPT_RFC_METADATA, NULL, "empty string, kept");
    return TRPT_OK;
}

static const keytab range_keys[] = { K("start-datetime"), K("end-datetime") };

static int parse_date_range(rp *r)
{
    int rc = 0;
    mwalk w = { 0, 0, 0 };
    size_t xfrom = r->extra.len;
    int st = object_open(r, &rc, TRPT_RFC_TIMEFRAME);
    if (st < 0) return rc;
    while (!st) {
        trpt_str k;
        int id = -1;
        if ((rc = member(r, &w, range_keys, 2, &k, &id))) return rc;
        if (id == 0) rc = parse_date(r, &r->r->start_datetime, &r->r->start_epoch);
        else if (id == 1) rc = parse_date(r, &r->r->end_datetime, &r->r->end_epoch);
        else rc = extra_member(r, k, TRPT_RFC_TIMEFRAME, "date-range");
        if (rc) return rc;
        st = member_next(r, &rc) ? 0 : 1;
        if (rc) return rc;
    }
    J->depth--;
    for (int i = 0; i < 2; i++)
        if (!(w.seen & (1u << i)))
            return trpt__json_fail(J, TRPT_E_FIELD, TRPT_RFC_TIMEFRAME, range_keys[i].name,
                                   "required member missing");
    if (r->r->end_epoch < r->r->start_epoch &&
        (rc = warn(r, "date-range-inverted", TRPT_RFC_TIMEFRAME, NULL,
                   "end-datetime is before start-datetime")))
        return rc;
    /* Its extras stay with the report's, checked here on their own. */
    r->dr_nest[0] = xfrom;
    r->dr_nest[1] = r->extra.len;
    return extra_dups(r, xfrom, r->extra.len, NULL, 0);
}

static const keytab top_keys[] = {
    K("organization-name"), K("date-range"), K("contact-info"), K("report-id"), K("policies"),
};

static int parse_top(rp *r)
{
    int rc = 0;
    mwalk w = { 0, 0, 0 };
    trpt_report *rep = r->r;
    trpt__json_ws(J);
    if (J->end - J->p >= 3 && memcmp(J->p, "\xEF\xBB\xBF", 3) == 0) {
        if ((rc = warn(r, "bom", "RFC 8259 §8.1", NULL, "byte order mark before the JSON text")))
            return rc;
        J->p += 3;
        trpt__json_ws(J);
    }
    if (J->p >= J->end || *J->p != '{') {
        if (J->p < J->end && (*J->p == '[' || *J->p == '"' || *J->p == '-' ||
                              (*J->p >= '0' && *J->p <= '9') || *J->p == 't' ||
                              *J->p == 'f' || *J->p == 'n')) {
            /* Valid JSON of the wrong shape is a field error, not a syntax one. */
            rc = trpt__json_skip(J);
            if (rc) return rc;
            return trpt__json_fail(J, TRPT_E_FIELD, TRPT_RFC_SCHEMA, NULL,
                                   "a report must be a JSON object");
        }
        return trpt__json_fail(J, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                               J->p >= J->end ? "empty input" : "JSON object expected");
    }
    int st = object_open(r, &rc, TRPT_RFC_SCHEMA);
    if (st < 0) return rc;
    while (!st) {
        trpt_str k;
        int id = -1;
        if ((rc = member(r, &w, top_keys, 5, &k, &id))) return rc;
        switch (id) {
        case 0:
            rc = meta_str(r, &rep->organization_name, TRPT_HAS_ORGANIZATION_NAME);
            break;
        case 1: rc = parse_date_range(r); break;
        case 2: rc = meta_str(r, &rep->contact_info, TRPT_HAS_CONTACT_INFO); break;
        case 3: rc = meta_str(r, &rep->report_id, TRPT_HAS_REPORT_ID); break;
        case 4: rc = parse_policies(r); break;
        default: rc = extra_member(r, k, TRPT_RFC_SCHEMA, NULL); break;
        }
        if (rc) return rc;
        st = member_next(r, &rc) ? 0 : 1;
        if (rc) return rc;
    }
    J->depth--;
    trpt__json_ws(J);
    if (J->p != J->end)
        return trpt__json_fail(J, TRPT_E_SYNTAX, TRPT_RFC_JSON, NULL,
                               "trailing characters after the report");
    if (!(w.seen & 2u))
        return trpt__json_fail(J, TRPT_E_FIELD, TRPT_RFC_TIMEFRAME, "date-range",
                               "required member missing");
    if (!(w.seen & 16u))
        return trpt__json_fail(J, TRPT_E_FIELD, TRPT_RFC_SCHEMA, "policies",
                               "required member missing");
    static const int opt_ids[] = { 0, 2, 3 };
    for (int i = 0; i < 3; i++)
        if (!(w.seen & (1u << opt_ids[i])) &&
            (rc = warn(r, "field-missing", TRPT_RFC_METADATA, top_keys[opt_ids[i]].name,
                       "required member missing")))
            return rc;
    return extra_finish(r, 0, r->dr_nest, r->dr_nest[1] > r->dr_nest[0], &rep->extra, &rep->nextra);
}

static void rp_free(rp *r)
{
    trpt_ctx *ctx = J->ctx;
    trpt__vec_free(ctx, &r->warnings);
    trpt__vec_free(ctx, &r->pols);
    trpt__vec_free(ctx, &r->fails);
    trpt__vec_free(ctx, &r->strs);
    trpt__vec_free(ctx, &r->extra);
    trpt__json_done(J);
}

/* Arena bytes to reserve for the results of a report of len input bytes:
 * 3/4 of the JSON, 1/2 for gzip (the view structs take 0.4-1x on typical reports;
 * reserve_ahead sizes what more they need), whose length for gzip input is
 * the ISIZE trailer clamped as trpt_gunzip clamps it, so a lying trailer
 * reserves no more than the limits let through; plus the decompressed
 * buffer up to RESERVE_GZ_INLINE. 0 for gzip input past that (or too short
 * to hold a trailer): trpt_parse_report reserves once it has inflated. */

static size_t report_estimate(const trpt_ctx *ctx, const char *buf, size_t len, int gz)
{
    size_t json = len;
    if (gz) {
        if (len < 18) return 0;
        const unsigned char *t = (const unsigned char *)buf + len - 4;
        json = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
        if (json > ctx->limits.max_decompressed) json = ctx->limits.max_decompressed;
        if (ctx->limits.max_ratio && len <= SIZE_MAX / ctx->limits.max_ratio &&
            json > len * ctx->limits.max_ratio)
            json = len * ctx->limits.max_ratio;
    }
    if (gz && json > RESERVE_GZ_INLINE) return 0; /* reserved after inflating */
    if (json > RESERVE_MAX) return RESERVE_MAX;
    /* A .gz report's block holds the 1x buffer too: there the first
     * reservation is the views' usual minimum, so that a small report stays
     * under 2x, and reserve_ahead sizes what more a report of heavier views
     * turns out to need. */
    size_t est = (gz ? json / 2 : json / 4 * 3) + 128;
    if (gz) est += json + 16; /* buffer + NUL, aligned */
    return est;
}

/* The parse proper, in a frame of its own (3.8 KiB with the scratch
 * arrays' first buffers), so that it and inflate.c's (3.8 KiB) are never
 * on the stack together. */
static __attribute__((noinline)) int parse_json(trpt_ctx *ctx, const char *buf, size_t len,
                                                const trpt_parse_opts *opts, trpt_report *out,
                                                trpt_error *err)
{
    rp r;
    /* Everything but the inline buffers, which need no clearing. */
    memset(&r, 0, offsetof(rp, warnings_inl));
    r.r = out;
    r.strict = opts && opts->strict;
    r.max_warnings = ctx->limits.max_warnings;
#define SCRATCH(v, a) (v.elem = sizeof a[0], v.inl = a, v.inl_cap = sizeof a / sizeof a[0])
    SCRATCH(r.warnings, r.warnings_inl);
    SCRATCH(r.pols, r.pols_inl);
    SCRATCH(r.fails, r.fails_inl);
    SCRATCH(r.strs, r.strs_inl);
    SCRATCH(r.extra, r.extra_inl);
    r.arena0 = ctx->bytes - (size_t)(ctx->end - ctx->cur);
    trpt__json_init(&r.j, ctx, buf, len, err);
    SCRATCH(r.j.keys, r.keys_inl);
#undef SCRATCH
    int rc = parse_top(&r);
    if (!rc) {
        /* The policy and warning arrays are copied into the arena last. */
        reserve_ahead(&r, r.pols.len * r.pols.elem + r.warnings.len * r.warnings.elem + 32);
        out->npolicies = r.pols.len;
        out->policies = trpt__vec_finish(ctx, &r.pols);
        out->nwarnings = r.warnings.len;
        out->warnings = trpt__vec_finish(ctx, &r.warnings);
        if ((out->npolicies && !out->policies) || (out->nwarnings && !out->warnings))
            rc = trpt__nomem(err);
    }
    rp_free(&r);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

int trpt_parse_report(trpt_ctx *ctx, const void *data, size_t len, const trpt_parse_opts *opts,
                      trpt_report *out, trpt_error *err)
{
    if (!ctx || !out || (!data && len))
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL argument");
    memset(out, 0, sizeof *out);
    if (len > ctx->limits.max_input)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, NULL,
                          "input of %zu bytes exceeds max_input (%zu)", len,
                          ctx->limits.max_input);
    const char *buf = data ? data : "";
    int gz = len >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b;
    /* One arena block for the results, sized from the JSON length: a small
     * report then holds well under 4 KiB, and a ctx reset keeps the whole
     * block, so a loop over similar reports allocates nothing. A .gz report
     * too big to share a block with its decompressed buffer reserves after
     * inflating, so that the buffer goes first into the block a reset kept
     * (the largest, the previous buffer) and only the results come and go. */
    size_t est = report_estimate(ctx, buf, len, gz);
    int after = gz && est == 0;
    if (!after && trpt__ctx_reserve(ctx, est))
        return trpt__nomem(err);
    if (gz) {
        trpt_str z;
        int rc = trpt_gunzip(ctx, data, len, &z, err);
        if (rc) return rc;
        buf = z.ptr;
        len = z.len;
        if (after && trpt__ctx_reserve(ctx, report_estimate(ctx, buf, len, 0)))
            return trpt__nomem(err);
    }
    return parse_json(ctx, buf, len, opts, out, err);
}
