/* Report builder: exact JSON for the RFC 8460 Appendix B example, merging,
 * validation (shared vectors), caps, gzip, §5.1 file name, §5.3 e-mail,
 * allocation failures, and the round trip through the parsers for every
 * RFC-valid report of the real corpus. */
#include "tap.h"
#include "trpt.h"
#include "vectors.h"
#include "testutil.h"
#include "report_eq.h"

#include <dirent.h>
#include <stdint.h>
#include <zlib.h>

/* ------------------------------------------------------------ helpers */

static trpt_str S(const char *s) { return (trpt_str){ s, strlen(s) }; }

#define START 1459468800 /* 2016-04-01T00:00:00Z */
#define END 1459555199   /* 2016-04-01T23:59:59Z */

static const char *const rfc_strings[] = { "version: STSv1", "mode: testing",
                                           "mx: *.mail.company-y.example", "max_age: 86400" };
static const char *const rfc_mx[] = { "*.mail.company-y.example" };

/* The RFC 8460 Appendix B example report, its counts added in pieces so the
 * summary sums and the merging of equal failure rows are exercised. */
/* A report of "Org" over [START, END] with the given policies. */
static trpt_report org_report(const char *id, trpt_policy_result *pols, size_t n)
{
    trpt_report r = { 0 };
    r.organization_name = S("Org");
    r.contact_info = S("c@example.com");
    r.report_id = (trpt_str){ id, strlen(id) };
    r.start_epoch = START;
    r.end_epoch = END;
    r.policies = pols;
    r.npolicies = n;
    return r;
}

static int build_rfc_example(trpt_builder *b)
{
#define TRY(call) do { int rc_ = (call); if (rc_) return rc_; } while (0)
    size_t p, p2;
    TRY(trpt_builder_set_meta(b, "Company-X", "sts-reporting@company-x.example",
                              "5065427c-23d3-47ca-b6e0-946ea0e8c4be", START, END, NULL));
    TRY(trpt_builder_add_policy(b, "sts", "company-y.example", rfc_strings, 4, rfc_mx, 1, &p, NULL));
    TRY(trpt_builder_add_success(b, p, 5000, NULL));
    TRY(trpt_builder_add_policy(b, "sts", "company-y.example", rfc_strings, 4, rfc_mx, 1, &p2, NULL));
    if (p2 != p) return -1; /* an equal policy must be found, not added */
    TRY(trpt_builder_add_success(b, p2, 326, NULL));
    trpt_failure f = { 0 };
    f.result_type = S("certificate-expired");
    f.sending_mta_ip = S("2001:db8:abcd:0012::1");
    f.receiving_mx_hostname = S("mx1.mail.company-y.example");
    f.has = TRPT_HAS_SENDING_MTA_IP | TRPT_HAS_RECEIVING_MX_HOSTNAME;
    f.failed_session_count = 60;
    TRY(trpt_builder_add_failure(b, p, &f, NULL));
    trpt_failure g = { 0 };
    g.result = TRPT_RESULT_STARTTLS_NOT_SUPPORTED; /* by enum, no string */
    g.sending_mta_ip = S("2001:db8:abcd:0013::1");
    g.receiving_mx_hostname = S("mx2.mail.company-y.example");
    g.receiving_ip = S("203.0.113.56");
    g.additional_information =
        S("https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported");
    g.has = TRPT_HAS_SENDING_MTA_IP | TRPT_HAS_RECEIVING_MX_HOSTNAME | TRPT_HAS_RECEIVING_IP |
            TRPT_HAS_ADDITIONAL_INFORMATION;
    g.failed_session_count = 200;
    TRY(trpt_builder_add_failure(b, p, &g, NULL));
    f.failed_session_count = 40; /* same fields as the first: merges into 100 */
    TRY(trpt_builder_add_failure(b, p, &f, NULL));
    trpt_failure h = { 0 };
    h.result_type = S("validation-failure");
    h.sending_mta_ip = S("198.51.100.62");
    h.receiving_ip = S("203.0.113.58");
    h.receiving_mx_hostname = S("mx-backup.mail.company-y.example");
    h.failure_reason_code = S("X509_V_ERR_PROOF_OF_POSSESSION");
    h.receiving_mx_helo = S("ignored: its has-bit is not set");
    h.has = TRPT_HAS_SENDING_MTA_IP | TRPT_HAS_RECEIVING_IP | TRPT_HAS_RECEIVING_MX_HOSTNAME |
            TRPT_HAS_FAILURE_REASON_CODE;
    h.failed_session_count = 3;
    TRY(trpt_builder_add_failure(b, p, &h, NULL));
    return 0;
#undef TRY
}

static char *read_vector_file(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", vec_dir(), name);
    return tap_slurp(path, len);
}

/* gunzip with zlib directly (independent of the library's own inflater). */
static char *gunzip(const char *in, size_t n, size_t *outlen)
{
    z_stream z = { 0 };
    if (inflateInit2(&z, 15 + 16) != Z_OK) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    int zr = Z_OK;
    while (out && zr == Z_OK) {
        if (len == cap) {
            char *no = realloc(out, cap *= 2);
            if (!no) { free(out); out = NULL; break; }
            out = no;
        }
        z.next_out = (Bytef *)out + len;
        z.avail_out = (uInt)(cap - len);
        zr = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
    }
    int ended = zr == Z_STREAM_END && z.avail_in == 0;
    inflateEnd(&z);
    if (!ended) { free(out); return NULL; }
    *outlen = len;
    return out;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes base64 lines (CRLF-separated, '=' padding) up to a blank line. */
static char *b64decode(const char *p, const char *end, size_t *outlen)
{
    char *out = malloc((size_t)(end - p));
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; p < end && out; p++) {
        if (*p == '\r' || *p == '\n' || *p == '=') continue;
        int v = b64val((unsigned char)*p);
        if (v < 0) { free(out); return NULL; }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    *outlen = o;
    return out;
}

/* ---------------------------------------------------------- the tests */

static void test_rfc_example(void)
{
    tu_alloc al = { -1, 0, 0 }; /* counts the bytes, fails nothing */
    trpt_builder *b = trpt_builder_new(tu_alloc_fn, &al);
    ok(b != NULL, "builder_new");
    is_int(build_rfc_example(b), 0, "RFC 8460 example built (policy added twice, counts in pieces)");
    trpt_str out;
    trpt_error err;
    is_int(trpt_builder_json(b, &out, &err), TRPT_OK, "json");
    size_t wlen;
    char *want = read_vector_file("build-rfc8460-example.json", &wlen);
    ok(want != NULL, "expected JSON vector readable");
    if (want) {
        ok(out.len == wlen && memcmp(out.ptr, want, wlen) == 0,
           "JSON equals the hand-checked RFC 8460 Appendix B example (key order, merged 60+40, sums 5326/303)");
        if (out.len != wlen || memcmp(out.ptr, want, wlen))
            printf("#   got  %.*s\n#   want %s\n", (int)out.len, out.ptr, want);
    }
    is_int(out.ptr[out.len], 0, "output is NUL-terminated");

    /* gzip: inflate with zlib and compare; header fields of RFC 1952 */
    trpt_str gz;
    is_int(trpt_builder_gzip(b, &gz, &err), TRPT_OK, "gzip");
    ok(gz.len > 18 && (unsigned char)gz.ptr[0] == 0x1f && (unsigned char)gz.ptr[1] == 0x8b &&
           gz.ptr[2] == 8, "gzip magic and deflate method");
    ok(gz.len > 18 && gz.ptr[4] == 0 && gz.ptr[5] == 0 && gz.ptr[6] == 0 && gz.ptr[7] == 0,
       "gzip mtime is 0 (reproducible)");
    size_t ulen = 0;
    char *un = gunzip(gz.ptr, gz.len, &ulen);
    ok(un && want && ulen == wlen && memcmp(un, want, wlen) == 0, "zlib inflates the gzip to the JSON");
    free(un);
    char *copy = malloc(gz.len);
    size_t gzlen = gz.len;
    memcpy(copy, gz.ptr, gz.len);
    is_int(trpt_builder_gzip(b, &gz, &err), TRPT_OK, "gzip again");
    ok(gz.len == gzlen && memcmp(copy, gz.ptr, gzlen) == 0, "gzip output is deterministic");
    free(copy);

    /* §5.4 POST body */
    const char *ct = NULL;
    trpt_str body;
    is_int(trpt_builder_post(b, 1, &body, &ct, &err), TRPT_OK, "post gzip");
    ok(ct && strcmp(ct, "application/tlsrpt+gzip") == 0 && body.len == gzlen, "post gzip content type and body");
    is_int(trpt_builder_post(b, 0, &body, &ct, &err), TRPT_OK, "post json");
    ok(ct && strcmp(ct, "application/tlsrpt+json") == 0 && want && body.len == wlen &&
           memcmp(body.ptr, want, wlen) == 0, "post json content type and body");
    is_int(trpt_builder_post(b, 0, &body, NULL, &err), TRPT_E_ARG, "post without content_type pointer");

    /* §5.1 file names */
    trpt_str fn;
    is_int(trpt_builder_filename(b, "company-x.example", "company-y.example", NULL, 1, &fn, &err),
           TRPT_OK, "filename");
    is_str(fn.ptr, fn.len, "company-x.example!company-y.example!1459468800!1459555199.json.gz",
           "filename per RFC 8460 §5.1");
    is_int(trpt_builder_filename(b, "company-x.example", NULL, "a1B2", 0, &fn, &err), TRPT_OK,
           "filename with unique-id, domain taken from the only policy");
    is_str(fn.ptr, fn.len, "company-x.example!company-y.example!1459468800!1459555199!a1B2.json",
           "filename with unique-id and .json");
    is_int(trpt_builder_filename(b, "company-x.example", NULL, "a-1", 1, &fn, &err), TRPT_E_FIELD,
           "unique-id with a hyphen");
    is_int(trpt_builder_filename(b, "company-x.example", NULL, "", 1, &fn, &err), TRPT_E_FIELD,
           "empty unique-id");
    is_int(trpt_builder_filename(b, "company-x.example", NULL,
                                 "0123456789012345678901234567890123456789012345678901234567890123x",
                                 1, &fn, &err), TRPT_E_FIELD, "unique-id over 64 characters");
    is_int(trpt_builder_filename(b, "bad!name", NULL, NULL, 1, &fn, &err), TRPT_E_FIELD,
           "submitter with '!'");
    ok(strcmp(err.path, "submitter") == 0, "error path names the submitter");
    is_int(trpt_builder_filename(b, NULL, NULL, NULL, 1, &fn, &err), TRPT_OK,
           "no submitter: contact-info's domain");
    is_str(fn.ptr, fn.len, "company-x.example!company-y.example!1459468800!1459555199.json.gz",
           "file name of contact-info's domain");
    is_int(trpt_builder_filename(b, "Company-X.example.", NULL, NULL, 1, &fn, &err), TRPT_OK,
           "submitter equal but for case and a trailing dot");
    is_str(fn.ptr, fn.len, "Company-X.example!company-y.example!1459468800!1459555199.json.gz",
           "the trailing dot is dropped from the file name");
    is_int(trpt_builder_filename(b, "mail.sender.example", NULL, NULL, 1, &fn, &err), TRPT_E_FIELD,
           "a submitter other than contact-info's domain (RFC 8460 §5.3: they must match)");
    ok(strcmp(err.path, "submitter") == 0 && strstr(err.message, "company-x.example") != NULL,
       "error names the submitter and contact-info's domain (%s)", err.message);
    is_int(trpt_builder_filename(b, "a.example", "x/y", NULL, 1, &fn, &err), TRPT_E_FIELD,
           "bad policy domain in the file name");
    free(want);
    trpt_builder_free(b);
    is_int(al.live, 0, "builder_free returns every byte");
}

static void check_vec_result(const vec *v, int rc, const trpt_error *err, const char *what)
{
    if (v->ok) {
        is_int(rc, TRPT_OK, "%s line %d: %s", what, v->line, v->text);
        if (rc) printf("#   %s: %s\n", err->path, err->message);
        return;
    }
    ok(rc != TRPT_OK && strcmp(trpt_code_name(rc), v->code) == 0, "%s line %d: %s -> %s", what,
       v->line, v->text, v->code);
    if (rc == TRPT_OK || strcmp(trpt_code_name(rc), v->code))
        printf("#   got %s (%s: %s)\n", trpt_code_name(rc), err->path, err->message);
    const vec_bytes *want = vec_get(v, "path");
    if (want)
        ok(rc && strcmp(err->path, want->ptr) == 0, "%s line %d: error path %s", what, v->line, want->ptr);
    ok(rc == TRPT_OK || err->message[0], "%s line %d: error has a message", what, v->line);
}

static void test_policy_vectors(void)
{
    vec_file vf;
    char msg[256];
    long n = vec_load(&vf, "build-policy.txt", msg, sizeof msg);
    ok(n > 0, "build-policy.txt loaded (%s)", n < 0 ? msg : "ok");
    for (size_t i = 0; n > 0 && i < vf.n; i++) {
        const vec *v = &vf.v[i];
        trpt_builder *b = trpt_builder_new(NULL, NULL);
        const char *ps[] = { "version: STSv1" };
        const char *mx[] = { v->ninput > 2 ? v->input[2].ptr : NULL };
        size_t idx;
        trpt_error err = { 0 };
        int rc = trpt_builder_add_policy(b, v->input[0].ptr, v->input[1].ptr, ps, 1, mx,
                                         v->ninput > 2, &idx, &err);
        check_vec_result(v, rc, &err, "policy");
        trpt_builder_free(b);
    }
    vec_free(&vf);
}

static void test_failure_vectors(void)
{
    vec_file vf;
    char msg[256];
    long n = vec_load(&vf, "build-failure.txt", msg, sizeof msg);
    ok(n > 0, "build-failure.txt loaded (%s)", n < 0 ? msg : "ok");
    for (size_t i = 0; n > 0 && i < vf.n; i++) {
        const vec *v = &vf.v[i];
        trpt_builder *b = trpt_builder_new(NULL, NULL);
        size_t idx;
        trpt_builder_add_policy(b, "no-policy-found", "example.com", NULL, 0, NULL, 0, &idx, NULL);
        trpt_failure f = { 0 };
        f.result_type = (trpt_str){ v->input[0].ptr, v->input[0].len };
        f.failed_session_count = 1;
        for (size_t k = 1; k + 1 < v->ninput; k += 2) {
            const char *key = v->input[k].ptr;
            trpt_str val = { v->input[k + 1].ptr, v->input[k + 1].len };
            if (!strcmp(key, "count")) f.failed_session_count = strtoll(val.ptr, NULL, 10);
            else if (!strcmp(key, "sending-mta-ip")) { f.sending_mta_ip = val; f.has |= TRPT_HAS_SENDING_MTA_IP; }
            else if (!strcmp(key, "receiving-mx-hostname")) { f.receiving_mx_hostname = val; f.has |= TRPT_HAS_RECEIVING_MX_HOSTNAME; }
            else if (!strcmp(key, "receiving-mx-helo")) { f.receiving_mx_helo = val; f.has |= TRPT_HAS_RECEIVING_MX_HELO; }
            else if (!strcmp(key, "receiving-ip")) { f.receiving_ip = val; f.has |= TRPT_HAS_RECEIVING_IP; }
            else if (!strcmp(key, "additional-information")) { f.additional_information = val; f.has |= TRPT_HAS_ADDITIONAL_INFORMATION; }
            else if (!strcmp(key, "failure-reason-code")) { f.failure_reason_code = val; f.has |= TRPT_HAS_FAILURE_REASON_CODE; }
            else ok(0, "unknown key %s in vector line %d", key, v->line);
        }
        trpt_error err = { 0 };
        int rc = trpt_builder_add_failure(b, idx, &f, &err);
        check_vec_result(v, rc, &err, "failure");
        trpt_builder_free(b);
    }
    vec_free(&vf);
}

/* Merging rules and summary totals. */
static void test_merging(void)
{
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    trpt_error err;
    size_t p1, p2, p3;
    trpt_builder_set_meta(b, "Org", "c@example.com", "r1", START, START, NULL);
    trpt_builder_add_policy(b, "no-policy-found", "a.example", NULL, 0, NULL, 0, &p1, NULL);
    trpt_builder_add_policy(b, "no-policy-found", "b.example", NULL, 0, NULL, 0, &p2, NULL);
    const char *s1[] = { "3 1 1 abcd" };
    trpt_builder_add_policy(b, "tlsa", "a.example", s1, 1, NULL, 0, &p3, NULL);
    ok(p1 == 0 && p2 == 1 && p3 == 2, "different domain or type: separate policies");
    trpt_failure f = { 0 };
    f.result_type = S("validation-failure");
    f.failed_session_count = 2;
    trpt_builder_add_failure(b, p1, &f, NULL);
    trpt_builder_add_failure(b, p2, &f, NULL);  /* other policy: own row */
    f.receiving_ip = S("192.0.2.1");
    f.has = TRPT_HAS_RECEIVING_IP;
    trpt_builder_add_failure(b, p1, &f, NULL);  /* extra field: own row */
    f.receiving_ip = S("192.0.2.2");
    trpt_builder_add_failure(b, p1, &f, NULL);  /* other value: own row */
    f.receiving_ip = S("192.0.2.1");
    f.failed_session_count = 5;
    trpt_builder_add_failure(b, p1, &f, NULL);  /* merges: 7 */
    f.has = 0;
    f.failed_session_count = 0;
    trpt_builder_add_failure(b, p1, &f, NULL);  /* merges into the first, +0 */
    f.result_type = S("dnssec-invalid");
    trpt_builder_add_failure(b, p1, &f, NULL);  /* other type: own row, count 0 */
    trpt_builder_add_success(b, p1, 0, NULL);
    trpt_builder_add_success(b, p2, 9, NULL);
    trpt_str out;
    is_int(trpt_builder_json(b, &out, &err), TRPT_OK, "json of merged report");
    const char *want =
        "{\"organization-name\":\"Org\",\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\","
        "\"end-datetime\":\"2016-04-01T00:00:00Z\"},\"contact-info\":\"c@example.com\",\"report-id\":\"r1\","
        "\"policies\":[{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":\"a.example\"},"
        "\"summary\":{\"total-successful-session-count\":0,\"total-failure-session-count\":11},"
        "\"failure-details\":[{\"result-type\":\"validation-failure\",\"failed-session-count\":2},"
        "{\"result-type\":\"validation-failure\",\"receiving-ip\":\"192.0.2.1\",\"failed-session-count\":7},"
        "{\"result-type\":\"validation-failure\",\"receiving-ip\":\"192.0.2.2\",\"failed-session-count\":2},"
        "{\"result-type\":\"dnssec-invalid\",\"failed-session-count\":0}]},"
        "{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":\"b.example\"},"
        "\"summary\":{\"total-successful-session-count\":9,\"total-failure-session-count\":2},"
        "\"failure-details\":[{\"result-type\":\"validation-failure\",\"failed-session-count\":2}]},"
        "{\"policy\":{\"policy-type\":\"tlsa\",\"policy-string\":[\"3 1 1 abcd\"],\"policy-domain\":\"a.example\"},"
        "\"summary\":{\"total-successful-session-count\":0,\"total-failure-session-count\":0}}]}";
    is_str(out.ptr, out.len, want, "rows merge only when type and every field are equal; totals are sums");

    trpt_str fn;
    is_int(trpt_builder_filename(b, "example.com", NULL, NULL, 1, &fn, &err), TRPT_E_ARG,
           "filename without policy_domain when policies differ");
    ok(strstr(err.message, "policy_domain") != NULL, "message names policy_domain");
    /* RFC 8460 §5.1/§5.3: a file or e-mail is for one policy domain; naming
     * one of several would give a report our parser warns about. */
    is_int(trpt_builder_filename(b, "example.com", "a.example", NULL, 1, &fn, &err), TRPT_E_ARG,
           "filename for one policy domain of several");

    /* counts and sums stop at 2^53-1, the parser's bound (RFC 7493 §2.2) */
    is_int(trpt_builder_add_success(b, p2, INT64_C(9007199254740991) - 9, &err), TRPT_OK,
           "success up to 2^53-1");
    is_int(trpt_builder_add_success(b, p2, 1, &err), TRPT_E_LIMIT, "success total past 2^53-1");
    f.failed_session_count = INT64_C(9007199254740991);
    is_int(trpt_builder_add_failure(b, p1, &f, &err), TRPT_E_LIMIT, "failure total past 2^53-1");
    is_int(trpt_builder_add_success(b, p2, -1, &err), TRPT_E_FIELD, "negative success count");
    is_int(trpt_builder_add_success(b, p2, INT64_C(9007199254740992), &err), TRPT_E_FIELD,
           "success count of 2^53");
    is_int(trpt_builder_add_success(b, 3, 1, &err), TRPT_E_ARG, "unknown policy index");
    is_int(trpt_builder_add_failure(b, 99, &f, &err), TRPT_E_ARG, "failure for an unknown policy index");
    is_int(trpt_builder_add_failure(b, p1, NULL, &err), TRPT_E_ARG, "NULL failure");
    trpt_builder_free(b);
}

static void test_meta_errors(void)
{
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    trpt_error err;
    trpt_str out;
    size_t p;
    is_int(trpt_builder_json(b, &out, &err), TRPT_E_FIELD, "json without metadata");
    ok(strstr(err.message, "metadata") != NULL, "message says metadata is missing");
    is_int(trpt_builder_set_meta(b, NULL, "c", "r", 0, 0, &err), TRPT_E_FIELD, "NULL organization-name");
    is_int(trpt_builder_set_meta(b, "", "c", "r", 0, 0, &err), TRPT_E_FIELD, "empty organization-name");
    is_int(trpt_builder_set_meta(b, "O", "", "r", 0, 0, &err), TRPT_E_FIELD, "empty contact-info");
    is_int(trpt_builder_set_meta(b, "O", "c", "r", 10, 9, &err), TRPT_E_FIELD, "end before start");
    ok(strcmp(err.path, "date-range") == 0, "error path date-range");
    is_int(trpt_builder_set_meta(b, "O", "c", "r", -1, 9, &err), TRPT_E_FIELD, "negative start");
    is_int(trpt_builder_set_meta(b, "O", "c", "r", 0, INT64_C(253402300800), &err), TRPT_E_FIELD,
           "end past year 9999");
    is_int(trpt_builder_set_meta(b, "\xc3\x28", "c", "r", 0, 0, &err), TRPT_E_UTF8,
           "organization-name with invalid UTF-8");
    is_int(trpt_builder_set_meta(b, "O", NULL, NULL, 0, INT64_C(253402300799), &err), TRPT_OK,
           "contact-info and report-id may be NULL; 9999-12-31T23:59:59Z allowed");
    trpt_builder_add_policy(b, "sts", "example.com", NULL, 0, NULL, 0, &p, NULL);
    is_int(trpt_builder_json(b, &out, &err), TRPT_E_FIELD, "json without contact-info");
    ok(strcmp(err.path, "contact-info") == 0, "error path contact-info");
    trpt_builder_set_meta(b, "O", "c@example.com", NULL, 0, 0, NULL);
    is_int(trpt_builder_json(b, &out, &err), TRPT_E_FIELD, "json without report-id");
    ok(strcmp(err.path, "report-id") == 0, "error path report-id");
    trpt_builder_set_meta(b, "O", "c@example.com", "r", 0, INT64_C(253402300799), NULL);
    is_int(trpt_builder_json(b, &out, &err), TRPT_OK, "json once metadata is complete");
    ok(strstr(out.ptr, "\"start-datetime\":\"1970-01-01T00:00:00Z\",\"end-datetime\":\"9999-12-31T23:59:59Z\""),
       "RFC 3339 UTC dates at both ends of the range");
    trpt_builder_free(b);

    b = trpt_builder_new(NULL, NULL);
    trpt_builder_set_meta(b, "O", "c", "r", 0, 0, NULL);
    is_int(trpt_builder_json(b, &out, &err), TRPT_E_FIELD, "json without any policy");
    is_int(trpt_builder_add_policy(b, NULL, "example.com", NULL, 0, NULL, 0, &p, &err), TRPT_E_FIELD,
           "NULL policy type");
    is_int(trpt_builder_add_policy(b, "sts", NULL, NULL, 0, NULL, 0, &p, &err), TRPT_E_FIELD,
           "NULL policy domain");
    is_int(trpt_builder_add_policy(b, "sts", "example.com", NULL, 1, NULL, 0, &p, &err), TRPT_E_ARG,
           "NULL policy-string array with a count");
    const char *nulls[] = { NULL };
    is_int(trpt_builder_add_policy(b, "sts", "example.com", nulls, 1, NULL, 0, &p, &err), TRPT_E_ARG,
           "NULL policy-string entry");
    is_int(trpt_builder_add_policy(b, "sts", "bad\r\nX-Injected: 1", NULL, 0, NULL, 0, &p, &err),
           TRPT_E_FIELD, "domain with CRLF");
    ok(!strchr(err.message, '\r') && !strchr(err.message, '\n') && strstr(err.message, "'bad??X-Injected: 1'"),
       "error messages show input with control characters replaced");
    char longtype[200];
    memset(longtype, 'x', sizeof longtype - 1);
    longtype[sizeof longtype - 1] = 0;
    is_int(trpt_builder_add_policy(b, longtype, "example.com", NULL, 0, NULL, 0, &p, &err), TRPT_E_FIELD,
           "a long unknown policy type");
    ok(strstr(err.message, "xxx...'") != NULL && strlen(err.message) < 140, "is cut short in the message");
    const char *empty[] = { "" };
    is_int(trpt_builder_add_policy(b, "sts", "example.com", empty, 1, NULL, 0, &p, &err), TRPT_E_FIELD,
           "empty policy-string entry");
    is_int(trpt_builder_add_policy(b, "sts", "example.com", NULL, 0, NULL, 0, NULL, &err), TRPT_E_ARG,
           "NULL index pointer");
    trpt_builder_free(b);
    is_int(trpt_builder_set_meta(NULL, "O", "c", "r", 0, 0, &err), TRPT_E_ARG, "NULL builder");
    is_int(trpt_builder_json(NULL, &out, &err), TRPT_E_ARG, "json of NULL builder");
    trpt_builder_free(NULL);
    ok(1, "builder_free(NULL) is a no-op");
}

static void test_limits(void)
{
    trpt_limits lim;
    trpt_limits_default(&lim);
    lim.max_elements = 3;
    lim.max_string = 16;
    lim.max_decompressed = 40;
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    trpt_builder_set_limits(b, &lim);
    trpt_error err;
    size_t p;
    const char *four[] = { "a", "b", "c", "d" };
    is_int(trpt_builder_add_policy(b, "sts", "a.example", four, 4, NULL, 0, &p, &err), TRPT_E_LIMIT,
           "policy-string entries past max_elements");
    is_int(trpt_builder_add_policy(b, "sts", "a.example", NULL, 0, four, 4, &p, &err), TRPT_E_LIMIT,
           "mx-host entries past max_elements");
    const char *longs[] = { "0123456789abcdefX" };
    is_int(trpt_builder_add_policy(b, "sts", "a.example", longs, 1, NULL, 0, &p, &err), TRPT_E_LIMIT,
           "policy-string past max_string");
    ok(strstr(err.message, "max_string") != NULL, "message names max_string");
    is_int(trpt_builder_add_policy(b, "no-policy-found", "a.example", NULL, 0, NULL, 0, &p, &err), TRPT_OK, "policy 1");
    is_int(trpt_builder_add_policy(b, "no-policy-found", "b.example", NULL, 0, NULL, 0, &p, &err), TRPT_OK, "policy 2");
    is_int(trpt_builder_add_policy(b, "no-policy-found", "c.example", NULL, 0, NULL, 0, &p, &err), TRPT_OK, "policy 3");
    is_int(trpt_builder_add_policy(b, "no-policy-found", "a.example", NULL, 0, NULL, 0, &p, &err), TRPT_OK,
           "an existing policy is found at the cap");
    is_int(trpt_builder_add_policy(b, "no-policy-found", "d.example", NULL, 0, NULL, 0, &p, &err), TRPT_E_LIMIT,
           "a 4th policy past max_elements");
    is_int(trpt_builder_add_policy(b, "no-policy-found", "d0123456789abcdef.example", NULL, 0, NULL, 0, &p, &err),
           TRPT_E_LIMIT, "policies past max_decompressed stored bytes");
    trpt_failure f = { 0 };
    f.result_type = S("validation-failure");
    f.failed_session_count = 1;
    f.has = TRPT_HAS_FAILURE_REASON_CODE;
    const char *codes[] = { "c1", "c2", "c3", "c4" };
    int rcs = 0;
    for (int i = 0; i < 3; i++) {
        f.failure_reason_code = S(codes[i]);
        rcs |= trpt_builder_add_failure(b, 0, &f, &err);
    }
    is_int(rcs, TRPT_OK, "three failure rows");
    f.failure_reason_code = S(codes[3]);
    is_int(trpt_builder_add_failure(b, 1, &f, &err), TRPT_E_LIMIT, "a 4th row (any policy) past max_elements");
    f.failure_reason_code = S(codes[0]);
    is_int(trpt_builder_add_failure(b, 0, &f, &err), TRPT_OK, "merging into an existing row at the cap");
    f.failure_reason_code = S("0123456789abcdefX");
    is_int(trpt_builder_add_failure(b, 0, &f, &err), TRPT_E_LIMIT, "failure field past max_string");
    is_int(trpt_builder_set_meta(b, "Org-0123456789ab", "c", "r", 0, 0, &err), TRPT_E_LIMIT,
           "metadata past max_decompressed stored bytes");
    trpt_builder_set_limits(b, NULL);
    is_int(trpt_builder_add_policy(b, "no-policy-found", "d.example", NULL, 0, NULL, 0, &p, &err), TRPT_OK,
           "set_limits(NULL) restores the defaults");
    trpt_builder_free(b);

    /* Many rows: the hash tables grow and merging still finds every row. */
    b = trpt_builder_new(NULL, NULL);
    trpt_builder_set_meta(b, "O", "c@example.com", "r", 0, 0, NULL);
    trpt_builder_add_policy(b, "no-policy-found", "a.example", NULL, 0, NULL, 0, &p, NULL);
    f.has = TRPT_HAS_SENDING_MTA_IP;
    int all = 0;
    char ip[32];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 20000; i++) {
            snprintf(ip, sizeof ip, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
            f.sending_mta_ip = S(ip);
            f.failed_session_count = 1 + round;
            all |= trpt_builder_add_failure(b, p, &f, NULL);
        }
    trpt_str out;
    is_int(all, TRPT_OK, "40000 adds of 20000 distinct rows");
    is_int(trpt_builder_json(b, &out, &err), TRPT_OK, "json of 20000 rows");
    ok(strstr(out.ptr, "\"total-failure-session-count\":60000") != NULL, "total is the sum of all adds");
    size_t rows = 0;
    for (const char *q = out.ptr; (q = strstr(q, "\"failed-session-count\":3")); q++) rows++;
    is_int(rows, 20000, "each of the 20000 rows merged its two adds (count 3)");
    trpt_builder_free(b);
}

/* The RFC example, its JSON and its e-mail under an allocation budget. */
static int alloc_attempt(tu_alloc *a, void *arg)
{
    trpt_builder *b = trpt_builder_new(tu_alloc_fn, a);
    if (!b) return TRPT_E_NOMEM;
    trpt_error err;
    trpt_str out;
    trpt_email_opts o = { "r@company-x.example", "t@company-y.example", "company-x.example", NULL,
                          NULL, 0, NULL };
    int rc = build_rfc_example(b);
    if (!rc) rc = trpt_builder_json(b, &out, &err);
    if (!rc) rc = trpt_builder_email(b, &o, &out, &err);
    trpt_builder_free(b);
    return rc;
}

/* Every allocation failure point returns TRPT_E_NOMEM (or succeeds) and leaks nothing. */
static void test_alloc_failures(void)
{
    tu_nomem r;
    tu_nomem_run(&r, 0, 400, alloc_attempt, NULL);
    ok(r.succeeded, "the run without failures succeeded (after %d injected failures)", r.tries - 1);
    is_int(r.other + r.leaks, 0, "every injected allocation failure gave NOMEM and no leak");
}

/* One allocation failing while the JSON is written, the next ones
 * succeeding: NOMEM or the complete JSON, never TRPT_OK with a piece left
 * out (jansson drops an object key whose write failed and goes on). */
static void test_json_fail_once(void)
{
    tu_alloc a = { -1, 0, 1 };
    trpt_builder *b = trpt_builder_new(tu_alloc_fn, &a);
    trpt_error err;
    trpt_str out;
    if (!b || build_rfc_example(b) || trpt_builder_json(b, &out, &err)) {
        ok(0, "reference JSON");
        trpt_builder_free(b);
        return;
    }
    char *want = strdup(out.ptr);
    int bad = 0, nomem = 0, n;
    for (n = 0; n < 200; n++) {
        a.left = n;
        int rc = trpt_builder_json(b, &out, &err);
        int injected = a.left < 0;
        a.left = -1;
        if (rc == TRPT_E_NOMEM) nomem++;
        else if (rc != TRPT_OK || !want || strcmp(out.ptr, want)) bad++;
        if (!injected) break;
    }
    ok(nomem > 0 && n < 200, "failures injected at %d points, %d gave NOMEM", n, nomem);
    is_int(bad, 0, "no failure point gives OK with other JSON (or another error)");
    free(want);
    trpt_builder_free(b);
}

/* ---------------------------------------------------------- e-mail */

/* CRLF only; *maxlen: the longest line other than the (unfoldable)
 * name= / filename= parameter lines. */
static int lines_ok(const char *m, size_t n, int *maxlen)
{
    *maxlen = 0;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i] == '\n') {
            if (i == 0 || m[i - 1] != '\r') return 0;
            int len = (int)(i - 1 - start);
            if (len > 998) return 0; /* RFC 5322 §2.1.1 MUST */
            if (len > *maxlen && strncmp(m + start, " name=", 6) && strncmp(m + start, " filename=", 10))
                *maxlen = len;
            start = i + 1;
        } else if (m[i] == '\r' && (i + 1 == n || m[i + 1] != '\n')) {
            return 0;
        }
    }
    return 1;
}

static void test_email(void)
{
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    build_rfc_example(b);
    trpt_error err;
    trpt_str m, js;
    trpt_email_opts o = { 0 };
    o.from = "tlsrpt@company-x.example";
    o.to = "tlsrpt@company-y.example";
    o.submitter = "company-x.example";
    o.date = 1459587600; /* 2016-04-02T09:00:00Z, a Saturday */
    o.boundary = "----=_NextPart_000_024E_01CC9B0A.AFE54C00";
    o.message_id = "<abc.123@company-x.example>";
    is_int(trpt_builder_email(b, &o, &m, &err), TRPT_OK, "email");
    char *mail = malloc(m.len + 1);
    memcpy(mail, m.ptr, m.len + 1);
    size_t mlen = m.len;
    int maxlen;
    ok(lines_ok(mail, mlen, &maxlen), "only CRLF line ends, none past 998 characters");
    ok(maxlen <= 78, "no line but the file name parameters longer than 78 (longest %d)", maxlen);
    const char *head =
        "From: tlsrpt@company-x.example\r\n"
        "Date: Sat, 2 Apr 2016 09:00:00 +0000\r\n"
        "To: tlsrpt@company-y.example\r\n"
        "Message-ID: <abc.123@company-x.example>\r\n"
        "Subject: Report Domain: company-y.example\r\n"
        " Submitter: company-x.example\r\n"
        " Report-ID: <5065427c-23d3-47ca-b6e0-946ea0e8c4be@company-x.example>\r\n"
        "TLS-Report-Domain: company-y.example\r\n"
        "TLS-Report-Submitter: company-x.example\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
        " boundary=\"----=_NextPart_000_024E_01CC9B0A.AFE54C00\"\r\n\r\n";
    ok(mlen > strlen(head) && memcmp(mail, head, strlen(head)) == 0, "headers per RFC 8460 §5.3");
    if (mlen <= strlen(head) || memcmp(mail, head, strlen(head))) printf("#   got:\n%.800s\n", mail);
    ok(strstr(mail, "\r\n------=_NextPart_000_024E_01CC9B0A.AFE54C00\r\nContent-Type: text/plain") != NULL,
       "first part is text/plain (RFC 6522 human-readable part)");
    const char *att =
        "\r\n------=_NextPart_000_024E_01CC9B0A.AFE54C00\r\n"
        "Content-Type: application/tlsrpt+gzip;\r\n"
        " name=\"company-x.example!company-y.example!1459468800!1459555199.json.gz\"\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment;\r\n"
        " filename=\"company-x.example!company-y.example!1459468800!1459555199.json.gz\"\r\n\r\n";
    const char *a = strstr(mail, att);
    ok(a != NULL, "second part: application/tlsrpt+gzip, base64, §5.1 filename");
    const char *close = strstr(mail, "\r\n------=_NextPart_000_024E_01CC9B0A.AFE54C00--\r\n");
    ok(close != NULL && close[strlen("\r\n------=_NextPart_000_024E_01CC9B0A.AFE54C00--\r\n")] == 0,
       "closing delimiter ends the message");
    if (a && close) {
        const char *body = a + strlen(att);
        int full = 1, last = 0;
        for (const char *q = body; q < close;) {
            const char *e = strstr(q, "\r\n");
            int len = (int)(e - q);
            if (len != 76) { if (last) full = 0; last = 1; }
            if (len > 76) full = 0;
            q = e + 2;
        }
        ok(full, "base64 lines are 76 columns (the last may be shorter)");
        size_t gzlen, jlen;
        char *gz = b64decode(body, close, &gzlen);
        char *json = gz ? gunzip(gz, gzlen, &jlen) : NULL;
        trpt_builder_json(b, &js, &err);
        ok(json && jlen == js.len && memcmp(json, js.ptr, jlen) == 0, "attachment decodes to the JSON report");
        free(gz);
        free(json);
    }
    is_int(trpt_builder_email(b, &o, &m, &err), TRPT_OK, "email again");
    ok(m.len == mlen && memcmp(m.ptr, mail, mlen) == 0, "email is deterministic");

    /* defaults: boundary from the attachment, Message-ID from the report-id */
    o.boundary = NULL;
    o.message_id = NULL;
    is_int(trpt_builder_email(b, &o, &m, &err), TRPT_OK, "email with default boundary and message-id");
    ok(strstr(m.ptr, "Message-ID: <5065427c-23d3-47ca-b6e0-946ea0e8c4be@company-x.example>\r\n") != NULL,
       "default Message-ID is <report-id@submitter>");
    o.submitter = NULL;
    is_int(trpt_builder_email(b, &o, &m, &err), TRPT_OK, "email without a submitter");
    ok(strstr(m.ptr, "\r\nTLS-Report-Submitter: company-x.example\r\n") != NULL,
       "the submitter is contact-info's domain");
    o.submitter = "company-x.example";
    ok(strstr(m.ptr, " boundary=\"tlsrpt=_") != NULL, "default boundary");
    o.message_id = "abc@def";
    is_int(trpt_builder_email(b, &o, &m, &err), TRPT_OK, "message_id without angle brackets");
    ok(strstr(m.ptr, "Message-ID: <abc@def>\r\n") != NULL, "brackets added");
    o.message_id = "<m@[192.0.2.1]>";
    is_int(trpt_builder_email(b, &o, &m, &err), TRPT_OK, "message_id with a literal id-right");

    /* header injection and bad options */
    struct { const char *what; trpt_email_opts o; int code; } bads[] = {
        { "From with CRLF", { "a@b.example\r\nBcc: x@y.example", "t@c.example", "company-x.example", NULL, NULL, 0, NULL }, TRPT_E_FIELD },
        { "From without @", { "nobody", "t@c.example", "company-x.example", NULL, NULL, 0, NULL }, TRPT_E_FIELD },
        { "To with a space", { "a@b.example", "t @c.example", "company-x.example", NULL, NULL, 0, NULL }, TRPT_E_FIELD },
        { "NULL to", { "a@b.example", NULL, "company-x.example", NULL, NULL, 0, NULL }, TRPT_E_FIELD },
        { "another submitter than contact-info's domain", { "a@b.example", "t@c.example", "s.example", NULL, NULL, 0, NULL }, TRPT_E_FIELD },
        { "From with a leading dot", { ".a@b.example", "t@c.example", "company-x.example", NULL, NULL, 0, NULL }, TRPT_E_FIELD },
        { "To with two dots", { "a@b.example", "t..u@c.example", "company-x.example", NULL, NULL, 0, NULL }, TRPT_E_FIELD },
        { "message_id with two @", { "a@b.example", "t@c.example", "company-x.example", NULL, "<a@b@c>", 0, NULL }, TRPT_E_FIELD },
        { "message_id with an empty id-left", { "a@b.example", "t@c.example", "company-x.example", NULL, "<@x>", 0, NULL }, TRPT_E_FIELD },
        { "message_id with an empty id-right", { "a@b.example", "t@c.example", "company-x.example", NULL, "<x@>", 0, NULL }, TRPT_E_FIELD },
        { "message_id with a trailing dot", { "a@b.example", "t@c.example", "company-x.example", NULL, "<x.@y>", 0, NULL }, TRPT_E_FIELD },
        { "submitter with CRLF", { "a@b.example", "t@c.example", "s.example\r\nX: y", NULL, NULL, 0, NULL }, TRPT_E_FIELD },
        { "policy_domain with space", { "a@b.example", "t@c.example", "company-x.example", "a b.example", NULL, 0, NULL }, TRPT_E_FIELD },
        { "message_id with CRLF", { "a@b.example", "t@c.example", "company-x.example", NULL, "<a@b>\r\nX: y", 0, NULL }, TRPT_E_FIELD },
        { "message_id without @", { "a@b.example", "t@c.example", "company-x.example", NULL, "<ab>", 0, NULL }, TRPT_E_FIELD },
        { "boundary with a quote", { "a@b.example", "t@c.example", "company-x.example", NULL, NULL, 0, "a\"b" }, TRPT_E_FIELD },
        { "boundary of 71 characters", { "a@b.example", "t@c.example", "company-x.example", NULL, NULL, 0,
            "01234567890123456789012345678901234567890123456789012345678901234567890" }, TRPT_E_FIELD },
        { "empty boundary", { "a@b.example", "t@c.example", "company-x.example", NULL, NULL, 0, "" }, TRPT_E_FIELD },
        { "negative date", { "a@b.example", "t@c.example", "company-x.example", NULL, NULL, -1, NULL }, TRPT_E_FIELD },
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
        is_int(trpt_builder_email(b, &bads[i].o, &m, &err), bads[i].code, "email rejects %s", bads[i].what);
    is_int(trpt_builder_email(b, NULL, &m, &err), TRPT_E_ARG, "NULL email options");
    trpt_builder_free(b);

    /* Report-IDs that are no id-left: in the Subject (and a generated
     * Message-ID) as one, <id-left@submitter>, with the letters and digits
     * the parser compares; verbatim in the JSON. */
    struct { const char *rid, *left; } ids[] = {
        { "id\r\nBcc: x@example.net", "id--Bcc--x-example.net" },
        { "daily report 1", "daily-report-1" },
        { ".r", "-r" }, { "r.", "r-" }, { "a..b", "a.-b" },
        { "=?utf-8?q?abc?=", "--utf-8-q-abc--" },
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        b = trpt_builder_new(NULL, NULL);
        size_t p;
        trpt_builder_set_meta(b, "O", "c@example.com", ids[i].rid, 0, 0, NULL);
        trpt_builder_add_policy(b, "no-policy-found", "example.com", NULL, 0, NULL, 0, &p, NULL);
        trpt_builder_add_success(b, p, 1, NULL);
        trpt_email_opts ok_o = { "a@b.example", "t@c.example", NULL, NULL, NULL, 0, NULL };
        is_int(trpt_builder_email(b, &ok_o, &m, &err), TRPT_OK, "report-id '%s': e-mail", ids[i].rid);
        char want[160];
        snprintf(want, sizeof want, "\r\n Report-ID: <%s@example.com>\r\n", ids[i].left);
        ok(m.ptr && strstr(m.ptr, want) != NULL, "Subject Report-ID <%s@example.com>", ids[i].left);
        snprintf(want, sizeof want, "\r\nMessage-ID: <%s@example.com>\r\n", ids[i].left);
        ok(m.ptr && strstr(m.ptr, want) != NULL, "and that Message-ID");
        ok(m.ptr && !strstr(m.ptr, "\nBcc:"), "no header line injected");
        trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
        trpt_report_email back;
        int rc = trpt_parse_report_email(ctx, m.ptr, m.len, &(trpt_parse_opts){ 1 }, &back, &err);
        is_int(rc, TRPT_OK, "it parses back in strict mode (%s)", rc ? err.message : "ok");
        ok(!rc && back.report.report_id.len == strlen(ids[i].rid) &&
               memcmp(back.report.report_id.ptr, ids[i].rid, strlen(ids[i].rid)) == 0,
           "with the report-id verbatim");
        trpt_ctx_free(ctx);
        trpt_builder_free(b);
    }
    free(mail);
}

/* ------------------------------------------------ round trip (corpus) */

/* Field-by-field equality of what the builder keeps (not the unknown
 * members or warnings report_eq.h also compares); *why names the first
 * difference. */
static int same_report(const trpt_report *x, const trpt_report *y, const char **why)
{
#define DIFF(cond, what) do { if (!(cond)) { *why = what; return 0; } } while (0)
    DIFF(tu_str_eq(x->organization_name, y->organization_name), "organization-name");
    DIFF(tu_str_eq(x->contact_info, y->contact_info), "contact-info");
    DIFF(tu_str_eq(x->report_id, y->report_id), "report-id");
    DIFF(x->start_epoch == y->start_epoch && x->end_epoch == y->end_epoch, "date-range epochs");
    /* the generator writes canonical "…Z" dates; the corpus does too */
    DIFF(tu_str_eq(x->start_datetime, y->start_datetime), "start-datetime");
    DIFF(tu_str_eq(x->end_datetime, y->end_datetime), "end-datetime");
    DIFF(x->npolicies == y->npolicies, "number of policies");
    for (size_t i = 0; i < x->npolicies; i++) {
        const trpt_policy_result *p = &x->policies[i], *q = &y->policies[i];
        DIFF(tu_str_eq(p->policy_type, q->policy_type) && p->type == q->type, "policy-type");
        DIFF(tu_str_eq(p->policy_domain, q->policy_domain), "policy-domain");
        DIFF(tu_strs_eq(p->policy_string, p->npolicy_string, q->policy_string, q->npolicy_string),
             "policy-string");
        DIFF(tu_strs_eq(p->mx_host, p->nmx_host, q->mx_host, q->nmx_host), "mx-host");
        DIFF(p->total_successful_session_count == q->total_successful_session_count,
             "total-successful-session-count");
        DIFF(p->total_failure_session_count == q->total_failure_session_count,
             "total-failure-session-count");
        DIFF(p->nfailures == q->nfailures, "number of failure-details");
        for (size_t k = 0; k < p->nfailures; k++) {
            const trpt_failure *f = &p->failures[k], *g = &q->failures[k];
            DIFF(tu_str_eq(f->result_type, g->result_type) && f->result == g->result, "result-type");
            DIFF((f->has & 0x3f) == (g->has & 0x3f), "optional fields present");
            DIFF(tu_str_eq(f->sending_mta_ip, g->sending_mta_ip), "sending-mta-ip");
            DIFF(tu_str_eq(f->receiving_mx_hostname, g->receiving_mx_hostname), "receiving-mx-hostname");
            DIFF(tu_str_eq(f->receiving_mx_helo, g->receiving_mx_helo), "receiving-mx-helo");
            DIFF(tu_str_eq(f->receiving_ip, g->receiving_ip), "receiving-ip");
            DIFF(tu_str_eq(f->additional_information, g->additional_information), "additional-information");
            DIFF(tu_str_eq(f->failure_reason_code, g->failure_reason_code), "failure-reason-code");
            DIFF(f->failed_session_count == g->failed_session_count, "failed-session-count");
        }
    }
    return 1;
#undef DIFF
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static void test_round_trip(void)
{
    const char *dir = tap_real_corpus_or_skip();
    if (!dir) return;
    char rdir[4200];
    snprintf(rdir, sizeof rdir, "%s/reports", dir);
    DIR *d = opendir(rdir);
    ok(d != NULL, "open %s", rdir);
    if (!d) return;
    int valid = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        int eml = ends_with(name, ".eml");
        if (!eml && !ends_with(name, ".json") && !ends_with(name, ".json.gz")) continue;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", rdir, name);
        size_t len;
        char *data = tap_slurp(path, &len);
        if (!data) { ok(0, "read %s", name); continue; }
        trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
        trpt_error err;
        trpt_report orig;
        trpt_report_email em;
        int rc;
        if (eml) {
            rc = trpt_parse_report_email(ctx, data, len, NULL, &em, &err);
            orig = em.report;
        } else {
            rc = trpt_parse_report(ctx, data, len, NULL, &orig, &err);
        }
        /* RFC-valid: the lenient parse accepts it without any warning */
        if (rc != TRPT_OK || orig.nwarnings || orig.nwarnings_dropped) {
            if (rc) printf("# not RFC-valid, skipped: %s (%s)\n", name, trpt_code_name(rc));
            else printf("# not RFC-valid, skipped: %s (%s)\n", name, orig.warnings[0].code);
            trpt_ctx_free(ctx);
            free(data);
            continue;
        }
        valid++;
        trpt_builder *b = trpt_builder_new(NULL, NULL);
        rc = trpt_builder_add_report(b, &orig, &err);
        is_int(rc, TRPT_OK, "%s: add_report", name);
        if (rc) printf("#   %s: %s\n", err.path, err.message);
        trpt_str js;
        rc = rc ? rc : trpt_builder_json(b, &js, &err);
        trpt_report again;
        const char *why = "parse failed";
        int same = !rc && trpt_parse_report(ctx, js.ptr, js.len, NULL, &again, &err) == TRPT_OK &&
                   again.nwarnings == 0 && same_report(&orig, &again, &why);
        ok(same, "%s: parse(generate(x)) equals x", name);
        if (!same) printf("#   first difference: %s\n", why);

        /* no submitter: contact-info's domain, as RFC 8460 §5.3 wants */
        trpt_email_opts o = { "tlsrpt@reporter.example", "rua@receiver.example", NULL,
                              NULL, NULL, 1700000000, NULL };
        trpt_str m;
        rc = trpt_builder_email(b, &o, &m, &err);
        if (rc == TRPT_E_ARG) { /* several policy domains: name the first */
            char dom[256];
            snprintf(dom, sizeof dom, "%.*s", (int)orig.policies[0].policy_domain.len,
                     orig.policies[0].policy_domain.ptr);
            o.policy_domain = dom;
            rc = trpt_builder_email(b, &o, &m, &err);
        }
        trpt_report_email back;
        why = "parse_report_email failed";
        same = !rc && trpt_parse_report_email(ctx, m.ptr, m.len, NULL, &back, &err) == TRPT_OK &&
               back.report.nwarnings == 0 && same_report(&orig, &back.report, &why);
        ok(same, "%s: generated e-mail parses back to x", name);
        if (!same) printf("#   %s (%s: %s)\n", why, err.path, err.message);
        trpt_builder_free(b);
        trpt_ctx_free(ctx);
        free(data);
    }
    closedir(d);
    ok(valid >= 5, "at least 5 RFC-valid real reports were round-tripped (%d)", valid);
}

/* add_report: metadata taken once, failures without detail kept, whole
 * report validated before anything is added. */
static void test_add_report(void)
{
    trpt_failure fs[2];
    memset(fs, 0, sizeof fs);
    fs[0].result_type = S("validation-failure");
    fs[0].receiving_ip = S("192.0.2.7");
    fs[0].has = TRPT_HAS_RECEIVING_IP;
    fs[0].failed_session_count = 2;
    fs[1] = fs[0]; /* a duplicate row: merges */
    fs[1].failed_session_count = 3;
    const trpt_str ps[] = { S("version: STSv1"), S("mode: enforce"), S("mx: mx.example.com"), S("max_age: 86400") };
    const trpt_str mx[] = { S("mx.example.com") };
    trpt_policy_result pol = { 0 };
    pol.policy_type = S("sts");
    pol.policy_domain = S("example.com");
    pol.policy_string = ps;
    pol.npolicy_string = 4;
    pol.mx_host = mx;
    pol.nmx_host = 1;
    pol.total_successful_session_count = 10;
    pol.total_failure_session_count = 9; /* 5 detailed + 4 without detail */
    pol.failures = fs;
    pol.nfailures = 2;
    trpt_report r = org_report("rid-1", &pol, 1);
    trpt_error err;
    trpt_str out;
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_OK, "add_report");
    r.organization_name = S("Other");
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_OK, "add_report again (aggregating)");
    is_int(trpt_builder_json(b, &out, &err), TRPT_OK, "json");
    is_str(out.ptr, out.len,
           "{\"organization-name\":\"Org\",\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\","
           "\"end-datetime\":\"2016-04-01T23:59:59Z\"},\"contact-info\":\"c@example.com\",\"report-id\":\"rid-1\","
           "\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\","
           "\"mode: enforce\",\"mx: mx.example.com\",\"max_age: 86400\"],\"policy-domain\":\"example.com\","
           "\"mx-host\":[\"mx.example.com\"]},\"summary\":{\"total-successful-session-count\":20,"
           "\"total-failure-session-count\":18},\"failure-details\":[{\"result-type\":\"validation-failure\","
           "\"receiving-ip\":\"192.0.2.7\",\"failed-session-count\":10}]}]}",
           "metadata of the first report; counts summed; undetailed failures kept in the total");

    /* a bad second failure: nothing of the report is added */
    fs[1].result_type = S("Testing");
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_FIELD, "unknown result-type in a report");
    ok(strcmp(err.path, "policies[0].failure-details[1].result-type") == 0, "error path %s", err.path);
    trpt_str again;
    trpt_builder_json(b, &again, &err);
    ok(strstr(again.ptr, "\"total-successful-session-count\":20,") != NULL, "the failed report added nothing");
    fs[1] = fs[0];
    pol.policy_type = S("STS");
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_FIELD, "unknown policy-type in a report");
    ok(strcmp(err.path, "policies[0].policy.policy-type") == 0, "error path %s", err.path);
    pol.policy_type = S("sts");
    pol.policy_domain = (trpt_str){ NULL, 0 };
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_FIELD, "policy without policy-domain");
    pol.policy_domain = S("example.com");
    pol.total_failure_session_count = -1;
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_FIELD, "negative total-failure-session-count");
    pol.total_failure_session_count = 9;
    is_int(trpt_builder_add_report(b, NULL, &err), TRPT_E_ARG, "NULL report");
    trpt_builder_free(b);

    b = trpt_builder_new(NULL, NULL);
    r.end_epoch = START - 1;
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_FIELD, "report with end before start");
    r.end_epoch = END;
    r.organization_name = (trpt_str){ NULL, 0 };
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_FIELD, "report without organization-name");
    r.organization_name = S("Org");
    r.contact_info = (trpt_str){ NULL, 0 };
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_OK, "report without contact-info is added");
    is_int(trpt_builder_json(b, &out, &err), TRPT_E_FIELD, "but JSON needs contact-info");
    trpt_builder_free(b);
}

/* Security review: a long report-id and submitter must not produce a
 * Subject or Message-ID line past RFC 5322's 998 characters. */
static void test_review_long_message_id(void)
{
    char rid[901], sub[254], contact[260];
    memset(rid, 'r', 900);
    rid[900] = '\0';
    /* 253 bytes: three 63-byte labels and one of 61 */
    memset(sub, 'a', 253);
    sub[63] = sub[127] = sub[191] = '.';
    sub[253] = '\0';
    snprintf(contact, sizeof contact, "c@%s", sub);
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    size_t p;
    trpt_error err;
    trpt_str m;
    is_int(trpt_builder_set_meta(b, "O", contact, rid, 0, 0, &err), TRPT_OK, "900-byte report-id");
    trpt_builder_add_policy(b, "no-policy-found", "example.com", NULL, 0, NULL, 0, &p, NULL);
    trpt_email_opts o = { "a@b.example", "t@c.example", sub, NULL, "<x@y.example>", 0, NULL };
    int rc = trpt_builder_email(b, &o, &m, &err);
    int maxlen;
    ok(rc != TRPT_OK || lines_ok(m.ptr, m.len, &maxlen), "no line past 998 characters (rc %d)", rc);
    is_int(rc, TRPT_E_LIMIT, "a Subject Report-ID that cannot fit is a limit error");
    ok(rc == TRPT_OK || strcmp(err.path, "report-id") == 0, "error path report-id");
    rid[900 - 253] = '\0';
    is_int(trpt_builder_set_meta(b, "O", contact, rid, 0, 0, &err), TRPT_OK, "647-byte report-id");
    o.message_id = NULL;
    is_int(trpt_builder_email(b, &o, &m, &err), TRPT_OK, "fits with a 253-byte submitter");
    ok(lines_ok(m.ptr, m.len, &maxlen), "and every line fits (longest %d)", maxlen);
    trpt_builder_free(b);
}

/* Coverage review: more than 8 distinct policies make the policy hash
 * table grow (16 slots kept at most half full) and rehash what it held;
 * every policy must still be found, not added a second time. */
static void test_many_policies(void)
{
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    trpt_error err;
    size_t idx[40], again;
    char dom[32];
    int rcs = 0, same = 0;
    trpt_builder_set_meta(b, "O", "c@example.com", "r", START, END, NULL);
    for (int i = 0; i < 40; i++) {
        snprintf(dom, sizeof dom, "d%d.example", i);
        rcs |= trpt_builder_add_policy(b, "no-policy-found", dom, NULL, 0, NULL, 0, &idx[i], &err);
    }
    is_int(rcs, TRPT_OK, "40 distinct policies");
    ok(idx[0] == 0 && idx[39] == 39, "indexes in order of addition (%zu, %zu)", idx[0], idx[39]);
    for (int i = 0; i < 40; i++) {
        snprintf(dom, sizeof dom, "d%d.example", i);
        rcs |= trpt_builder_add_policy(b, "no-policy-found", dom, NULL, 0, NULL, 0, &again, &err);
        same += again == idx[i];
        rcs |= trpt_builder_add_success(b, again, 1, &err);
    }
    is_int(same, 40, "after the table grew, each policy is found at its index");
    trpt_str out;
    is_int(trpt_builder_json(b, &out, &err), TRPT_OK, "json of 40 policies");
    size_t n = 0;
    for (const char *q = out.ptr; (q = strstr(q, "\"policy-type\"")); q++) n++;
    is_int(n, 40, "40 policies in the JSON, none duplicated");
    n = 0;
    for (const char *q = out.ptr; (q = strstr(q, "\"total-successful-session-count\":1,")); q++) n++;
    is_int(n, 40, "each holds the success count added through the found index");
    trpt_builder_free(b);
}

/* Coverage review: add_report's own caps and NULL-array checks (the
 * add_policy / add_failure ones are tested above); a refused report
 * leaves the builder as it was. */
static void test_add_report_caps(void)
{
    trpt_limits lim;
    trpt_limits_default(&lim);
    lim.max_elements = 2;
    trpt_failure fs[3];
    memset(fs, 0, sizeof fs);
    for (int i = 0; i < 3; i++) { /* equal rows: they would merge into one */
        fs[i].result_type = S("validation-failure");
        fs[i].failed_session_count = 1;
    }
    const trpt_str ps[] = { S("version: STSv1"), S("mode: testing"), S("max_age: 86400") };
    const trpt_str mx[] = { S("a.example"), S("b.example"), S("c.example") };
    trpt_policy_result pol[3];
    memset(pol, 0, sizeof pol);
    for (int i = 0; i < 3; i++) { /* equal policies: they would merge into one */
        pol[i].policy_type = S("no-policy-found");
        pol[i].policy_domain = S("example.com");
        pol[i].total_failure_session_count = 1;
    }
    trpt_report r = org_report("rid", pol, 0);
    trpt_error err;
    trpt_str out;
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    trpt_builder_set_limits(b, &lim);

    r.npolicies = 3;
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_LIMIT, "3 policies with max_elements 2");
    ok(strcmp(err.path, "policies") == 0 && strstr(err.message, "max_elements"),
       "error path policies, message names max_elements (%s: %s)", err.path, err.message);
    r.npolicies = 1;
    pol[0].failures = fs;
    pol[0].nfailures = 3;
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_LIMIT, "3 failure-details with max_elements 2");
    ok(strstr(err.message, "failure-details") && strstr(err.message, "max_elements"),
       "message names failure-details and max_elements: %s", err.message);
    ok(strcmp(err.path, "policies[0].failure-details") == 0, "error path %s", err.path);
    pol[0].nfailures = 0;
    pol[0].policy_string = ps;
    pol[0].npolicy_string = 3;
    pol[0].policy_type = S("sts");
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_LIMIT, "3 policy-string entries with max_elements 2");
    ok(strcmp(err.path, "policies[0].policy.policy-string") == 0, "error path %s", err.path);
    pol[0].npolicy_string = 2;
    pol[0].mx_host = mx;
    pol[0].nmx_host = 3;
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_LIMIT, "3 mx-host entries with max_elements 2");
    ok(strcmp(err.path, "policies[0].policy.mx-host") == 0, "error path %s", err.path);
    pol[0].nmx_host = 1;
    pol[0].failures = NULL;
    pol[0].nfailures = 1;
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_ARG, "NULL failures array with a count");
    ok(strstr(err.message, "NULL failures") != NULL, "says so: %s", err.message);
    ok(strcmp(err.path, "policies[0].failure-details") == 0, "error path %s", err.path);
    pol[0].nfailures = 0;
    r.policies = NULL;
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_E_ARG, "NULL policies array with a count");
    ok(strcmp(err.path, "policies") == 0 && strstr(err.message, "NULL policies"), "says so (%s: %s)",
       err.path, err.message);
    r.policies = pol;
    is_int(trpt_builder_json(b, &out, &err), TRPT_E_FIELD, "the refused reports set no metadata");
    ok(strstr(err.message, "metadata") != NULL, "json says metadata is missing: %s", err.message);
    pol[0].failures = fs;
    pol[0].nfailures = 2;
    is_int(trpt_builder_add_report(b, &r, &err), TRPT_OK, "the report within the caps");
    is_int(trpt_builder_json(b, &out, &err), TRPT_OK, "json");
    ok(strstr(out.ptr, "\"policy-string\":[\"version: STSv1\",\"mode: testing\"],\"policy-domain\":"
                       "\"example.com\",\"mx-host\":[\"a.example\"]},\"summary\":{\"total-successful-"
                       "session-count\":0,\"total-failure-session-count\":2},\"failure-details\":"
                       "[{\"result-type\":\"validation-failure\",\"failed-session-count\":2}]}]}") != NULL,
       "holds only that report: %s", out.ptr);
    trpt_builder_free(b);
}

/* Coverage review: a policy-string entry that is an encoded empty JSON array
 * ("[]", "[ ]") reads back as no entries (the Microsoft quirk): refused. */
static void test_policy_string_empty_array(void)
{
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    trpt_error err;
    size_t p;
    const char *e1[] = { "version: STSv1", "[]" };
    is_int(trpt_builder_add_policy(b, "sts", "example.com", e1, 2, NULL, 0, &p, &err), TRPT_E_FIELD,
           "policy-string entry \"[]\"");
    ok(strcmp(err.path, "policy.policy-string[1]") == 0 && strstr(err.message, "JSON-encoded array"),
       "error at the entry, says why (%s: %s)", err.path, err.message);
    const char *e2[] = { "[ \t]" };
    is_int(trpt_builder_add_policy(b, "sts", "example.com", e2, 1, NULL, 0, &p, &err), TRPT_E_FIELD,
           "policy-string entry \"[ \\t]\"");
    const char *e3[] = { "[x]", "[", "[1]" };
    is_int(trpt_builder_add_policy(b, "sts", "example.com", e3, 3, NULL, 0, &p, &err), TRPT_OK,
           "entries in brackets that are no array of strings are kept");
    trpt_builder_free(b);
}

/* Coverage review: RFC 8460 §5.3 — with no submitter given it comes from
 * contact-info, which then must be an address. */
static void test_submitter_required(void)
{
    trpt_builder *b = trpt_builder_new(NULL, NULL);
    trpt_error err;
    trpt_str m;
    size_t p;
    trpt_builder_set_meta(b, "O", "https://reports.example/tlsrpt", "r", START, END, NULL);
    trpt_builder_add_policy(b, "no-policy-found", "example.com", NULL, 0, NULL, 0, &p, NULL);
    trpt_email_opts o = { "a@sender.example", "t@example.com", NULL, NULL, NULL, 0, NULL };
    is_int(trpt_builder_email(b, &o, &m, &err), TRPT_E_ARG, "email: contact-info a URI, no submitter");
    ok(strcmp(err.path, "submitter") == 0 && strstr(err.message, "submitter is required"),
       "says the submitter is required (%s: %s)", err.path, err.message);
    is_int(trpt_builder_filename(b, NULL, NULL, NULL, 1, &m, &err), TRPT_E_ARG,
           "filename: contact-info a URI, no submitter");
    ok(strcmp(err.path, "submitter") == 0, "error path submitter (%s)", err.path);
    trpt_builder_set_meta(b, "O", "@example.com", "r", START, END, NULL);
    is_int(trpt_builder_filename(b, NULL, NULL, NULL, 1, &m, &err), TRPT_E_ARG,
           "contact-info with an empty local part gives no submitter");
    trpt_builder_set_meta(b, "O", "c@sender.example.", "r", START, END, NULL);
    is_int(trpt_builder_filename(b, NULL, NULL, NULL, 1, &m, &err), TRPT_OK,
           "contact-info an address: submitter taken from it");
    ok(m.len > 16 && memcmp(m.ptr, "sender.example!example.com!", 27) == 0,
       "its domain, trailing dot dropped: %.*s", (int)m.len, m.ptr);
    o.submitter = "sender.example";
    trpt_builder_set_meta(b, "O", "https://reports.example/tlsrpt", "r", START, END, NULL);
    is_int(trpt_builder_email(b, &o, &m, &err), TRPT_OK, "a given submitter needs no address");
    trpt_builder_free(b);
}

int main(void)
{
    test_rfc_example();
    test_policy_vectors();
    test_failure_vectors();
    test_merging();
    test_meta_errors();
    test_limits();
    test_add_report();
    test_alloc_failures();
    test_json_fail_once();
    test_email();
    test_round_trip();
    test_review_long_message_id();
    test_many_policies();
    test_add_report_caps();
    test_policy_string_empty_array();
    test_submitter_required();
    return done_testing();
}
