/* Report file name (RFC 8460 §5.1) and report e-mail (§5.3): a
 * multipart/report; report-type="tlsrpt" message (RFC 6522) with a short
 * human-readable part and the gzip report base64-encoded. Every value that
 * reaches a header is validated here so no input can inject header lines;
 * output is deterministic for given options (CRLF line ends throughout). */
#include "builder.h"
#include "hostname.h"

#include <stdio.h>

#define MAX_UNIQUE_ID 64
#define MAX_HEADER_VALUE 900 /* keeps every line under RFC 5322's 998 */

/* The domain argument, or the policy-domain every policy shares. */
static int pick_domain(const trpt_builder *b, const char *given, const char *what, trpt_str *out,
                       const char *rfc, trpt_error *err)
{
    if (given) {
        *out = (trpt_str){ given, strlen(given) };
    } else {
        const trpt_str *d = trpt__bld_common_domain(b);
        if (!d)
            return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, rfc, what,
                              "%s is required when policies have different policy-domains", what);
        *out = *d;
    }
    char show[BLD_SHOW];
    if (trpt__domain_ok(out->ptr, out->len, 0)) return TRPT_OK;
    trpt__bld_show(out->ptr, out->len, show);
    return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, rfc, what, "'%s' is not a valid domain name", show);
}

/* filename = sender "!" policy-domain "!" begin "!" end [ "!" unique-id ] "." extension */
static int render_filename(const trpt_builder *b, const char *submitter, const char *policy_domain,
                           const char *unique_id, int gzip, bld_buf *buf, trpt_error *err)
{
    int rc = trpt__bld_check_ready(b, err);
    if (rc) return rc;
    trpt_str sub, dom;
    if (!submitter)
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, TRPT_RFC_FILENAME, "submitter", "submitter is required");
    if ((rc = pick_domain(b, submitter, "submitter", &sub, TRPT_RFC_FILENAME, err)) ||
        (rc = pick_domain(b, policy_domain, "policy_domain", &dom, TRPT_RFC_FILENAME, err)))
        return rc;
    if (unique_id) {
        size_t n = strlen(unique_id);
        int good = n > 0 && n <= MAX_UNIQUE_ID;
        for (size_t i = 0; good && i < n; i++) good = trpt__is_alnum((unsigned char)unique_id[i]);
        if (!good)
            return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_FILENAME, "unique_id",
                              "unique-id must be 1 to %d letters or digits", MAX_UNIQUE_ID);
    }
    trpt_ctx *c = b->arena;
    if (trpt__buf_add(c, buf, sub.ptr, sub.len) || trpt__buf_add(c, buf, "!", 1) ||
        trpt__buf_add(c, buf, dom.ptr, dom.len) ||
        trpt__buf_printf(c, buf, "!%lld!%lld", (long long)b->start, (long long)b->end) ||
        (unique_id && trpt__buf_printf(c, buf, "!%s", unique_id)) ||
        trpt__buf_printf(c, buf, gzip ? ".json.gz" : ".json"))
        return trpt__nomem(err);
    return TRPT_OK;
}

int trpt_builder_filename(trpt_builder *b, const char *submitter, const char *policy_domain,
                          const char *unique_id, int gzip, trpt_str *out, trpt_error *err)
{
    if (!b || !out) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL argument");
    bld_buf buf = { 0 };
    int rc = render_filename(b, submitter, policy_domain, unique_id, gzip, &buf, err);
    if (rc) {
        trpt__buf_free(b->arena, &buf);
        return rc;
    }
    trpt__bld_set_out(b, &buf, out);
    return TRPT_OK;
}

/* ------------------------------------------------------------ e-mail */

/* Printable ASCII without space, as addr-spec and msg-id need, bounded. */
static int token_ok(const char *s, size_t n, size_t max, const char *forbid)
{
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || strchr(forbid, c)) return 0;
    }
    return 1;
}

/* addr-spec: local "@" domain, the domain LDH (no IDN / address literals). */
static int address_ok(const char *s)
{
    size_t n = strlen(s);
    const char *at = strrchr(s, '@');
    if (!at || at == s) return 0;
    if (!token_ok(s, (size_t)(at - s), 64, "<>()[]\\,;:\"@")) return 0;
    return trpt__domain_ok(at + 1, n - (size_t)(at + 1 - s), 0) && at[1] != '\0';
}

/* RFC 2046 §5.1.1 bchars without space, so it never needs quoting rules beyond "". */
static int boundary_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 70) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!trpt__is_alnum(c) && !strchr("'()+_,-./:=?", c)) return 0;
    }
    return 1;
}

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static int add_date(trpt_ctx *c, bld_buf *m, int64_t t)
{
    int y, mo, d, h, mi, s, wd;
    trpt__bld_civil(t, &y, &mo, &d, &h, &mi, &s, &wd);
    /* RFC 5322 §3.3 date-time, always in UTC */
    return trpt__buf_printf(c, m, "Date: %s, %d %s %04d %02d:%02d:%02d +0000\r\n", wdays[wd % 7], d,
                            months[(mo - 1) % 12], y % 10000, h, mi, s);
}

static int add(trpt_ctx *c, bld_buf *m, const char *s) { return trpt__buf_add(c, m, s, strlen(s)); }
static int add_str(trpt_ctx *c, bld_buf *m, trpt_str s) { return trpt__buf_add(c, m, s.ptr, s.len); }

/* Base64 (RFC 2045 §6.8) in 76-character lines ending in CRLF. */
static int add_base64(trpt_ctx *c, bld_buf *m, const unsigned char *d, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char line[80];
    size_t col = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16;
        if (i + 1 < n) v |= (unsigned)d[i + 1] << 8;
        if (i + 2 < n) v |= d[i + 2];
        line[col++] = tab[(v >> 18) & 63];
        line[col++] = tab[(v >> 12) & 63];
        line[col++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        line[col++] = i + 2 < n ? tab[v & 63] : '=';
        if (col == 76 || i + 3 >= n) {
            line[col++] = '\r';
            line[col++] = '\n';
            if (trpt__buf_add(c, m, line, col)) return -1;
            col = 0;
        }
    }
    return 0;
}

/* A default boundary from the attachment's bytes: reproducible, and "=_"
 * cannot occur in base64 text nor in the ASCII text part we write. */
static void default_boundary(const char *gz, size_t n, char out[40])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)gz[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, 40, "tlsrpt=_%016llx", (unsigned long long)h);
}

static int render_email(trpt_builder *b, const trpt_email_opts *o, bld_buf *m, trpt_error *err)
{
    int rc = trpt__bld_check_ready(b, err);
    if (rc) return rc;
    if (!o) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL options");
    if (!o->from || !address_ok(o->from))
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, "RFC 5322 §3.4.1", "from",
                          "from must be an address local@domain");
    if (!o->to || !address_ok(o->to))
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, "RFC 5322 §3.4.1", "to",
                          "to must be an address local@domain");
    if (!o->submitter)
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, TRPT_RFC_DELIVERY, "submitter", "submitter is required");
    trpt_str sub, dom;
    if ((rc = pick_domain(b, o->submitter, "submitter", &sub, TRPT_RFC_DELIVERY, err)) ||
        (rc = pick_domain(b, o->policy_domain, "policy_domain", &dom, TRPT_RFC_DELIVERY, err)))
        return rc;
    if (o->date < 0 || o->date > TRPT_MAX_EPOCH)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, "RFC 5322 §3.3", "date",
                          "date must lie between 1970 and 9999");
    /* The report-id goes into the Subject verbatim (§5.3 "Report-ID: <id>"). */
    trpt_str rid = b->report_id;
    for (size_t i = 0; i < rid.len; i++)
        if ((unsigned char)rid.ptr[i] < 0x20 || (unsigned char)rid.ptr[i] >= 0x7f || rid.ptr[i] == '>')
            return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_DELIVERY, "report-id",
                              "report-id must be printable ASCII without '>' to go into the Subject");
    if (rid.len > MAX_HEADER_VALUE)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, TRPT_RFC_DELIVERY, "report-id",
                          "report-id longer than %d bytes cannot go into the Subject", MAX_HEADER_VALUE);
    const char *mid = o->message_id;
    size_t midlen = 0;
    if (mid) {
        midlen = strlen(mid);
        if (midlen >= 2 && mid[0] == '<' && mid[midlen - 1] == '>') {
            mid++;
            midlen -= 2;
        }
        if (!token_ok(mid, midlen, MAX_HEADER_VALUE, "<>()[]\\,;:\"") || !memchr(mid, '@', midlen))
            return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, "RFC 5322 §3.6.4", "message_id",
                              "message_id must look like id-left@id-right");
    }
    /* A generated "Message-ID: <report-id@submitter>" must fit one line too. */
    if (!mid && rid.len + sub.len > MAX_HEADER_VALUE)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, "RFC 5322 §2.1.1", "message_id",
                          "report-id and submitter exceed %d bytes together: too long for a "
                          "generated Message-ID, pass message_id", MAX_HEADER_VALUE);
    if (o->boundary && !boundary_ok(o->boundary))
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, "RFC 2046 §5.1.1", "boundary",
                          "boundary must be 1-70 characters from [A-Za-z0-9'()+_,-./:=?]");

    trpt_ctx *c = b->arena;
    bld_buf json = { 0 }, gz = { 0 }, name = { 0 };
    rc = trpt__bld_render_json(b, &json, err);
    if (!rc) rc = trpt__bld_gzip(c, json.p, json.len, &gz, err);
    trpt__buf_free(c, &json);
    if (!rc) rc = render_filename(b, o->submitter, o->policy_domain, NULL, 1, &name, err);
    if (rc) goto out;

    char bnd[40];
    const char *boundary = o->boundary;
    if (!boundary) {
        default_boundary(gz.p, gz.len, bnd);
        boundary = bnd;
    }
    char start[21], end[21];
    trpt__bld_rfc3339(b->start, start);
    trpt__bld_rfc3339(b->end, end);
    int64_t ok_n = 0, fail_n = 0;
    const bld_policy *p = (const bld_policy *)b->policies.data;
    for (size_t i = 0; i < b->policies.len; i++) {
        /* each term <= 2^53 and the sums clamped there: no int64 overflow */
        ok_n += p[i].success;
        fail_n += p[i].failure;
        if (ok_n > BLD_MAX_COUNT) ok_n = BLD_MAX_COUNT;
        if (fail_n > BLD_MAX_COUNT) fail_n = BLD_MAX_COUNT;
    }

    int bad = add(c, m, "From: ") || add(c, m, o->from) || add(c, m, "\r\n") ||
              add_date(c, m, o->date) ||
              add(c, m, "To: ") || add(c, m, o->to) || add(c, m, "\r\n") ||
              add(c, m, "Message-ID: <");
    if (mid)
        bad = bad || trpt__buf_add(c, m, mid, midlen);
    else {
        /* <report-id@submitter>, the report-id reduced to atext so it stays a msg-id */
        for (size_t i = 0; !bad && i < rid.len; i++) {
            char ch = rid.ptr[i];
            if (!trpt__is_alnum((unsigned char)ch) && !strchr("!#$%&'*+-/=?^_`{|}~.", ch)) ch = '-';
            bad = trpt__buf_add(c, m, &ch, 1);
        }
        bad = bad || add(c, m, "@") || add_str(c, m, sub);
    }
    bad = bad || add(c, m, ">\r\n") ||
          add(c, m, "Subject: Report Domain: ") || add_str(c, m, dom) ||
          add(c, m, "\r\n Submitter: ") || add_str(c, m, sub) ||
          add(c, m, "\r\n Report-ID: <") || add_str(c, m, rid) || add(c, m, ">\r\n") ||
          add(c, m, "TLS-Report-Domain: ") || add_str(c, m, dom) || add(c, m, "\r\n") ||
          add(c, m, "TLS-Report-Submitter: ") || add_str(c, m, sub) || add(c, m, "\r\n") ||
          add(c, m, "MIME-Version: 1.0\r\n") ||
          add(c, m, "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n boundary=\"") ||
          add(c, m, boundary) || add(c, m, "\"\r\n\r\n") ||
          add(c, m, "This is a multipart message in MIME format.\r\n\r\n") ||
          /* human-readable part (RFC 6522 §3): ASCII only, no line starts with "--" */
          add(c, m, "--") || add(c, m, boundary) || add(c, m, "\r\n") ||
          add(c, m, "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
                    "Content-Transfer-Encoding: 7bit\r\n\r\n") ||
          add(c, m, "This is an aggregate TLS report from ") || add_str(c, m, sub) ||
          add(c, m, "\r\nfor the policy domain ") || add_str(c, m, dom) || add(c, m, ".\r\n") ||
          trpt__buf_printf(c, m, "Period: %s to %s\r\n", start, end) ||
          trpt__buf_printf(c, m, "Policies: %zu, successful sessions: %lld, failed sessions: %lld\r\n\r\n",
                           b->policies.len, (long long)ok_n, (long long)fail_n) ||
          /* the report (RFC 8460 §5.3) */
          add(c, m, "--") || add(c, m, boundary) || add(c, m, "\r\n") ||
          add(c, m, "Content-Type: application/tlsrpt+gzip;\r\n name=\"") ||
          trpt__buf_add(c, m, name.p, name.len) || add(c, m, "\"\r\n") ||
          add(c, m, "Content-Transfer-Encoding: base64\r\n") ||
          add(c, m, "Content-Disposition: attachment;\r\n filename=\"") ||
          trpt__buf_add(c, m, name.p, name.len) || add(c, m, "\"\r\n\r\n") ||
          add_base64(c, m, (const unsigned char *)gz.p, gz.len) ||
          add(c, m, "\r\n--") || add(c, m, boundary) || add(c, m, "--\r\n");
    if (bad) rc = trpt__nomem(err);
out:
    trpt__buf_free(c, &gz);
    trpt__buf_free(c, &name);
    return rc;
}

int trpt_builder_email(trpt_builder *b, const trpt_email_opts *o, trpt_str *out, trpt_error *err)
{
    if (!b || !out) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL argument");
    bld_buf m = { 0 };
    int rc = render_email(b, o, &m, err);
    if (rc) {
        trpt__buf_free(b->arena, &m);
        return rc;
    }
    trpt__bld_set_out(b, &m, out);
    return TRPT_OK;
}
