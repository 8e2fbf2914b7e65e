/* Report e-mails (RFC 8460 §5.3): find the report part, parse it, and warn
 * where the envelope disagrees with the JSON. Warning codes are listed in
 * doc/warnings-email.md. */
#include "hostname.h"
#include "mime.h"
#include "report_internal.h"

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Report ids compared on letters and digits only: Google writes
 * "2024-09-03T00:00:00Z_example.com" in the JSON and
 * "<2024.09.03T00.00.00Z+example.com@google.com>" in the Subject. */
static int loose_eq(trpt_str a, trpt_str b)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a.len && !trpt__is_alnum((unsigned char)a.ptr[i])) i++;
        while (j < b.len && !trpt__is_alnum((unsigned char)b.ptr[j])) j++;
        if (i == a.len || j == b.len) return i == a.len && j == b.len;
        if (trpt__lower((unsigned char)a.ptr[i]) != trpt__lower((unsigned char)b.ptr[j])) return 0;
        i++, j++;
    }
}

/* The token after label (case-insensitive, e.g. "Domain:") in s; 0 if the
 * label is absent. */
static int after_label(trpt_str s, const char *label, trpt_str *out)
{
    size_t n = strlen(label);
    for (size_t i = 0; i + n <= s.len; i++) {
        if (!trpt__ieq(s.ptr + i, n, label, n)) continue;
        size_t j = i + n;
        while (j < s.len && is_space(s.ptr[j])) j++;
        size_t k = j;
        while (k < s.len && !is_space(s.ptr[k])) k++;
        *out = (trpt_str){ s.ptr + j, k - j };
        return 1;
    }
    return 0;
}

/* Index of the first policy whose policy-domain is set and differs from d;
 * -1 if all agree. *any tells whether any policy names a domain. */
static long domain_mismatch(const trpt_report *r, trpt_str d, int *any)
{
    *any = 0;
    for (size_t i = 0; i < r->npolicies; i++) {
        trpt_str pd = r->policies[i].policy_domain;
        if (!pd.len) continue;
        *any = 1;
        if (!trpt__dom_eq(pd, d)) return (long)i;
    }
    return -1;
}

static int is_gzip(trpt_str p)
{
    return p.len >= 2 && (unsigned char)p.ptr[0] == 0x1f && (unsigned char)p.ptr[1] == 0x8b;
}

#define S(x) (int)((x).len > 200 ? 200 : (x).len), (x).ptr

/* Every header-vs-JSON check; the first failing one ends a strict parse. */
static int check(trpt_ctx *ctx, const trpt_mime_report *m, const trpt_parse_opts *opts,
                 trpt_report_email *e, trpt_error *err)
{
    trpt_report *r = &e->report;
    int rc, any;
    long bad;

#define WARN(code, path, rfc, ...)                                                   \
    do {                                                                             \
        if ((rc = trpt__report_warn(ctx, r, opts, code, path, rfc, err, __VA_ARGS__))) \
            return rc;                                                               \
    } while (0)

    /* Delivery envelope and media type. */
    if (!m->top_is_report)
        WARN("email-not-multipart-report", "email.content_type", TRPT_RFC_DELIVERY,
             "the message is %.*s, not multipart/report; report-type=tlsrpt", S(m->top_type));
    int gz = is_gzip(m->payload);
    if (!(trpt__ieq(m->content_type.ptr, m->content_type.len, "application/tlsrpt+gzip", 23) && gz) &&
        !(trpt__ieq(m->content_type.ptr, m->content_type.len, "application/tlsrpt+json", 23) && !gz))
        WARN("email-media-type", "email.content_type", TRPT_RFC_DELIVERY,
             "the report part is %.*s holding %s; expected application/tlsrpt+%s",
             S(m->content_type), gz ? "gzip" : "JSON", gz ? "gzip" : "json");

    /* TLS-Report-Domain / TLS-Report-Submitter: both MUST be present. */
    if (!e->tls_report_domain.ptr)
        WARN("email-missing-report-domain", "email.tls_report_domain", TRPT_RFC_DELIVERY,
             "no TLS-Report-Domain header field");
    else if ((bad = domain_mismatch(r, e->tls_report_domain, &any)) >= 0)
        WARN("email-report-domain-mismatch", "email.tls_report_domain", TRPT_RFC_DELIVERY,
             "TLS-Report-Domain '%.*s' but policies[%ld] is for '%.*s'",
             S(e->tls_report_domain), bad, S(r->policies[bad].policy_domain));
    if (!e->tls_report_submitter.ptr)
        WARN("email-missing-report-submitter", "email.tls_report_submitter", TRPT_RFC_DELIVERY,
             "no TLS-Report-Submitter header field");
    /* §5.3: the submitter "MUST match ... the [RFC5321] domain from the
     * contact-info" (where contact-info is an address). */
    trpt_str cdom = trpt__contact_domain(r->contact_info);
    if (e->tls_report_submitter.len && cdom.len && !trpt__dom_eq(e->tls_report_submitter, cdom))
        WARN("email-submitter-contact-mismatch", "email.tls_report_submitter", TRPT_RFC_DELIVERY,
             "TLS-Report-Submitter is '%.*s' but contact-info's domain is '%.*s'",
             S(e->tls_report_submitter), S(cdom));

    /* Subject: "Report Domain: d Submitter: s Report-ID: <id>" (SHOULD). */
    trpt_str sd, ss, sid;
    int has_d = after_label(e->subject, "Domain:", &sd) && sd.len;
    int has_s = after_label(e->subject, "Submitter:", &ss) && ss.len;
    int has_id = after_label(e->subject, "Report-ID:", &sid) && sid.len;
    if (!has_d || !has_s || !has_id)
        WARN("email-subject-format", "email.subject", TRPT_RFC_DELIVERY,
             "Subject lacks the Report Domain: / Submitter: / Report-ID: form");
    if (has_d) {
        if (e->tls_report_domain.len) {
            if (!trpt__dom_eq(sd, e->tls_report_domain))
                WARN("email-subject-domain-mismatch", "email.subject", TRPT_RFC_DELIVERY,
                     "Subject names domain '%.*s' but TLS-Report-Domain is '%.*s'", S(sd),
                     S(e->tls_report_domain));
        } else if ((bad = domain_mismatch(r, sd, &any)) >= 0) {
            WARN("email-subject-domain-mismatch", "email.subject", TRPT_RFC_DELIVERY,
                 "Subject names domain '%.*s' but policies[%ld] is for '%.*s'", S(sd), bad,
                 S(r->policies[bad].policy_domain));
        }
    }
    if (has_s && e->tls_report_submitter.len && !trpt__dom_eq(ss, e->tls_report_submitter))
        WARN("email-subject-submitter-mismatch", "email.subject", TRPT_RFC_DELIVERY,
             "Subject names submitter '%.*s' but TLS-Report-Submitter is '%.*s'", S(ss),
             S(e->tls_report_submitter));
    if (has_id && r->report_id.len) {
        trpt_str id = sid, left;
        if (id.len >= 2 && id.ptr[0] == '<' && id.ptr[id.len - 1] == '>') {
            id.ptr++;
            id.len -= 2;
        }
        left = id;
        for (size_t i = id.len; i-- > 0;)
            if (id.ptr[i] == '@') { left.len = i; break; }
        if (!loose_eq(id, r->report_id) && !loose_eq(left, r->report_id))
            WARN("email-subject-report-id-mismatch", "email.subject", TRPT_RFC_DELIVERY,
                 "Subject Report-ID '%.*s' differs from report-id '%.*s'", S(sid),
                 S(r->report_id));
    }

    /* File name: submitter!policy-domain!begin!end[!id].json[.gz] (RECOMMENDED). */
    if (e->filename.len) {
        trpt_mime_rptname fn;
        if (!trpt__mime_rptname(e->filename, &fn)) {
            WARN("email-filename-format", "email.filename", TRPT_RFC_FILENAME,
                 "file name '%.*s' is not submitter!domain!begin!end[!id].json[.gz]",
                 S(e->filename));
        } else {
            if ((bad = domain_mismatch(r, fn.domain, &any)) >= 0)
                WARN("email-filename-domain-mismatch", "email.filename", TRPT_RFC_FILENAME,
                     "file name is for '%.*s' but policies[%ld] is for '%.*s'", S(fn.domain),
                     bad, S(r->policies[bad].policy_domain));
            else if (!any && e->tls_report_domain.len && !trpt__dom_eq(fn.domain, e->tls_report_domain))
                WARN("email-filename-domain-mismatch", "email.filename", TRPT_RFC_FILENAME,
                     "file name is for '%.*s' but TLS-Report-Domain is '%.*s'", S(fn.domain),
                     S(e->tls_report_domain));
            if (e->tls_report_submitter.len && !trpt__dom_eq(fn.submitter, e->tls_report_submitter))
                WARN("email-filename-submitter-mismatch", "email.filename", TRPT_RFC_FILENAME,
                     "file name names submitter '%.*s' but TLS-Report-Submitter is '%.*s'",
                     S(fn.submitter), S(e->tls_report_submitter));
            /* One second of slack: an inclusive end (23:59:59) vs an exclusive one. */
            int64_t ds = fn.begin - r->start_epoch, de = fn.end - r->end_epoch;
            if (r->start_datetime.len && r->end_datetime.len &&
                (ds < -1 || ds > 1 || de < -1 || de > 1))
                WARN("email-filename-date-mismatch", "email.filename", TRPT_RFC_FILENAME,
                     "file name covers %lld..%lld but date-range is %.*s..%.*s (%lld..%lld)",
                     (long long)fn.begin, (long long)fn.end, S(r->start_datetime),
                     S(r->end_datetime), (long long)r->start_epoch, (long long)r->end_epoch);
            if (fn.gz != gz)
                WARN("email-filename-extension", "email.filename", TRPT_RFC_FILENAME,
                     "file name ends in %s but the report is %s", fn.gz ? ".json.gz" : ".json",
                     gz ? "gzip" : "not gzip");
        }
    }
#undef WARN
    return TRPT_OK;
}

static trpt_str header(const trpt_mime_hdrs *h, const char *name)
{
    const trpt_str *v = trpt__mime_get(h, name);
    if (!v) return (trpt_str){ NULL, 0 };
    /* Present but empty stays distinguishable from absent. */
    return v->ptr ? *v : (trpt_str){ "", 0 };
}

int trpt_parse_report_email(trpt_ctx *ctx, const void *msg, size_t len, const trpt_parse_opts *opts,
                            trpt_report_email *out, trpt_error *err)
{
    if (!ctx || !out || (!msg && len))
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL,
                          "trpt_parse_report_email: NULL argument");
    memset(out, 0, sizeof *out);
    trpt_mime_report m;
    int rc = trpt__mime_find_report(ctx, msg, len, &m, err);
    if (rc) return rc;

    out->tls_report_domain = header(&m.headers, "tls-report-domain");
    out->tls_report_submitter = header(&m.headers, "tls-report-submitter");
    out->date = header(&m.headers, "date");
    out->message_id = header(&m.headers, "message-id");
    trpt_str subject = header(&m.headers, "subject"), from = header(&m.headers, "from");
    if (subject.ptr && (rc = trpt__rfc2047_decode(ctx, subject, &out->subject, err))) return rc;
    if (from.ptr && (rc = trpt__rfc2047_decode(ctx, from, &out->from, err))) return rc;
    out->part_content_type = m.content_type;
    if (m.filename.len) out->filename = m.filename; /* else absent, NULL */

    rc = trpt_parse_report(ctx, m.payload.ptr, m.payload.len, opts, &out->report, err);
    if (rc) {
        /* Offsets of a decoded attachment point nowhere in the message. */
        if (err && err->offset != TRPT_NO_OFFSET) {
            int identity = m.payload.ptr == (const char *)msg + m.offset && !is_gzip(m.payload);
            err->offset = identity ? err->offset + m.offset : TRPT_NO_OFFSET;
        }
        return rc;
    }
    return check(ctx, &m, opts, out, err);
}
