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

/* The domain argument, or the policy-domain every policy shares. A policy
 * domain given must be every policy's: a report file or e-mail is for one
 * policy domain (RFC 8460 §5.1, §5.3; our parser warns otherwise). */
static int pick_domain(const trpt_builder *b, const char *given, const char *what, trpt_str *out,
                       const char *rfc, trpt_error *err)
{
    int policy = strcmp(what, "policy_domain") == 0;
    const trpt_str *common = policy ? trpt__bld_common_domain(b) : NULL;
    if (policy && !common)
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, rfc, what,
                          "policies have different policy-domains: a report file or e-mail is "
                          "for one policy domain, so no policy_domain fits (build one report per "
                          "domain)");
    if (given) {
        *out = (trpt_str){ given, strlen(given) };
        if (policy && !trpt__dom_eq(*out, *common)) {
            char show[BLD_SHOW], show_c[BLD_SHOW];
            trpt__bld_show(out->ptr, out->len, show);
            trpt__bld_show(common->ptr, common->len, show_c);
            return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, rfc, what,
                              "'%s' is not the policies' policy-domain '%s'", show, show_c);
        }
    } else {
        *out = *common;
    }
    char show[BLD_SHOW];
    if (trpt__domain_ok(out->ptr, out->len, 0)) {
        /* The file name and headers take a domain, not its absolute form
         * (RFC 8460 §5.1 and §5.3; RFC 5321 Domain has no trailing dot). */
        if (out->len > 1 && out->ptr[out->len - 1] == '.') out->len--;
        return TRPT_OK;
    }
    trpt__bld_show(out->ptr, out->len, show);
    return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, rfc, what, "'%s' is not a valid domain name", show);
}

/* The submitter: the one given, or contact-info's domain. Given, it must
 * be contact-info's domain where contact-info is an address. */
static int pick_submitter(const trpt_builder *b, const char *given, trpt_str *out,
                          const char *rfc, trpt_error *err)
{
    trpt_str cd = trpt__contact_domain(b->contact);
    if (!given) {
        if (!cd.len)
            return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, rfc, "submitter",
                              "submitter is required (contact-info is not an address to take "
                              "it from)");
        if (cd.len > 1 && cd.ptr[cd.len - 1] == '.') cd.len--;
        *out = cd;
        return TRPT_OK;
    }
    int rc = pick_domain(b, given, "submitter", out, rfc, err);
    if (rc || !cd.len || trpt__dom_eq(*out, cd)) return rc;
    char show[BLD_SHOW], show_cd[BLD_SHOW];
    trpt__bld_show(out->ptr, out->len, show);
    trpt__bld_show(cd.ptr, cd.len, show_cd);
    return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, TRPT_RFC_DELIVERY, "submitter",
                      "submitter '%s' is not contact-info's domain '%s' (they must match)", show,
                      show_cd);
}

/* filename = sender "!" policy-domain "!" begin "!" end [ "!" unique-id ] "." extension */
static int render_filename(const trpt_builder *b, const char *submitter, const char *policy_domain,
                           const char *unique_id, int gzip, bld_buf *buf, trpt_error *err)
{
    int rc = trpt__bld_check_ready(b, err);
    if (rc) return rc;
    trpt_str sub, dom;
    if ((rc = pick_submitter(b, submitter, &sub, TRPT_RFC_FILENAME, err)) ||
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

static int atext(unsigned char c)
{
    return trpt__is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* dot-atom-text (RFC 5322 §3.2.3): atext runs joined by single dots. */
static int dot_atom_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.') return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' ? s[i - 1] == '.' : !atext((unsigned char)s[i])) return 0;
    return 1;
}

/* addr-spec with a dot-atom local part (no quoted strings), the domain LDH
 * (no IDN / address literals) and a dot-atom too: no trailing dot. */
static int address_ok(const char *s)
{
    size_t n = strlen(s);
    const char *at = strrchr(s, '@');
    if (!at || at == s || at - s > 64 || !dot_atom_ok(s, (size_t)(at - s))) return 0;
    return at[1] != '\0' && s[n - 1] != '.' && trpt__domain_ok(at + 1, n - (size_t)(at + 1 - s), 0);
}

/* msg-id content (RFC 5322 §3.6.4): id-left "@" id-right, id-left a
 * dot-atom-text, id-right one too or a no-fold-literal "[...]". */
static int msg_id_ok(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (!at || !dot_atom_ok(s, (size_t)(at - s))) return 0;
    const char *r = at + 1;
    size_t rn = n - (size_t)(r - s);
    if (rn >= 2 && r[0] == '[' && r[rn - 1] == ']') {
        for (size_t i = 1; i + 1 < rn; i++) {
            unsigned char c = (unsigned char)r[i];
            if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\') return 0;
        }
        return 1;
    }
    return dot_atom_ok(r, rn);
}

/* The report-id as an id-left (dot-atom-text), for the Subject's Report-ID
 * and a generated Message-ID, <id-left@submitter> (RFC 8460 §5.3, RFC 5322
 * §3.6.4): other bytes, dots that would lead, trail or double, and '=' and
 * '?' (no RFC 2047 encoded-word look-alike) become '-'; the letters and
 * digits, which the parser compares, stay (the builder refuses an empty
 * report-id). */
static size_t id_left(trpt_str rid, char *out)
{
    for (size_t i = 0; i < rid.len; i++) {
        unsigned char c = (unsigned char)rid.ptr[i];
        int dot_ok = c == '.' && i > 0 && i + 1 < rid.len && out[i - 1] != '.';
        out[i] = (char)(dot_ok || (atext(c) && c != '=' && c != '?') ? c : '-');
    }
    return rid.len;
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
    trpt_str sub, dom;
    if ((rc = pick_submitter(b, o->submitter, &sub, TRPT_RFC_DELIVERY, err)) ||
        (rc = pick_domain(b, o->policy_domain, "policy_domain", &dom, TRPT_RFC_DELIVERY, err)))
        return rc;
    if (o->date < 0 || o->date > TRPT_MAX_EPOCH)
        return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, "RFC 5322 §3.3", "date",
                          "date must lie between 1970 and 9999");
    /* The Subject's "Report-ID: <id-left@submitter>" (and a generated
     * Message-ID) must fit one line. */
    trpt_str rid = b->report_id;
    if (rid.len + sub.len > MAX_HEADER_VALUE)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, TRPT_RFC_DELIVERY, "report-id",
                          "report-id and submitter exceed %d bytes together: too long for the "
                          "Subject's Report-ID", MAX_HEADER_VALUE);
    char idl[MAX_HEADER_VALUE + 1];
    size_t idlen = id_left(rid, idl);
    const char *mid = o->message_id;
    size_t midlen = 0;
    if (mid) {
        midlen = strlen(mid);
        if (midlen >= 2 && mid[0] == '<' && mid[midlen - 1] == '>') {
            mid++;
            midlen -= 2;
        }
        if (midlen > MAX_HEADER_VALUE || !msg_id_ok(mid, midlen))
            return trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, "RFC 5322 §3.6.4", "message_id",
                              "message_id must be id-left@id-right (dot-atom-text each, or "
                              "[literal] on the right)");
    }
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
    /* Exact totals for the text part: each term is below 2^53, so 64 bits
     * hold 2,048 policies at the maximum; past that the sum saturates. */
    uint64_t ok_n = 0, fail_n = 0;
    const bld_policy *p = (const bld_policy *)b->policies.data;
    for (size_t i = 0; i < b->policies.len; i++) {
        uint64_t s = (uint64_t)p[i].success, f = (uint64_t)p[i].failure;
        ok_n = ok_n > UINT64_MAX - s ? UINT64_MAX : ok_n + s;
        fail_n = fail_n > UINT64_MAX - f ? UINT64_MAX : fail_n + f;
    }

    int bad = add(c, m, "From: ") || add(c, m, o->from) || add(c, m, "\r\n") ||
              add_date(c, m, o->date) ||
              add(c, m, "To: ") || add(c, m, o->to) || add(c, m, "\r\n") ||
              add(c, m, "Message-ID: <");
    if (mid)
        bad = bad || trpt__buf_add(c, m, mid, midlen);
    else
        bad = bad || trpt__buf_add(c, m, idl, idlen) || add(c, m, "@") || add_str(c, m, sub);
    bad = bad || add(c, m, ">\r\n") ||
          add(c, m, "Subject: Report Domain: ") || add_str(c, m, dom) ||
          add(c, m, "\r\n Submitter: ") || add_str(c, m, sub) ||
          add(c, m, "\r\n Report-ID: <") || trpt__buf_add(c, m, idl, idlen) || add(c, m, "@") ||
          add_str(c, m, sub) || add(c, m, ">\r\n") ||
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
          trpt__buf_printf(c, m, "Policies: %zu, successful sessions: %s%llu, failed sessions: %s%llu\r\n\r\n",
                           b->policies.len, ok_n == UINT64_MAX ? "over " : "",
                           (unsigned long long)ok_n, fail_n == UINT64_MAX ? "over " : "",
                           (unsigned long long)fail_n) ||
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
