/* Fuzz target: round trip. A report that parses without warnings is fed to
 * the builder, its JSON parsed again (strictly), and the two reports must
 * agree on every RFC field. The builder merges equal policies and equal
 * failures (trpt.h), so both sides are compared after the same merge. The
 * builder's output must also be a fixed point (building from the second
 * parse gives the same bytes), its gzip must inflate to its JSON, and its
 * RFC 8460 §5.3 e-mail must parse back (trpt_parse_report_email) to the
 * same report.
 * Unknown keys (extra) are not part of the builder's canonical output. */
#include "common.h"

#define FAIL_BITS (TRPT_HAS_SENDING_MTA_IP | TRPT_HAS_RECEIVING_MX_HOSTNAME | \
                   TRPT_HAS_RECEIVING_MX_HELO | TRPT_HAS_RECEIVING_IP |       \
                   TRPT_HAS_ADDITIONAL_INFORMATION | TRPT_HAS_FAILURE_REASON_CODE)

static int seq(trpt_str a, trpt_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int slist_eq(const trpt_str *a, size_t na, const trpt_str *b, size_t nb)
{
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (!seq(a[i], b[i])) return 0;
    return 1;
}

static int opt_eq(unsigned ha, unsigned hb, unsigned bit, trpt_str a, trpt_str b)
{
    if ((ha & bit) != (hb & bit)) return 0;
    return !(ha & bit) || seq(a, b);
}

/* The fields that make two failures "equal" for the builder's merge. */
static int failure_key_eq(const trpt_failure *a, const trpt_failure *b)
{
    return seq(a->result_type, b->result_type) &&
           opt_eq(a->has, b->has, TRPT_HAS_SENDING_MTA_IP, a->sending_mta_ip, b->sending_mta_ip) &&
           opt_eq(a->has, b->has, TRPT_HAS_RECEIVING_MX_HOSTNAME, a->receiving_mx_hostname,
                  b->receiving_mx_hostname) &&
           opt_eq(a->has, b->has, TRPT_HAS_RECEIVING_MX_HELO, a->receiving_mx_helo,
                  b->receiving_mx_helo) &&
           opt_eq(a->has, b->has, TRPT_HAS_RECEIVING_IP, a->receiving_ip, b->receiving_ip) &&
           opt_eq(a->has, b->has, TRPT_HAS_ADDITIONAL_INFORMATION, a->additional_information,
                  b->additional_information) &&
           opt_eq(a->has, b->has, TRPT_HAS_FAILURE_REASON_CODE, a->failure_reason_code,
                  b->failure_reason_code);
}

static int policy_key_eq(const trpt_policy_result *a, const trpt_policy_result *b)
{
    return seq(a->policy_type, b->policy_type) &&
           opt_eq(a->has, b->has, TRPT_HAS_POLICY_DOMAIN, a->policy_domain, b->policy_domain) &&
           slist_eq(a->policy_string, a->npolicy_string, b->policy_string, b->npolicy_string) &&
           slist_eq(a->mx_host, a->nmx_host, b->mx_host, b->nmx_host);
}

/* Sum of a count over every policy equal to p (0 on overflow: the caller
 * skips such inputs). */
static int sum_policy(const trpt_report *r, const trpt_policy_result *p, int64_t *ok, int64_t *bad)
{
    *ok = *bad = 0;
    for (size_t i = 0; i < r->npolicies; i++) {
        const trpt_policy_result *q = &r->policies[i];
        if (!policy_key_eq(p, q)) continue;
        if (__builtin_add_overflow(*ok, q->total_successful_session_count, ok)) return 0;
        if (__builtin_add_overflow(*bad, q->total_failure_session_count, bad)) return 0;
    }
    return 1;
}

static int sum_failure(const trpt_report *r, const trpt_policy_result *p, const trpt_failure *f,
                       int64_t *n)
{
    *n = 0;
    for (size_t i = 0; i < r->npolicies; i++) {
        const trpt_policy_result *q = &r->policies[i];
        if (!policy_key_eq(p, q)) continue;
        for (size_t j = 0; j < q->nfailures; j++)
            if (failure_key_eq(f, &q->failures[j]) &&
                __builtin_add_overflow(*n, q->failures[j].failed_session_count, n))
                return 0;
    }
    return 1;
}

/* Every merged policy / failure of a appears in b with the same merged
 * counts. Returns 0 on a difference, -1 when a sum overflows. */
static int covers(const trpt_report *a, const trpt_report *b, char *why, size_t whylen)
{
    for (size_t i = 0; i < a->npolicies; i++) {
        const trpt_policy_result *p = &a->policies[i];
        int64_t aok, abad, bok, bbad;
        if (!sum_policy(a, p, &aok, &abad) || !sum_policy(b, p, &bok, &bbad)) return -1;
        if (aok != bok || abad != bbad) {
            snprintf(why, whylen, "policy %zu (%.*s): counts %lld/%lld vs %lld/%lld", i,
                     (int)p->policy_type.len, p->policy_type.ptr, (long long)aok,
                     (long long)abad, (long long)bok, (long long)bbad);
            return 0;
        }
        for (size_t j = 0; j < p->nfailures; j++) {
            int64_t af, bf;
            if (!sum_failure(a, p, &p->failures[j], &af) || !sum_failure(b, p, &p->failures[j], &bf))
                return -1;
            if (af != bf) {
                snprintf(why, whylen, "policy %zu failure %zu (%.*s): count %lld vs %lld", i, j,
                         (int)p->failures[j].result_type.len, p->failures[j].result_type.ptr,
                         (long long)af, (long long)bf);
                return 0;
            }
        }
    }
    return 1;
}

static int same_report(const trpt_report *a, const trpt_report *b, char *why, size_t whylen)
{
    if (!seq(a->organization_name, b->organization_name))
        return snprintf(why, whylen, "organization-name"), 0;
    if (!opt_eq(a->has, b->has, TRPT_HAS_CONTACT_INFO, a->contact_info, b->contact_info))
        return snprintf(why, whylen, "contact-info"), 0;
    if (!opt_eq(a->has, b->has, TRPT_HAS_REPORT_ID, a->report_id, b->report_id))
        return snprintf(why, whylen, "report-id"), 0;
    if (a->start_epoch != b->start_epoch || a->end_epoch != b->end_epoch)
        return snprintf(why, whylen, "date-range %lld..%lld vs %lld..%lld",
                        (long long)a->start_epoch, (long long)a->end_epoch,
                        (long long)b->start_epoch, (long long)b->end_epoch), 0;
    int c = covers(a, b, why, whylen);
    if (c <= 0) return c;
    return covers(b, a, why, whylen);
}

/* A NUL-terminated heap copy of a slice, NULL if it holds a NUL itself
 * (the builder's metadata setters take C strings). */
static char *cstr(trpt_str s)
{
    if (s.len && memchr(s.ptr, 0, s.len)) return NULL;
    char *p = malloc(s.len + 1);
    if (!p) return NULL;
    if (s.len) memcpy(p, s.ptr, s.len);
    p[s.len] = 0;
    return p;
}

/* Builder from a parsed report; NULL when the builder refuses it (its own
 * argument checks; *err says why) or the metadata cannot be passed as C
 * strings (*err left empty). */
static trpt_builder *build(const trpt_report *r, int debug, trpt_error *errp)
{
    trpt_error err = { 0 };
    *errp = err;
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    if (!b) return NULL;
    char *org = cstr(r->organization_name);
    char *contact = (r->has & TRPT_HAS_CONTACT_INFO) ? cstr(r->contact_info) : NULL;
    char *id = (r->has & TRPT_HAS_REPORT_ID) ? cstr(r->report_id) : NULL;
    int ok = org && (contact || !(r->has & TRPT_HAS_CONTACT_INFO)) &&
             (id || !(r->has & TRPT_HAS_REPORT_ID)) &&
             trpt_builder_set_meta(b, org, contact, id, r->start_epoch, r->end_epoch, &err) ==
                 TRPT_OK &&
             trpt_builder_add_report(b, r, &err) == TRPT_OK;
    free(org);
    free(contact);
    free(id);
    if (!ok && debug) fprintf(stderr, "roundtrip: builder: %s %s\n", err.path, err.message);
    if (!ok) {
        *errp = err;
        trpt_builder_free(b);
        return NULL;
    }
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_limits lim;
    fuzz_limits(&lim);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
    if (!ctx) return 0;
    trpt_report r1, r2, r3;
    trpt_error err;
    trpt_builder *b1 = NULL, *b2 = NULL;
    /* FUZZ_DEBUG=1 tells which stage each input reached (seed checks). */
    int debug = getenv("FUZZ_DEBUG") != NULL;
    int rc = trpt_parse_report(ctx, data, size, NULL, &r1, &err);
    if (rc != TRPT_OK || r1.nwarnings || r1.nwarnings_dropped) {
        if (debug)
            fprintf(stderr, "roundtrip: skipped: %s\n",
                    rc ? err.message : r1.nwarnings ? r1.warnings[0].code : "dropped warnings");
        goto out;
    }
    fuzz_touch_report(&r1);
    if (!(b1 = build(&r1, debug, &err))) {
        /* The parser warns about everything the builder refuses (domains,
         * IPs, empty or NUL-holding strings, dates outside 1970-9999...);
         * left are the builder's limits: totals of merged policies or rows
         * past 2^53, and its own max_* (TRPT_E_LIMIT). */
        FUZZ_CHECK(err.code == TRPT_E_LIMIT,
                   "builder refuses a report the parser took without warning: %s: %s at %s",
                   trpt_code_name(err.code), err.message, err.path);
        if (debug) fprintf(stderr, "roundtrip: skipped: the builder refuses the report\n");
        goto out;
    }

    trpt_str json1, gz;
    rc = trpt_builder_json(b1, &json1, &err);
    /* No policies is warned (policies-empty), so the builder has one. */
    FUZZ_CHECK(rc == TRPT_OK, "builder_json: %s: %s", trpt_code_name(rc), err.message);
    rc = trpt_parse_report(ctx, json1.ptr, json1.len, &(trpt_parse_opts){ 1 }, &r2, &err);
    if (rc == TRPT_E_LIMIT) goto out; /* canonical text of a big gzip input can pass max_input */
    FUZZ_CHECK(rc == TRPT_OK, "builder output rejected in strict mode: %s: %s at %s\n%.*s",
               trpt_code_name(rc), err.message, err.path, (int)json1.len, json1.ptr);
    char why[256] = "";
    int same = same_report(&r1, &r2, why, sizeof why);
    FUZZ_CHECK(same != 0, "round trip differs: %s\n%.*s", why, (int)json1.len, json1.ptr);

    /* Fixed point: the canonical JSON of the second parse is the same text. */
    b2 = build(&r2, debug, &err);
    FUZZ_CHECK(b2 != NULL, "builder refuses its own output: %s at %s", err.message, err.path);
    trpt_str json2;
    rc = trpt_builder_json(b2, &json2, &err);
    FUZZ_CHECK(rc == TRPT_OK, "builder_json (2nd): %s", err.message);
    FUZZ_CHECK(seq(json1, json2), "canonical JSON not a fixed point:\n%.*s\n---\n%.*s",
               (int)json1.len, json1.ptr, (int)json2.len, json2.ptr);

    /* The gzip output inflates to the JSON output. r2's strings point into
     * json1, so b1's output must stay as it is: later outputs come from b2
     * (each invalidates b2's previous one). */
    rc = trpt_builder_gzip(b2, &gz, &err);
    FUZZ_CHECK(rc == TRPT_OK, "builder_gzip: %s", err.message);
    trpt_str plain;
    rc = trpt_gunzip(ctx, gz.ptr, gz.len, &plain, &err);
    FUZZ_CHECK(rc == TRPT_OK, "gunzip of builder gzip: %s", err.message);
    FUZZ_CHECK(seq(plain, json1), "gzip output does not inflate to the JSON output");
    rc = trpt_parse_report(ctx, gz.ptr, gz.len, &(trpt_parse_opts){ 1 }, &r3, &err);
    FUZZ_CHECK(rc == TRPT_OK, "builder gzip rejected: %s", err.message);

    /* The e-mail leg: the policy domain of the first policy names the
     * report, as a sender would (the builder refuses names that are not
     * domains; such inputs stop here). */
    char domain[256] = "example.net";
    if (r2.npolicies && (r2.policies[0].has & TRPT_HAS_POLICY_DOMAIN) &&
        r2.policies[0].policy_domain.len < sizeof domain &&
        !memchr(r2.policies[0].policy_domain.ptr, 0, r2.policies[0].policy_domain.len)) {
        memcpy(domain, r2.policies[0].policy_domain.ptr, r2.policies[0].policy_domain.len);
        domain[r2.policies[0].policy_domain.len] = 0;
    }
    /* No submitter: the builder takes contact-info's domain (RFC 8460 §5.3
     * wants them equal); one of ours where contact-info is no address. */
    trpt_email_opts eo = { .from = "tlsrpt-noreply@reporter.example",
                           .to = "tlsrpt@example.net",
                           .policy_domain = domain,
                           .date = r2.end_epoch };
    trpt_str mail;
    rc = trpt_builder_email(b2, &eo, &mail, &err);
    if (rc == TRPT_E_ARG && strcmp(err.path, "submitter") == 0) {
        eo.submitter = "reporter.example";
        rc = trpt_builder_email(b2, &eo, &mail, &err);
    }
    trpt_str want_sub = { "reporter.example", 16 };
    if (!eo.submitter) {
        const char *c = r2.contact_info.ptr, *at = NULL;
        for (size_t i = 0; i < r2.contact_info.len; i++)
            if (c[i] == '@') at = c + i;
        want_sub.ptr = at ? at + 1 : "";
        want_sub.len = at ? r2.contact_info.len - (size_t)(at + 1 - c) : 0;
        if (want_sub.len > 1 && want_sub.ptr[want_sub.len - 1] == '.') want_sub.len--;
    }
    if (rc == TRPT_OK) {
        trpt_report_email m;
        rc = trpt_parse_report_email(ctx, mail.ptr, mail.len, NULL, &m, &err);
        FUZZ_CHECK(rc == TRPT_OK, "builder e-mail rejected: %s: %s at %s\n%.*s",
                   trpt_code_name(rc), err.message, err.path, (int)mail.len, mail.ptr);
        same = same_report(&r2, &m.report, why, sizeof why);
        FUZZ_CHECK(same != 0, "e-mail round trip differs: %s", why);
        FUZZ_CHECK(seq(m.tls_report_submitter, want_sub), "TLS-Report-Submitter '%.*s', want '%.*s'",
                   (int)m.tls_report_submitter.len, m.tls_report_submitter.ptr,
                   (int)want_sub.len, want_sub.ptr);
    } else if (debug) {
        fprintf(stderr, "roundtrip: no e-mail: %s %s\n", err.path, err.message);
    }
    if (debug) fprintf(stderr, "roundtrip: checked (%zu policies)\n", r1.npolicies);
out:
    if (b2) trpt_builder_free(b2);
    if (b1) trpt_builder_free(b1);
    trpt_ctx_free(ctx);
    return 0;
}
