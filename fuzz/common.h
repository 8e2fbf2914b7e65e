/* Helpers shared by the fuzz targets: input splitting, view walking and a
 * loud check that aborts (libFuzzer then saves the input as a crash). */
#ifndef TRPT_FUZZ_COMMON_H
#define TRPT_FUZZ_COMMON_H

#include "trpt.h"
#include "report_eq.h"
#include "utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated invariant is a bug: print where and abort so the input is kept. */
#define FUZZ_CHECK(cond, ...)                                                    \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__,        \
                    __LINE__, #cond);                                            \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* Reads every byte of a view so ASan reports a slice that points outside
 * its buffer; the sum keeps the compiler from dropping the loads. */
static inline unsigned fuzz_touch(trpt_str s)
{
    unsigned sum = 0;
    FUZZ_CHECK(s.ptr || s.len == 0, "slice with NULL ptr and len %zu", s.len);
    for (size_t i = 0; i < s.len; i++) sum += (unsigned char)s.ptr[i];
    return sum;
}

static inline unsigned fuzz_touch_kvs(const trpt_kv *kv, size_t n)
{
    unsigned sum = 0;
    FUZZ_CHECK(kv || n == 0, "NULL kv array with %zu entries", n);
    for (size_t i = 0; i < n; i++) sum += fuzz_touch(kv[i].key) + fuzz_touch(kv[i].value);
    return sum;
}

static inline unsigned fuzz_touch_cstr(const char *s)
{
    unsigned sum = 0;
    if (s)
        while (*s) sum += (unsigned char)*s++;
    return sum;
}

/* Messages and paths quote the input: they must still be printable text,
 * valid UTF-8 without C0, DEL or C1 controls. */
static inline void fuzz_check_text(const char *s, const char *what)
{
    const char *e = s + strlen(s);
    for (const char *p = s; p < e;) {
        unsigned char c = (unsigned char)*p;
        size_t k = c < 0x80 ? 1 : trpt__utf8_seq(p, e);
        FUZZ_CHECK(k && c >= 0x20 && c != 0x7f && !(c == 0xC2 && (unsigned char)p[1] < 0xA0),
                   "%s has byte 0x%02x at %zu: %s", what, c, (size_t)(p - s), s);
        p += k;
    }
}

/* An error must name a known code and carry a NUL-terminated message. */
static inline void fuzz_check_error(int rc, const trpt_error *e)
{
    FUZZ_CHECK(rc > TRPT_OK && rc < TRPT_E__COUNT, "bad return code %d", rc);
    FUZZ_CHECK(e->code == rc, "err.code %d != rc %d", e->code, rc);
    FUZZ_CHECK(memchr(e->message, 0, sizeof e->message) != NULL, "message not terminated");
    FUZZ_CHECK(memchr(e->path, 0, sizeof e->path) != NULL, "path not terminated");
    FUZZ_CHECK(e->message[0] != '\0', "empty error message (code %s)", trpt_code_name(rc));
    FUZZ_CHECK(trpt_code_name(rc) != NULL, "no name for code %d", rc);
    fuzz_check_text(e->message, "error message");
    fuzz_check_text(e->path, "error path");
    fuzz_touch_cstr(e->rfc);
}

/* Splits the input at NUL bytes into up to max TXT strings (the shape of a
 * TXT RRset: several records, each already joined). Returns the count. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, trpt_str *out, size_t max)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size && n < max; i++) {
        if (i == size || data[i] == 0) {
            out[n].ptr = (const char *)data + start;
            out[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    return n;
}

/* A record parser's raw must be one of the n records it was given. */
static inline void fuzz_check_raw(trpt_str raw, const trpt_str *txt, size_t n)
{
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (raw.len == txt[i].len && memcmp(raw.ptr, txt[i].ptr, raw.len) == 0) found = 1;
    FUZZ_CHECK(found, "raw is not one of the input records");
}

/* Limits small enough that the fuzzer reaches every cap quickly, and large
 * enough for every seed: a cap bypass then shows as a big allocation that
 * -malloc_limit_mb reports. */
static inline void fuzz_limits(trpt_limits *lim)
{
    trpt_limits_default(lim);
    lim->max_input = 1 << 20;
    lim->max_decompressed = 4 << 20;
    lim->max_ratio = 100;
    lim->max_depth = 16;
    lim->max_string = 64 << 10;
    lim->max_elements = 4096;
    lim->max_warnings = 64;
}

/* Allocator that fails the fail_at-th allocation (1-based; 0 never): the
 * targets replay each input with one allocation failing to walk the
 * TRPT_E_NOMEM paths, which ordinary inputs never reach. */
typedef struct fuzz_oom {
    unsigned long count, fail_at;
} fuzz_oom;

static inline void *fuzz_oom_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    fuzz_oom *o = ud;
    (void)osize;
    if (nsize == 0) {
        free(p);
        return NULL;
    }
    if (++o->count == o->fail_at) return NULL;
    return realloc(p, nsize);
}

/* FNV-1a of the input: picks which allocation fails, the same way on
 * every replay of one input. */
static inline unsigned long fuzz_hash(const uint8_t *data, size_t size)
{
    unsigned long h = 2166136261u;
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 16777619u;
    return h;
}

/* Walks a whole parsed report: every slice, every array, every warning. */
static inline unsigned fuzz_touch_report(const trpt_report *r)
{
    unsigned sum = fuzz_touch(r->organization_name) + fuzz_touch(r->start_datetime) +
                   fuzz_touch(r->end_datetime) + fuzz_touch(r->contact_info) +
                   fuzz_touch(r->report_id) + fuzz_touch_kvs(r->extra, r->nextra);
    FUZZ_CHECK(r->policies || r->npolicies == 0, "NULL policies");
    for (size_t i = 0; i < r->npolicies; i++) {
        const trpt_policy_result *p = &r->policies[i];
        sum += fuzz_touch(p->policy_type) + fuzz_touch(p->policy_domain);
        FUZZ_CHECK(p->policy_string || p->npolicy_string == 0, "NULL policy_string");
        for (size_t j = 0; j < p->npolicy_string; j++) sum += fuzz_touch(p->policy_string[j]);
        FUZZ_CHECK(p->mx_host || p->nmx_host == 0, "NULL mx_host");
        for (size_t j = 0; j < p->nmx_host; j++) sum += fuzz_touch(p->mx_host[j]);
        FUZZ_CHECK(p->type >= TRPT_POLICY_OTHER && p->type <= TRPT_POLICY_NO_POLICY_FOUND,
                   "policy type %d", p->type);
        FUZZ_CHECK(p->total_successful_session_count >= 0 && p->total_failure_session_count >= 0,
                   "negative session count");
        sum += fuzz_touch_kvs(p->extra, p->nextra);
        FUZZ_CHECK(p->failures || p->nfailures == 0, "NULL failures");
        for (size_t j = 0; j < p->nfailures; j++) {
            const trpt_failure *f = &p->failures[j];
            sum += fuzz_touch(f->result_type) + fuzz_touch(f->sending_mta_ip) +
                   fuzz_touch(f->receiving_mx_hostname) + fuzz_touch(f->receiving_mx_helo) +
                   fuzz_touch(f->receiving_ip) + fuzz_touch(f->additional_information) +
                   fuzz_touch(f->failure_reason_code) + fuzz_touch_kvs(f->extra, f->nextra);
            FUZZ_CHECK(f->result >= TRPT_RESULT_OTHER && f->result <= TRPT_RESULT_STS_WEBPKI_INVALID,
                       "result type %d", f->result);
            FUZZ_CHECK(f->failed_session_count >= 0, "negative failed-session-count");
        }
    }
    FUZZ_CHECK(r->warnings || r->nwarnings == 0, "NULL warnings");
    for (size_t i = 0; i < r->nwarnings; i++) {
        const trpt_warning *w = &r->warnings[i];
        FUZZ_CHECK(w->code && w->code[0], "warning without code");
        fuzz_check_text(w->path, "warning path");
        fuzz_check_text(w->message, "warning message");
        sum += fuzz_touch_cstr(w->code) + fuzz_touch_cstr(w->path) + fuzz_touch_cstr(w->rfc) +
               fuzz_touch_cstr(w->message);
    }
    return sum;
}

/* A report accepted under lim respects its caps: no decoded string longer
 * than max_string, no list longer than max_elements, at most max_warnings
 * warnings kept. (extra values are raw JSON text, not one string.) */
static inline void fuzz_check_report_limits(const trpt_report *r, const trpt_limits *lim)
{
#define FUZZ_STR_CAP(s) FUZZ_CHECK((s).len <= lim->max_string, #s " of %zu bytes", (s).len)
#define FUZZ_LIST_CAP(n) FUZZ_CHECK((n) <= lim->max_elements, #n " = %zu", (size_t)(n))
    FUZZ_STR_CAP(r->organization_name);
    FUZZ_STR_CAP(r->contact_info);
    FUZZ_STR_CAP(r->report_id);
    FUZZ_LIST_CAP(r->npolicies);
    FUZZ_CHECK(r->nwarnings <= lim->max_warnings, "%zu warnings kept", r->nwarnings);
    for (size_t i = 0; i < r->npolicies; i++) {
        const trpt_policy_result *p = &r->policies[i];
        FUZZ_STR_CAP(p->policy_type);
        FUZZ_STR_CAP(p->policy_domain);
        FUZZ_LIST_CAP(p->npolicy_string);
        FUZZ_LIST_CAP(p->nmx_host);
        FUZZ_LIST_CAP(p->nfailures);
        for (size_t j = 0; j < p->npolicy_string; j++) FUZZ_STR_CAP(p->policy_string[j]);
        for (size_t j = 0; j < p->nmx_host; j++) FUZZ_STR_CAP(p->mx_host[j]);
        for (size_t j = 0; j < p->nfailures; j++) {
            const trpt_failure *f = &p->failures[j];
            FUZZ_STR_CAP(f->result_type);
            FUZZ_STR_CAP(f->sending_mta_ip);
            FUZZ_STR_CAP(f->receiving_mx_hostname);
            FUZZ_STR_CAP(f->receiving_mx_helo);
            FUZZ_STR_CAP(f->receiving_ip);
            FUZZ_STR_CAP(f->additional_information);
            FUZZ_STR_CAP(f->failure_reason_code);
        }
    }
#undef FUZZ_STR_CAP
#undef FUZZ_LIST_CAP
}

/* A report entry point as the report_json and report_email targets drive it:
 * parse into the caller's result struct, walk every view of a result, and
 * find the report inside it. */
typedef struct fuzz_report_entry {
    int (*parse)(trpt_ctx *, const uint8_t *, size_t, const trpt_parse_opts *, void *out,
                 trpt_error *);
    void (*touch)(const void *out);
    const trpt_report *(*report)(const void *out);
} fuzz_report_entry;

/* Lenient and strict parses of one input must agree (strict rejects exactly
 * what lenient warns about); then the lenient parse once more with one
 * allocation failing: TRPT_E_NOMEM (or success, if that allocation had a
 * fallback), never a crash or a leak. res1/res2 hold two results. */
static inline int fuzz_report_modes(const fuzz_report_entry *ep, const uint8_t *data,
                                    size_t size, void *res1, void *res2)
{
    trpt_limits lim;
    fuzz_limits(&lim);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
    if (!ctx) return 0;
    trpt_error e1, e2;
    trpt_parse_opts lo = { 0 }, so = { 1 };
    int rc1 = ep->parse(ctx, data, size, &lo, res1, &e1);
    int rc2 = ep->parse(ctx, data, size, &so, res2, &e2);
    if (rc1 != TRPT_OK) {
        fuzz_check_error(rc1, &e1);
        FUZZ_CHECK(rc1 != TRPT_E_STRICT, "lenient parse returned the strict code");
        FUZZ_CHECK(rc2 != TRPT_OK, "strict accepts what lenient rejects (%s: %s)",
                   trpt_code_name(rc1), e1.message);
    } else {
        const trpt_report *lenient = ep->report(res1);
        ep->touch(res1);
        fuzz_check_report_limits(lenient, &lim);
        int clean = lenient->nwarnings == 0 && lenient->nwarnings_dropped == 0;
        FUZZ_CHECK(clean == (rc2 == TRPT_OK), "lenient %zu warnings (first %s), strict %s: %s",
                   lenient->nwarnings, lenient->nwarnings ? lenient->warnings[0].code : "-",
                   trpt_code_name(rc2), rc2 ? e2.message : "ok");
    }
    if (rc2 != TRPT_OK) {
        fuzz_check_error(rc2, &e2);
    } else {
        ep->touch(res2);
        FUZZ_CHECK(ep->report(res2)->nwarnings == 0, "strict parse with warnings");
    }
    /* ctx stays alive: res1, the lenient result, is compared below. */

    /* Count the allocations of a lenient parse, then fail one of them. */
    fuzz_oom oom = { 0, 0 };
    trpt_ctx *oc = trpt_ctx_new(fuzz_oom_alloc, &oom, &lim);
    if (oc) {
        ep->parse(oc, data, size, &lo, res2, &e2);
        trpt_ctx_free(oc);
    }
    unsigned long total = oom.count;
    if (!oc || total < 2) {
        trpt_ctx_free(ctx);
        return 0;
    }
    oom.count = 0;
    oom.fail_at = 2 + fuzz_hash(data, size) % (total - 1); /* 1 is the ctx itself */
    if (!(oc = trpt_ctx_new(fuzz_oom_alloc, &oom, &lim))) {
        trpt_ctx_free(ctx);
        return 0;
    }
    int rc = ep->parse(oc, data, size, &lo, res2, &e2);
    if (rc != TRPT_OK) fuzz_check_error(rc, &e2);
    else ep->touch(res2);
    if (oom.count >= oom.fail_at && rc != TRPT_OK && rc != rc1)
        FUZZ_CHECK(rc == TRPT_E_NOMEM, "allocation %lu of %lu failed, got %s: %s", oom.fail_at,
                   total, trpt_code_name(rc), e2.message);
    /* An allocation that failed and had a fallback must not change the result. */
    if (rc == TRPT_OK) {
        char why[128];
        FUZZ_CHECK(rc1 == TRPT_OK, "lenient parse failed (%s) but succeeded with allocation %lu "
                   "of %lu failing", trpt_code_name(rc1), oom.fail_at, total);
        FUZZ_CHECK(tu_report_eq(ep->report(res1), ep->report(res2), why, sizeof why),
                   "allocation %lu of %lu failed and the parse succeeded with another report: %s",
                   oom.fail_at, total, why);
    }
    trpt_ctx_free(oc);
    trpt_ctx_free(ctx);
    return 0;
}

#endif
