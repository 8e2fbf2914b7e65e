/* Report builder (RFC 8460 §4): metadata, policies, session counts and the
 * merging of identical failure rows. Every input is validated here, so the
 * emitters can write what the model holds without further checks. */
#include "builder.h"
#include "hostname.h"
#include "json.h"
#include "utf8.h"

#include <stdio.h>
#include <sys/random.h>
#include <time.h>

/* ------------------------------------------------------------- buffers */

int trpt__buf_add(trpt_ctx *c, bld_buf *b, const void *d, size_t n)
{
    if (n > SIZE_MAX - b->len - 1) return -1;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + n + 1) {
            if (ncap > SIZE_MAX / 2) { ncap = b->len + n + 1; break; }
            ncap *= 2;
        }
        char *p = trpt__mem(c, b->p, b->cap, ncap);
        if (!p) return -1;
        b->p = p;
        b->cap = ncap;
    }
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0'; /* outputs are NUL-terminated for C callers' convenience */
    return 0;
}

int trpt__buf_printf(trpt_ctx *c, bld_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    /* Callers only format bounded pieces (numbers, dates, short tokens). */
    if (n < 0 || (size_t)n >= sizeof tmp) return -1;
    return trpt__buf_add(c, b, tmp, (size_t)n);
}

void trpt__buf_free(trpt_ctx *c, bld_buf *b)
{
    if (b->p) trpt__mem(c, b->p, b->cap, 0);
    b->p = NULL;
    b->len = b->cap = 0;
}

void trpt__bld_set_out(trpt_builder *b, bld_buf *buf, trpt_str *out)
{
    trpt__buf_free(b->arena, &b->out);
    b->out = *buf;
    *buf = (bld_buf){ 0 };
    out->ptr = b->out.p ? b->out.p : "";
    out->len = b->out.len;
}

/* ---------------------------------------------------------- lifecycle */

static void new_key(trpt_builder *b); /* hashing, below */

trpt_builder *trpt_builder_new(trpt_alloc_fn alloc, void *ud)
{
    trpt_ctx *arena = trpt_ctx_new(alloc, ud, NULL);
    if (!arena) return NULL;
    trpt_builder *b = trpt__mem(arena, NULL, 0, sizeof *b);
    if (!b) {
        trpt_ctx_free(arena);
        return NULL;
    }
    memset(b, 0, sizeof *b);
    b->arena = arena;
    b->policies.elem = sizeof(bld_policy);
    new_key(b);
    return b;
}

void trpt_builder_free(trpt_builder *b)
{
    if (!b) return;
    trpt_ctx *a = b->arena;
    bld_policy *p = (bld_policy *)b->policies.data;
    for (size_t i = 0; i < b->policies.len; i++) trpt__vec_free(a, &p[i].rows);
    trpt__vec_free(a, &b->policies);
    if (b->ptab) trpt__mem(a, b->ptab, b->pcap * sizeof *b->ptab, 0);
    if (b->rtab) trpt__mem(a, b->rtab, b->rcap * sizeof *b->rtab, 0);
    trpt__buf_free(a, &b->out);
    trpt__mem(a, b, sizeof *b, 0);
    trpt_ctx_free(a);
}

void trpt_builder_set_limits(trpt_builder *b, const trpt_limits *limits)
{
    if (b) trpt_ctx_set_limits(b->arena, limits);
}

static const trpt_limits *lim(const trpt_builder *b) { return trpt_ctx_limits(b->arena); }

/* --------------------------------------------------------- validation */

void trpt__bld_show(const char *s, size_t n, char out[BLD_SHOW])
{
    size_t k = 0, max = BLD_SHOW - 4;
    for (size_t i = 0; s && i < n && k < max; i++) {
        unsigned char c = (unsigned char)s[i];
        out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (s && n > max) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

/* NUL is refused too: it would cut C strings and e-mail headers short. */
static int utf8_ok(const char *s, size_t n)
{
    return !memchr(s, '\0', n) && trpt__utf8_valid(s, n);
}

/* A free-text field: valid UTF-8 without NUL, under max_string. */
static int check_text(const trpt_builder *b, trpt_str s, const char *path, trpt_error *err)
{
    if (!s.ptr && s.len) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, path, "NULL string");
    if (s.len == 0)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_SCHEMA, path, "must not be empty");
    if (s.len > lim(b)->max_string)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, path,
                          "string of %zu bytes exceeds max_string (%zu)", s.len, lim(b)->max_string);
    if (!utf8_ok(s.ptr, s.len))
        return trpt__fail(err, TRPT_E_UTF8, TRPT_NO_OFFSET, NULL, path,
                          "invalid UTF-8 or NUL byte");
    return TRPT_OK;
}

static int check_domain(trpt_str s, int wildcard, const char *path, trpt_error *err)
{
    char show[BLD_SHOW];
    if (trpt__domain_ok(s.ptr, s.len, wildcard)) return TRPT_OK;
    trpt__bld_show(s.ptr, s.len, show);
    return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, "RFC 1035 §2.3.1", path,
                      "'%s' is not a valid %s", show, wildcard ? "mx host pattern" : "domain name");
}

static int check_count(int64_t n, const char *path, trpt_error *err)
{
    if (n < 0)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_SCHEMA, path,
                          "session count %lld is negative", (long long)n);
    if (n > BLD_MAX_COUNT)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_SCHEMA, path,
                          "session count %lld exceeds 2^53-1 (RFC 7493 §2.2)", (long long)n);
    return TRPT_OK;
}

static int add_count(int64_t *acc, int64_t n, const char *path, trpt_error *err)
{
    if (*acc > BLD_MAX_COUNT - n)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, path,
                          "session count total exceeds 2^53-1 (RFC 7493 §2.2)");
    *acc += n;
    return TRPT_OK;
}

static int check_epochs(int64_t start, int64_t end, trpt_error *err)
{
    if (start < 0 || start > TRPT_MAX_EPOCH || end < 0 || end > TRPT_MAX_EPOCH)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, "RFC 3339 §5.6", "date-range",
                          "dates must lie between 1970 and 9999");
    if (end < start)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_TIMEFRAME, "date-range",
                          "end-datetime is before start-datetime");
    return TRPT_OK;
}

/* ------------------------------------------------------------ storage */

static int reserve(trpt_builder *b, size_t bytes, trpt_error *err)
{
    size_t cap = lim(b)->max_decompressed;
    if (bytes > cap || b->stored > cap - bytes)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, NULL,
                          "builder strings exceed max_decompressed (%zu bytes)", cap);
    return TRPT_OK;
}

/* Arena copy; reserve() must have been called for its bytes. */
static int store(trpt_builder *b, trpt_str s, trpt_str *out)
{
    char *p = trpt__strdup(b->arena, s.ptr ? s.ptr : "", s.len);
    if (!p) return -1;
    b->stored += s.len;
    *out = (trpt_str){ p, s.len };
    return 0;
}

static trpt_str cstr(const char *s) { return (trpt_str){ s, s ? strlen(s) : 0 }; }

/* ------------------------------------------------------------- hashing */

/* SipHash-1-3 with a per-builder random key: rows imported from untrusted
 * reports cannot be crafted to collide and turn the tables quadratic. The
 * key only affects table slots, never the output order. */
typedef struct sip {
    uint64_t v0, v1, v2, v3, tail;
    size_t ntail, len;
} sip;

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(sip *s)
{
    s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = ROTL(s->v0, 32);
    s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
    s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
    s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = ROTL(s->v2, 32);
}

static void sip_init(sip *s, const uint64_t key[2])
{
    s->v0 = key[0] ^ 0x736f6d6570736575ULL;
    s->v1 = key[1] ^ 0x646f72616e646f6dULL;
    s->v2 = key[0] ^ 0x6c7967656e657261ULL;
    s->v3 = key[1] ^ 0x7465646279746573ULL;
    s->tail = 0;
    s->ntail = s->len = 0;
}

static void sip_add(sip *s, const void *d, size_t n)
{
    const unsigned char *p = d;
    for (size_t i = 0; i < n; i++) {
        s->tail |= (uint64_t)p[i] << (8 * s->ntail);
        if (++s->ntail == 8) {
            s->v3 ^= s->tail;
            sip_round(s);
            s->v0 ^= s->tail;
            s->tail = 0;
            s->ntail = 0;
        }
    }
    s->len += n;
}

static uint64_t sip_end(sip *s)
{
    uint64_t m = ((uint64_t)s->len << 56) | s->tail;
    s->v3 ^= m;
    sip_round(s);
    s->v0 ^= m;
    s->v2 ^= 0xff;
    sip_round(s);
    sip_round(s);
    sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* Length-prefixed, so ("ab","c") and ("a","bc") hash apart. */
static void sip_str(sip *s, trpt_str v)
{
    uint64_t n = v.len;
    sip_add(s, &n, sizeof n);
    sip_add(s, v.ptr, v.len);
}

static void new_key(trpt_builder *b)
{
    if (getrandom(b->key, sizeof b->key, GRND_NONBLOCK) == (ssize_t)sizeof b->key) return;
    /* No entropy yet (early boot): the address and clock still vary per run. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    b->key[0] = (uint64_t)(uintptr_t)b * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_nsec;
    b->key[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)(uintptr_t)&ts;
}

static int str_eq(trpt_str a, trpt_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int strs_eq(const trpt_str *a, size_t na, const trpt_str *b, size_t nb)
{
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (!str_eq(a[i], b[i])) return 0;
    return 1;
}

/* Grows an open-addressing table to keep it at most half full. */
static int grow_ptab(trpt_builder *b)
{
    size_t n = b->policies.len;
    if ((n + 1) * 2 <= b->pcap) return 0;
    size_t ncap = b->pcap ? b->pcap * 2 : 16;
    size_t *t = trpt__mem(b->arena, NULL, 0, ncap * sizeof *t);
    if (!t) return -1;
    memset(t, 0, ncap * sizeof *t);
    const bld_policy *p = (const bld_policy *)b->policies.data;
    for (size_t i = 0; i < n; i++) {
        size_t j = p[i].hash & (ncap - 1);
        while (t[j]) j = (j + 1) & (ncap - 1);
        t[j] = i + 1;
    }
    if (b->ptab) trpt__mem(b->arena, b->ptab, b->pcap * sizeof *b->ptab, 0);
    b->ptab = t;
    b->pcap = ncap;
    return 0;
}

static int grow_rtab(trpt_builder *b)
{
    if ((b->nrows + 1) * 2 <= b->rcap) return 0;
    size_t ncap = b->rcap ? b->rcap * 2 : 16;
    bld_slot *t = trpt__mem(b->arena, NULL, 0, ncap * sizeof *t);
    if (!t) return -1;
    for (size_t j = 0; j < ncap; j++) t[j].row = SIZE_MAX;
    const bld_policy *p = (const bld_policy *)b->policies.data;
    for (size_t i = 0; i < b->policies.len; i++) {
        const bld_row *r = (const bld_row *)p[i].rows.data;
        for (size_t k = 0; k < p[i].rows.len; k++) {
            size_t j = r[k].hash & (ncap - 1);
            while (t[j].row != SIZE_MAX) j = (j + 1) & (ncap - 1);
            t[j] = (bld_slot){ i, k };
        }
    }
    if (b->rtab) trpt__mem(b->arena, b->rtab, b->rcap * sizeof *b->rtab, 0);
    b->rtab = t;
    b->rcap = ncap;
    return 0;
}

static bld_policy *policy_at(const trpt_builder *b, size_t i)
{
    return (bld_policy *)b->policies.data + i;
}

/* ----------------------------------------------------------- metadata */

static int set_meta(trpt_builder *b, trpt_str org, trpt_str contact, trpt_str rid,
                    int64_t start, int64_t end, trpt_error *err)
{
    int rc;
    if (!org.ptr)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_METADATA, "organization-name",
                          "organization-name is required");
    if ((rc = check_text(b, org, "organization-name", err))) return rc;
    if (contact.ptr && (rc = check_text(b, contact, "contact-info", err))) return rc;
    if (rid.ptr && (rc = check_text(b, rid, "report-id", err))) return rc;
    if ((rc = check_epochs(start, end, err))) return rc;
    if ((rc = reserve(b, org.len + contact.len + rid.len, err))) return rc;
    trpt_str o, c = { NULL, 0 }, r = { NULL, 0 };
    if (store(b, org, &o) || (contact.ptr && store(b, contact, &c)) || (rid.ptr && store(b, rid, &r)))
        return trpt__nomem(err);
    b->org = o;
    b->contact = c;
    b->report_id = r;
    b->start = start;
    b->end = end;
    b->has_meta = 1;
    return TRPT_OK;
}

int trpt_builder_set_meta(trpt_builder *b, const char *organization_name, const char *contact_info,
                          const char *report_id, int64_t start_epoch, int64_t end_epoch,
                          trpt_error *err)
{
    int rc = trpt__bld_usable(b, err);
    if (rc) return rc;
    return set_meta(b, cstr(organization_name), cstr(contact_info), cstr(report_id), start_epoch,
                    end_epoch, err);
}

/* ------------------------------------------------------------ policies */

typedef struct policy_in {
    const char *type;                  /* RFC name (static) */
    trpt_str domain;
    const trpt_str *strings;
    size_t nstrings;
    const trpt_str *mx;
    size_t nmx;
} policy_in;

static int check_policy(const trpt_builder *b, trpt_str type, int type_enum, trpt_str domain,
                        const trpt_str *strings, size_t nstrings, const trpt_str *mx, size_t nmx,
                        const char *pfx, policy_in *in, trpt_error *err)
{
    char path[128];
    int rc;
    const char *name = NULL;
    if (type.len) {
        int t = trpt_policy_type_from(type.ptr, type.len);
        name = trpt_policy_type_name(t);
    } else {
        name = trpt_policy_type_name(type_enum);
    }
    snprintf(path, sizeof path, "%spolicy.policy-type", pfx);
    if (!name) {
        char show[BLD_SHOW];
        trpt__bld_show(type.ptr, type.len, show);
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_SCHEMA, path,
                          "unknown policy-type '%s' (sts, tlsa or no-policy-found)", show);
    }
    snprintf(path, sizeof path, "%spolicy.policy-domain", pfx);
    if (!domain.ptr)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_SCHEMA, path,
                          "policy-domain is required");
    if ((rc = check_domain(domain, 0, path, err))) return rc;
    size_t max = lim(b)->max_elements;
    snprintf(path, sizeof path, "%spolicy.policy-string", pfx);
    if (nstrings > max)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, path,
                          "%zu entries exceed max_elements (%zu)", nstrings, max);
    if (nstrings && !strings) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, path, "NULL array");
    for (size_t i = 0; i < nstrings; i++) {
        snprintf(path, sizeof path, "%spolicy.policy-string[%zu]", pfx, i);
        if (!strings[i].ptr) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, path, "NULL string");
        if ((rc = check_text(b, strings[i], path, err))) return rc;
        /* Readers (ours too) take such an element for the Microsoft quirk
         * and use its strings instead: it would not read back as written. */
        int array;
        if (trpt__json_string_array(b->arena, strings[i], NULL, NULL, &array))
            return trpt__nomem(err);
        if (array)
            return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_POLICY, path,
                              "a JSON-encoded array of strings; give its strings as entries");
    }
    snprintf(path, sizeof path, "%spolicy.mx-host", pfx);
    if (nmx > max)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, path,
                          "%zu entries exceed max_elements (%zu)", nmx, max);
    if (nmx && !mx) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, path, "NULL array");
    for (size_t i = 0; i < nmx; i++) {
        snprintf(path, sizeof path, "%spolicy.mx-host[%zu]", pfx, i);
        if ((rc = check_domain(mx[i], 1, path, err))) return rc;
    }
    *in = (policy_in){ name, domain, strings, nstrings, mx, nmx };
    return TRPT_OK;
}

static uint64_t policy_hash(const trpt_builder *b, const policy_in *in)
{
    sip s;
    sip_init(&s, b->key);
    sip_str(&s, cstr(in->type));
    sip_str(&s, in->domain);
    sip_add(&s, &in->nstrings, sizeof in->nstrings);
    for (size_t i = 0; i < in->nstrings; i++) sip_str(&s, in->strings[i]);
    sip_add(&s, &in->nmx, sizeof in->nmx);
    for (size_t i = 0; i < in->nmx; i++) sip_str(&s, in->mx[i]);
    return sip_end(&s);
}

static int copy_strs(trpt_builder *b, const trpt_str *in, size_t n, trpt_str **out)
{
    *out = NULL;
    if (!n) return 0;
    trpt_str *a = trpt_ctx_alloc(b->arena, n * sizeof *a);
    if (!a) return -1;
    for (size_t i = 0; i < n; i++)
        if (store(b, in[i], &a[i])) return -1;
    *out = a;
    return 0;
}

/* Adds a validated policy, or finds the equal one already there. */
static int put_policy(trpt_builder *b, const policy_in *in, size_t *index, trpt_error *err)
{
    uint64_t h = policy_hash(b, in);
    if (b->pcap) {
        for (size_t j = h & (b->pcap - 1); b->ptab[j]; j = (j + 1) & (b->pcap - 1)) {
            const bld_policy *p = policy_at(b, b->ptab[j] - 1);
            if (p->hash == h && p->type == in->type && str_eq(p->domain, in->domain) &&
                strs_eq(p->strings, p->nstrings, in->strings, in->nstrings) &&
                strs_eq(p->mx, p->nmx, in->mx, in->nmx)) {
                *index = b->ptab[j] - 1;
                return TRPT_OK;
            }
        }
    }
    if (b->policies.len >= lim(b)->max_elements)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, "policies",
                          "more than max_elements (%zu) policies", lim(b)->max_elements);
    size_t bytes = in->domain.len;
    for (size_t i = 0; i < in->nstrings; i++) bytes += in->strings[i].len;
    for (size_t i = 0; i < in->nmx; i++) bytes += in->mx[i].len;
    int rc = reserve(b, bytes, err);
    if (rc) return rc;
    bld_policy np = { 0 };
    np.type = in->type;
    np.hash = h;
    np.rows.elem = sizeof(bld_row);
    np.nstrings = in->nstrings;
    np.nmx = in->nmx;
    if (grow_ptab(b) || store(b, in->domain, &np.domain) ||
        copy_strs(b, in->strings, in->nstrings, &np.strings) ||
        copy_strs(b, in->mx, in->nmx, &np.mx))
        return trpt__nomem(err);
    bld_policy *slot = trpt__vec_push(b->arena, &b->policies);
    if (!slot) return trpt__nomem(err);
    *slot = np;
    size_t j = h & (b->pcap - 1);
    while (b->ptab[j]) j = (j + 1) & (b->pcap - 1);
    b->ptab[j] = b->policies.len;
    *index = b->policies.len - 1;
    return TRPT_OK;
}

/* Converts a C string array; the temporary lives in the builder's allocator. */
static trpt_str *strs_from(trpt_builder *b, const char *const *a, size_t n)
{
    if (!n) return NULL;
    if (n > SIZE_MAX / sizeof(trpt_str)) return NULL;
    trpt_str *s = trpt__mem(b->arena, NULL, 0, n * sizeof *s);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) s[i] = cstr(a[i]);
    return s;
}

int trpt_builder_add_policy(trpt_builder *b, const char *policy_type, const char *policy_domain,
                            const char *const *policy_strings, size_t npolicy_strings,
                            const char *const *mx_hosts, size_t nmx_hosts, size_t *index,
                            trpt_error *err)
{
    if (!b || !index)
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL builder or index");
    int rc = trpt__bld_usable(b, err);
    if (rc) return rc;
    if (!policy_type)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_SCHEMA, "policy.policy-type",
                          "policy-type is required");
    if ((npolicy_strings && !policy_strings) || (nmx_hosts && !mx_hosts))
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL array with a count");
    size_t max = lim(b)->max_elements;
    if (npolicy_strings > max || nmx_hosts > max)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, "policy",
                          "more than max_elements (%zu) policy-string / mx-host entries", max);
    trpt_str *ps = strs_from(b, policy_strings, npolicy_strings);
    trpt_str *mx = strs_from(b, mx_hosts, nmx_hosts);
    if ((npolicy_strings && !ps) || (nmx_hosts && !mx)) {
        rc = trpt__nomem(err);
    } else {
        policy_in in;
        rc = check_policy(b, cstr(policy_type), 0, cstr(policy_domain), ps, npolicy_strings, mx,
                          nmx_hosts, "", &in, err);
        if (!rc) rc = put_policy(b, &in, index, err);
    }
    if (ps) trpt__mem(b->arena, ps, npolicy_strings * sizeof *ps, 0);
    if (mx) trpt__mem(b->arena, mx, nmx_hosts * sizeof *mx, 0);
    return rc;
}

static int check_index(const trpt_builder *b, size_t policy, trpt_error *err)
{
    int rc = trpt__bld_usable(b, err);
    if (rc) return rc;
    if (policy >= b->policies.len)
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL,
                          "no policy with index %zu", policy);
    return TRPT_OK;
}

int trpt_builder_add_success(trpt_builder *b, size_t policy, int64_t count, trpt_error *err)
{
    int rc;
    if ((rc = check_index(b, policy, err))) return rc;
    if ((rc = check_count(count, "summary.total-successful-session-count", err))) return rc;
    return add_count(&policy_at(b, policy)->success, count, "summary.total-successful-session-count",
                     err);
}

/* ------------------------------------------------------------ failures */

typedef struct failure_in {
    const char *type;                  /* RFC name (static) */
    trpt_str opt[BLD_NOPT];
    unsigned has;
    int64_t count;
} failure_in;

static const char *const opt_names[BLD_NOPT] = {
    "sending-mta-ip", "receiving-mx-hostname", "receiving-mx-helo",
    "receiving-ip", "additional-information", "failure-reason-code",
};

static int check_failure(const trpt_builder *b, const trpt_failure *f, const char *pfx,
                         failure_in *in, trpt_error *err)
{
    char path[160];
    int rc;
    const char *name;
    if (f->result_type.len)
        name = trpt_result_type_name(trpt_result_type_from(f->result_type.ptr, f->result_type.len));
    else
        name = trpt_result_type_name(f->result);
    snprintf(path, sizeof path, "%sresult-type", pfx);
    char show[BLD_SHOW];
    if (!name) {
        trpt__bld_show(f->result_type.ptr, f->result_type.len, show);
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_RESULTS, path,
                          "unknown result-type '%s'", show);
    }
    const trpt_str src[BLD_NOPT] = {
        f->sending_mta_ip, f->receiving_mx_hostname, f->receiving_mx_helo,
        f->receiving_ip, f->additional_information, f->failure_reason_code,
    };
    memset(in, 0, sizeof *in);
    for (int i = 0; i < BLD_NOPT; i++) {
        if (!(f->has & (1u << i))) continue; /* TRPT_HAS_* bits 0-5 follow opt_names */
        snprintf(path, sizeof path, "%s%s", pfx, opt_names[i]);
        trpt_str s = src[i];
        if (!s.ptr) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, path, "NULL string");
        if (i == BLD_SENDING_MTA_IP || i == BLD_RECEIVING_IP) {
            if (!trpt__ip_ok(s.ptr, s.len)) {
                trpt__bld_show(s.ptr, s.len, show);
                return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_SCHEMA, path,
                                  "'%s' is not an IPv4 or IPv6 address", show);
            }
        } else if (i == BLD_RECEIVING_MX_HOSTNAME) {
            if ((rc = check_domain(s, 0, path, err))) return rc;
        } else if ((rc = check_text(b, s, path, err))) {
            return rc;
        }
        in->opt[i] = s;
        in->has |= 1u << i;
    }
    snprintf(path, sizeof path, "%sfailed-session-count", pfx);
    if ((rc = check_count(f->failed_session_count, path, err))) return rc;
    in->type = name;
    in->count = f->failed_session_count;
    return TRPT_OK;
}

static uint64_t row_hash(const trpt_builder *b, size_t policy, const failure_in *in)
{
    sip s;
    sip_init(&s, b->key);
    sip_add(&s, &policy, sizeof policy);
    sip_str(&s, cstr(in->type));
    sip_add(&s, &in->has, sizeof in->has);
    for (int i = 0; i < BLD_NOPT; i++)
        if (in->has & (1u << i)) sip_str(&s, in->opt[i]);
    return sip_end(&s);
}

static int row_eq(const bld_row *r, const failure_in *in)
{
    if (r->result_type != in->type || r->has != in->has) return 0;
    for (int i = 0; i < BLD_NOPT; i++)
        if ((in->has & (1u << i)) && !str_eq(r->opt[i], in->opt[i])) return 0;
    return 1;
}

/* Merges into the row with the same fields, or appends a new row. */
static int put_failure(trpt_builder *b, size_t policy, const failure_in *in, const char *path,
                       trpt_error *err)
{
    bld_policy *p = policy_at(b, policy);
    int rc;
    int64_t total = p->failure;
    if ((rc = add_count(&total, in->count, "summary.total-failure-session-count", err))) return rc;
    uint64_t h = row_hash(b, policy, in);
    if (b->rcap) {
        for (size_t j = h & (b->rcap - 1); b->rtab[j].row != SIZE_MAX; j = (j + 1) & (b->rcap - 1)) {
            if (b->rtab[j].policy != policy) continue;
            bld_row *r = (bld_row *)p->rows.data + b->rtab[j].row;
            if (r->hash != h || !row_eq(r, in)) continue;
            if ((rc = add_count(&r->count, in->count, path, err))) return rc;
            p->failure = total;
            return TRPT_OK;
        }
    }
    if (b->nrows >= lim(b)->max_elements)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, path,
                          "more than max_elements (%zu) failure-details rows", lim(b)->max_elements);
    size_t bytes = 0;
    for (int i = 0; i < BLD_NOPT; i++) bytes += in->opt[i].len;
    if ((rc = reserve(b, bytes, err))) return rc;
    bld_row nr = { 0 };
    nr.result_type = in->type;
    nr.has = in->has;
    nr.count = in->count;
    nr.hash = h;
    for (int i = 0; i < BLD_NOPT; i++)
        if ((in->has & (1u << i)) && store(b, in->opt[i], &nr.opt[i]))
            return trpt__nomem(err);
    if (grow_rtab(b))
        return trpt__nomem(err);
    bld_row *slot = trpt__vec_push(b->arena, &p->rows);
    if (!slot) return trpt__nomem(err);
    *slot = nr;
    size_t j = h & (b->rcap - 1);
    while (b->rtab[j].row != SIZE_MAX) j = (j + 1) & (b->rcap - 1);
    b->rtab[j] = (bld_slot){ policy, p->rows.len - 1 };
    b->nrows++;
    p->failure = total;
    return TRPT_OK;
}

int trpt_builder_add_failure(trpt_builder *b, size_t policy, const trpt_failure *f, trpt_error *err)
{
    int rc;
    if ((rc = check_index(b, policy, err))) return rc;
    if (!f) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL failure");
    failure_in in;
    if ((rc = check_failure(b, f, "failure-details.", &in, err))) return rc;
    return put_failure(b, policy, &in, "failure-details", err);
}

/* -------------------------------------------------------------- import */

static int present(trpt_str s) { return s.ptr != NULL && s.len > 0; }

static int check_report_policy(const trpt_builder *b, const trpt_policy_result *pr, size_t i,
                               policy_in *in, trpt_error *err)
{
    char pfx[64], path[160];
    int rc;
    snprintf(pfx, sizeof pfx, "policies[%zu].", i);
    if ((rc = check_policy(b, pr->policy_type, pr->type,
                           present(pr->policy_domain) ? pr->policy_domain : (trpt_str){ NULL, 0 },
                           pr->policy_string, pr->npolicy_string, pr->mx_host, pr->nmx_host, pfx,
                           in, err)))
        return rc;
    snprintf(path, sizeof path, "%ssummary.total-successful-session-count", pfx);
    if ((rc = check_count(pr->total_successful_session_count, path, err))) return rc;
    snprintf(path, sizeof path, "%ssummary.total-failure-session-count", pfx);
    if ((rc = check_count(pr->total_failure_session_count, path, err))) return rc;
    snprintf(path, sizeof path, "%sfailure-details", pfx);
    if (pr->nfailures && !pr->failures)
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, path, "NULL failures array");
    if (pr->nfailures > lim(b)->max_elements)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, path,
                          "more than max_elements (%zu) failure-details", lim(b)->max_elements);
    for (size_t k = 0; k < pr->nfailures; k++) {
        failure_in fi;
        snprintf(path, sizeof path, "%sfailure-details[%zu].", pfx, k);
        if ((rc = check_failure(b, &pr->failures[k], path, &fi, err))) return rc;
    }
    return TRPT_OK;
}

static int add_report_policies(trpt_builder *b, const trpt_report *r, int *changed,
                               trpt_error *err);

int trpt_builder_add_report(trpt_builder *b, const trpt_report *r, trpt_error *err)
{
    if (!r) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL builder or report");
    int rc = trpt__bld_usable(b, err);
    if (rc) return rc;
    if (r->npolicies && !r->policies)
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, "policies", "NULL policies array");
    if (r->npolicies > lim(b)->max_elements)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, "policies",
                          "more than max_elements (%zu) policies", lim(b)->max_elements);
    /* Validate everything first so a bad report leaves the builder untouched. */
    if (!b->has_meta) {
        if (!present(r->organization_name))
            return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_METADATA, "organization-name",
                              "organization-name is required");
        if ((rc = check_text(b, r->organization_name, "organization-name", err))) return rc;
        if (present(r->contact_info) && (rc = check_text(b, r->contact_info, "contact-info", err)))
            return rc;
        if (present(r->report_id) && (rc = check_text(b, r->report_id, "report-id", err)))
            return rc;
        if ((rc = check_epochs(r->start_epoch, r->end_epoch, err))) return rc;
    }
    for (size_t i = 0; i < r->npolicies; i++) {
        policy_in in;
        if ((rc = check_report_policy(b, &r->policies[i], i, &in, err))) return rc;
    }
    int set_here = !b->has_meta;
    if (set_here) {
        trpt_str none = { NULL, 0 };
        if ((rc = set_meta(b, r->organization_name, present(r->contact_info) ? r->contact_info : none,
                           present(r->report_id) ? r->report_id : none, r->start_epoch,
                           r->end_epoch, err)))
            return rc;
    }
    /* Only caps and memory can fail from here on. Before anything changed
     * the metadata set here is taken back; after, the builder holds part of
     * the report and refuses further use (b->broken). */
    int changed = 0;
    if ((rc = add_report_policies(b, r, &changed, err))) {
        if (changed) b->broken = 1;
        else if (set_here) b->has_meta = 0;
    }
    return rc;
}

static int add_report_policies(trpt_builder *b, const trpt_report *r, int *changed,
                               trpt_error *err)
{
    int rc;
    for (size_t i = 0; i < r->npolicies; i++) {
        const trpt_policy_result *pr = &r->policies[i];
        policy_in in;
        size_t idx;
        if ((rc = check_policy(b, pr->policy_type, pr->type,
                               present(pr->policy_domain) ? pr->policy_domain : (trpt_str){ NULL, 0 },
                               pr->policy_string, pr->npolicy_string, pr->mx_host, pr->nmx_host,
                               "", &in, err)))
            return rc;
        size_t had = b->policies.len;
        if ((rc = put_policy(b, &in, &idx, err))) return rc;
        if (b->policies.len != had) *changed = 1;
        bld_policy *p = policy_at(b, idx);
        if ((rc = add_count(&p->success, pr->total_successful_session_count,
                            "summary.total-successful-session-count", err)))
            return rc;
        if (pr->total_successful_session_count) *changed = 1;
        int64_t detailed = 0;
        for (size_t k = 0; k < pr->nfailures; k++) {
            failure_in fi;
            char path[160];
            snprintf(path, sizeof path, "policies[%zu].failure-details[%zu].", i, k);
            if ((rc = check_failure(b, &pr->failures[k], path, &fi, err))) return rc;
            if ((rc = put_failure(b, idx, &fi, "failure-details", err))) return rc;
            *changed = 1;
            detailed += fi.count; /* each <= 2^53 and their sum was checked by put_failure */
        }
        /* Failed sessions the reporter did not detail still count in the summary. */
        if (pr->total_failure_session_count > detailed) {
            if ((rc = add_count(&policy_at(b, idx)->failure,
                                pr->total_failure_session_count - detailed,
                                "summary.total-failure-session-count", err)))
                return rc;
            *changed = 1;
        }
    }
    return TRPT_OK;
}

/* -------------------------------------------------------------- output */

int trpt__bld_usable(const trpt_builder *b, trpt_error *err)
{
    if (!b) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL builder");
    if (b->broken)
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL,
                          "an earlier add_report stopped part-way (a cap or memory): this builder "
                          "holds part of that report; start a new one");
    return TRPT_OK;
}

int trpt__bld_check_ready(const trpt_builder *b, trpt_error *err)
{
    int rc = trpt__bld_usable(b, err);
    if (rc) return rc;
    if (!b->has_meta)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_METADATA, NULL,
                          "report metadata not set (organization-name, date-range)");
    if (!b->contact.ptr)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_METADATA, "contact-info",
                          "contact-info is required");
    if (!b->report_id.ptr)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_METADATA, "report-id",
                          "report-id is required");
    if (!b->policies.len)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_SCHEMA, "policies",
                          "no policy added");
    return TRPT_OK;
}

const trpt_str *trpt__bld_common_domain(const trpt_builder *b)
{
    if (!b->policies.len) return NULL;
    const trpt_str *d = &policy_at(b, 0)->domain;
    for (size_t i = 1; i < b->policies.len; i++) {
        const trpt_str *e = &policy_at(b, i)->domain;
        if (!trpt__dom_eq(*d, *e)) return NULL;
    }
    return d;
}

/* Days from civil, after H. Hinnant's public-domain algorithm (proleptic Gregorian). */
void trpt__bld_civil(int64_t t, int *year, int *mon, int *day, int *hh, int *mm, int *ss, int *wday)
{
    int64_t days = t / 86400, secs = t % 86400;
    *hh = (int)(secs / 3600);
    *mm = (int)(secs / 60 % 60);
    *ss = (int)(secs % 60);
    *wday = (int)((days + 4) % 7); /* 1970-01-01 was a Thursday */
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(y + (*mon <= 2));
}

void trpt__bld_rfc3339(int64_t t, char out[21])
{
    int y, mo, d, h, mi, s, wd;
    trpt__bld_civil(t, &y, &mo, &d, &h, &mi, &s, &wd);
    /* t is range-checked, so every field fits its width; the modulos tell the compiler. */
    snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y % 10000, (unsigned)mo % 100,
             (unsigned)d % 100, (unsigned)h % 100, (unsigned)mi % 100, (unsigned)s % 100);
}
