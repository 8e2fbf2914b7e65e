/* Report parser: shared vectors (spec/vectors/report.txt), the real corpus
 * (../shared/corpus/real/reports), and every limit and error path. */
#include "tap.h"
#include "vectors.h"
#include "testutil.h"
#include "report_eq.h"
#include "report_internal.h"

#include <inttypes.h>
#include <zlib.h>

/* ------------------------------------------------ field access by path */

static void put_str(char *out, size_t cap, trpt_str s, int present)
{
    if (!present) snprintf(out, cap, "nil");
    else snprintf(out, cap, "%.*s", (int)s.len, s.ptr ? s.ptr : "");
}

static void put_int(char *out, size_t cap, int64_t v) { snprintf(out, cap, "%" PRId64, v); }

/* An extra member's value as the Lua side shows it: plain strings
 * unquoted, anything else as its JSON text. */
static int put_extra(char *out, size_t cap, const trpt_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(key) != kv[i].key.len || memcmp(key, kv[i].key.ptr, kv[i].key.len)) continue;
        trpt_str v = kv[i].value;
        if (v.len >= 2 && v.ptr[0] == '"' && !memchr(v.ptr, '\\', v.len)) {
            v.ptr++;
            v.len -= 2;
        }
        put_str(out, cap, v, 1);
        return 0;
    }
    snprintf(out, cap, "nil");
    return 0;
}

/* Evaluates an assertion key ("policies.1.policy.mx_host.2", "#policies")
 * against r, writing the value as text. Returns -1 for an unknown key. */
static int get_field(const trpt_report *r, const char *key, char *out, size_t cap)
{
    int len = key[0] == '#';
    char buf[256];
    snprintf(buf, sizeof buf, "%s", key + len);
    char *seg[12];
    int n = 0;
    for (char *s = strtok(buf, "."); s && n < 12; s = strtok(NULL, ".")) seg[n++] = s;
    if (n == 0) return -1;
#define IS(i, lit) (n > (i) && strcmp(seg[i], lit) == 0)
#define IDX(i) (n > (i) ? (size_t)atol(seg[i]) : 0)
    if (n == 1 && !len) {
        if (IS(0, "organization_name"))
            return put_str(out, cap, r->organization_name, r->has & TRPT_HAS_ORGANIZATION_NAME), 0;
        if (IS(0, "contact_info"))
            return put_str(out, cap, r->contact_info, r->has & TRPT_HAS_CONTACT_INFO), 0;
        if (IS(0, "report_id")) return put_str(out, cap, r->report_id, r->has & TRPT_HAS_REPORT_ID), 0;
        if (IS(0, "warnings_dropped")) return put_int(out, cap, (int64_t)r->nwarnings_dropped), 0;
        return -1;
    }
    if (IS(0, "policies") && len && n == 1) return put_int(out, cap, (int64_t)r->npolicies), 0;
    if (IS(0, "extra") && n == 2) return put_extra(out, cap, r->extra, r->nextra, seg[1]);
    if (IS(0, "date_range") && n == 2) {
        if (IS(1, "start_epoch")) return put_int(out, cap, r->start_epoch), 0;
        if (IS(1, "end_epoch")) return put_int(out, cap, r->end_epoch), 0;
        if (IS(1, "start_datetime")) return put_str(out, cap, r->start_datetime, 1), 0;
        if (IS(1, "end_datetime")) return put_str(out, cap, r->end_datetime, 1), 0;
        return -1;
    }
    if (!IS(0, "policies") || n < 3) return -1;
    size_t pi = IDX(1);
    if (pi < 1 || pi > r->npolicies) return snprintf(out, cap, "nil"), 0;
    const trpt_policy_result *p = &r->policies[pi - 1];
    if (IS(2, "policy") && n >= 4) {
        const trpt_str *list = NULL;
        size_t cnt = 0;
        int has = 0;
        if (IS(3, "policy_type") && n == 4) return put_str(out, cap, p->policy_type, 1), 0;
        if (IS(3, "policy_domain") && n == 4)
            return put_str(out, cap, p->policy_domain, p->has & TRPT_HAS_POLICY_DOMAIN), 0;
        if (IS(3, "policy_string")) {
            list = p->policy_string, cnt = p->npolicy_string;
            has = p->has & TRPT_HAS_POLICY_STRING;
        } else if (IS(3, "mx_host")) {
            list = p->mx_host, cnt = p->nmx_host;
            has = p->has & TRPT_HAS_MX_HOST;
        } else {
            return -1;
        }
        if (n == 4) {
            if (!has) return snprintf(out, cap, "nil"), 0;
            if (len) return put_int(out, cap, (int64_t)cnt), 0;
            return snprintf(out, cap, "table"), 0;
        }
        size_t i = IDX(4);
        return put_str(out, cap, i >= 1 && i <= cnt ? list[i - 1] : (trpt_str){ 0 },
                       i >= 1 && i <= cnt), 0;
    }
    if (IS(2, "summary") && n == 4) {
        if (IS(3, "total_successful_session_count"))
            return put_int(out, cap, p->total_successful_session_count), 0;
        if (IS(3, "total_failure_session_count"))
            return put_int(out, cap, p->total_failure_session_count), 0;
        return -1;
    }
    if (IS(2, "extra") && n == 4) return put_extra(out, cap, p->extra, p->nextra, seg[3]);
    if (!IS(2, "failure_details")) return -1;
    if (n == 3 && len) return put_int(out, cap, (int64_t)p->nfailures), 0;
    size_t fi = IDX(3);
    if (n < 5 || fi < 1 || fi > p->nfailures) return snprintf(out, cap, "nil"), 0;
    const trpt_failure *f = &p->failures[fi - 1];
    if (IS(4, "extra") && n == 6) return put_extra(out, cap, f->extra, f->nextra, seg[5]);
    if (n != 5) return -1;
    static const struct { const char *name; size_t off; unsigned bit; } fs[] = {
        { "result_type", offsetof(trpt_failure, result_type), 0 },
        { "sending_mta_ip", offsetof(trpt_failure, sending_mta_ip), TRPT_HAS_SENDING_MTA_IP },
        { "receiving_mx_hostname", offsetof(trpt_failure, receiving_mx_hostname),
          TRPT_HAS_RECEIVING_MX_HOSTNAME },
        { "receiving_mx_helo", offsetof(trpt_failure, receiving_mx_helo), TRPT_HAS_RECEIVING_MX_HELO },
        { "receiving_ip", offsetof(trpt_failure, receiving_ip), TRPT_HAS_RECEIVING_IP },
        { "additional_information", offsetof(trpt_failure, additional_information),
          TRPT_HAS_ADDITIONAL_INFORMATION },
        { "failure_reason_code", offsetof(trpt_failure, failure_reason_code),
          TRPT_HAS_FAILURE_REASON_CODE },
    };
    if (IS(4, "failed_session_count")) return put_int(out, cap, f->failed_session_count), 0;
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        if (IS(4, fs[i].name)) {
            const trpt_str *s = (const trpt_str *)(const void *)((const char *)f + fs[i].off);
            return put_str(out, cap, *s, fs[i].bit == 0 || (f->has & fs[i].bit)), 0;
        }
    return -1;
#undef IS
#undef IDX
}

/* Joins the warning codes (or paths) with commas. */
static void join_warnings(const trpt_report *r, int paths, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->nwarnings && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "",
                              paths ? r->warnings[i].path : r->warnings[i].code);
}

static int is_limit_key(const char *k) { return strncmp(k, "max_", 4) == 0; }

static void apply_limits(const vec *v, trpt_limits *lim)
{
    trpt_limits_default(lim);
    for (size_t i = 0; i < v->nassert; i++) {
        if (!is_limit_key(v->key[i])) continue;
        size_t n = (size_t)strtoull(v->val[i].ptr, NULL, 10);
        if (!strcmp(v->key[i], "max_input")) lim->max_input = n;
        else if (!strcmp(v->key[i], "max_depth")) lim->max_depth = (unsigned)n;
        else if (!strcmp(v->key[i], "max_string")) lim->max_string = n;
        else if (!strcmp(v->key[i], "max_elements")) lim->max_elements = n;
        else if (!strcmp(v->key[i], "max_warnings")) lim->max_warnings = n;
    }
}

static void test_vectors(void)
{
    vec_file vf;
    char msg[512];
    long nv = vec_load(&vf, "report.txt", msg, sizeof msg);
    if (!ok(nv > 0, "report.txt loads (%s)", nv < 0 ? msg : "ok")) return;
    for (size_t i = 0; i < vf.n; i++) {
        const vec *v = &vf.v[i];
        trpt_limits lim;
        apply_limits(v, &lim);
        trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
        const vec_bytes *st = vec_get(v, "strict");
        trpt_parse_opts opts = { st && st->ptr[0] == '1' };
        trpt_report r;
        trpt_error e;
        memset(&e, 0, sizeof e);
        int rc = trpt_parse_report(ctx, v->input[0].ptr, v->input[0].len, &opts, &r, &e);
        if (v->ok) {
            if (!ok(rc == TRPT_OK, "line %d parses (%s: %s)", v->line, e.path, e.message)) {
                trpt_ctx_free(ctx);
                continue;
            }
        } else {
            int same = strcmp(trpt_code_name(rc), v->code) == 0;
            if (!ok(same, "line %d fails with %s", v->line, v->code))
                printf("#   got %s: %s: %s\n", trpt_code_name(rc), e.path, e.message);
        }
        for (size_t k = 0; k < v->nassert; k++) {
            const char *key = v->key[k];
            const char *want = v->val[k].ptr;
            char got[1024];
            if (!strcmp(key, "strict") || is_limit_key(key)) continue;
            if (!v->ok) {
                if (!strcmp(key, "path")) { const char *ep = e.path; is_str(ep, strlen(ep), want, "line %d error path", v->line); }
                else if (!strcmp(key, "rfc"))
                    is_str(e.rfc, e.rfc ? strlen(e.rfc) : 0, want, "line %d error rfc", v->line);
                else if (!strcmp(key, "msgpart")) {
                    if (!ok(strstr(e.message, want) != NULL, "line %d error message has '%s'", v->line, want))
                        printf("#   got: %s\n", e.message);
                }
                else ok(0, "line %d: assertion %s on an error vector", v->line, key);
                continue;
            }
            if (!strcmp(key, "warnings") || !strcmp(key, "wpaths")) {
                join_warnings(&r, key[0] == 'w' && key[1] == 'p', got, sizeof got);
            } else if (get_field(&r, key, got, sizeof got) < 0) {
                ok(0, "line %d: unknown assertion key %s", v->line, key);
                continue;
            }
            { const char *gp = got; is_str(gp, strlen(gp), want, "line %d %s", v->line, key); }
        }
        trpt_ctx_free(ctx);
    }
    vec_free(&vf);
}

/* ------------------------------------------------------- real corpus */

typedef struct corpus_case {
    const char *file;
    const char *warnings;   /* "code@path,..." in order; NULL: must fail */
    const char *checks;     /* "key=value|key=value" verified by reading the file */
} corpus_case;

static const corpus_case corpus[] = {
    { "google-anon-validation-failure.json", "",
      "organization_name=Example Inc.|date_range.start_epoch=1704758400|"
      "date_range.end_epoch=1704844799|#policies.1.failure_details=2|"
      "policies.1.failure_details.1.receiving_ip=173.212.201.41|"
      "policies.1.failure_details.2.failed_session_count=1|"
      "policies.1.summary.total_failure_session_count=3" },
    { "google-canhas-sts-testing-4mx-pretty.json", "",
      "#policies.1.policy.policy_string=7|policies.1.policy.policy_string.6=mx: mx4.smtp.goog|"
      "policies.1.policy.mx_host=nil|policies.1.summary.total_successful_session_count=7" },
    { "google-cryinc-no-policy-found-pretty.json", "",
      "policies.1.policy.policy_type=no-policy-found|policies.1.policy.policy_string=nil|"
      "policies.1.policy.policy_domain=foo-bar.io" },
    { "google-cryinc-sts-enforce-pretty.json", "",
      "policies.1.policy.mx_host.1=*.foo-bar.io|#policies.1.policy.mx_host=1" },
    { "google-mailauth-weekly-cert-host-mismatch.json", "",
      "report_id=2020-01-01T00:00:00Z_example.com|date_range.end_datetime=2020-01-07T23:59:59Z|"
      "date_range.end_epoch=1578441599|"
      "policies.1.failure_details.1.result_type=certificate-host-mismatch|"
      "policies.1.summary.total_successful_session_count=23" },
    { "google-mailweave-sts-testing.json", "",
      "#policies.1.policy.mx_host=3|policies.1.policy.mx_host.3=incoming-smtp-3.example.com|"
      "policies.1.summary.total_successful_session_count=48" },
    { "google-mailweave-sts-testing.json.gz", "",
      "#policies.1.policy.mx_host=3|policies.1.summary.total_successful_session_count=48|"
      "organization_name=Google Inc." },
    { "google-mydomain-issue43-sts-pretty.json", "",
      "policies.1.policy.policy_string.3=max_age: 259200|policies.1.policy.mx_host.2=*.mydomain.com" },
    { "google-phiag-sts-enforce-pretty.json", "", "policies.1.summary.total_successful_session_count=53" },
    { "mailru-krvtz-sts-fetch-timeout-pretty.json", "",
      "date_range.end_epoch=1674691200|policies.1.policy.policy_string=nil|"
      "policies.1.failure_details.1.sending_mta_ip=nil|"
      "policies.1.failure_details.1.result_type=sts-policy-fetch-error|"
      "policies.1.failure_details.1.failure_reason_code=unable to do http request: Get "
      "\"https://mta-sts.krvtz.net/.well-known/mta-sts.txt\": context deadline exceeded "
      "(Client.Timeout exceeded while awaiting headers)" },
    { "microsoft-cryinc-sts-and-tlsa-pretty.json",
      "policy-string-json-array@policies[1].policy.policy-string[0]",
      "#policies=2|policies.2.policy.policy_type=tlsa|#policies.2.policy.policy_string=2|"
      "policies.2.policy.policy_string.2=3 1 1 "
      "837C773D54C2E2BD71871A3FC352BE8214D5646CBAE5E3091401A7274717998B" },
    { "microsoft-josh-scot-hand-edited-failures.json",
      "unknown-key@policies[0].failure-details[0].additional-info-uri,"
      "result-type-unknown@policies[0].failure-details[0].result-type,"
      "ip-invalid@policies[0].failure-details[0].sending-mta-ip,"
      "count-mismatch@policies[0].summary.total-failure-session-count",
      "policies.1.failure_details.1.result_type=Testing|"
      "policies.1.failure_details.1.extra.additional-info-uri=testing.josh.scot|"
      "policies.1.failure_details.1.failure_reason_code=123|"
      "policies.1.failure_details.1.failed_session_count=3" },
    { "microsoft-josh-scot-sts-multi-mx.json.gz", "",
      "report_id=133988091029006454+josh.scot|#policies.1.policy.policy_string=5|"
      "#policies.1.failure_details=0|policies.1.summary.total_successful_session_count=2" },
    { "microsoft-mailweave-cert-host-mismatch-no-sending-ip.json", "",
      "policies.1.failure_details.1.sending_mta_ip=nil|"
      "policies.1.failure_details.1.receiving_ip=192.0.2.4|"
      "policies.1.failure_details.1.failed_session_count=21" },
    { "microsoft-phiag-dates-without-tz-pretty.json",
      "datetime-no-timezone@date-range.start-datetime,datetime-no-timezone@date-range.end-datetime",
      "date_range.start_epoch=1711411200|date_range.end_epoch=1711497599|"
      "date_range.start_datetime=2024-03-26T00:00:00" },
    { "microsoft-phiag-sts-enforce-pretty.json", "", "policies.1.summary.total_successful_session_count=18" },
    { "mimecast-mailweave-sts-testing.json", "",
      "contact_info=noreply@mimecast.org|#policies.1.failure_details=0" },
    { "postfix-tlsrpt-sonne-no-policy-domain-pretty.json",
      "field-missing@policies[0].policy.policy-domain",
      "policies.1.policy.policy_domain=nil|report_id=2025-09-20T00:00:00Z_idx1_mpi-klsb.mpg.de" },
    { "stalwart-cryinc-null-contact-anon-pretty.json",
      "field-null@contact-info,mx-host-prefix@policies[0].policy.mx-host[0]",
      "contact_info=nil|policies.1.policy.mx_host.1=mx.server.com|date_range.end_epoch=1768176000" },
    { "stalwart-egressif-no-policy-null-contact.json", "field-null@contact-info",
      "contact_info=nil|#policies.1.policy.policy_string=0|#policies.1.policy.mx_host=0" },
    { "unknown-anon-empty-string-fields.json",
      "empty-value@policies[0].failure-details[0].sending-mta-ip,"
      "empty-value@policies[0].failure-details[0].receiving-ip,"
      "empty-value@policies[0].failure-details[0].receiving-mx-hostname,"
      "empty-value@policies[0].failure-details[0].additional-information",
      "policies.1.failure_details.1.failure_reason_code=no-policy-served|"
      "policies.1.failure_details.1.receiving_ip=nil" },
    { "microsoft-reddit-mx-hosts-mismatch-truncated.txt", NULL, NULL },
};

static void test_corpus(void)
{
    const char *dir = tap_real_corpus();
    if (!dir) {
        printf("ok %d # skip real corpus not found (TLSRPT_SHARED)\n", ++tap_n);
        return;
    }
    for (size_t c = 0; c < sizeof corpus / sizeof corpus[0]; c++) {
        const corpus_case *cc = &corpus[c];
        char path[4200];
        snprintf(path, sizeof path, "%s/reports/%s", dir, cc->file);
        size_t len;
        char *data = tap_slurp(path, &len);
        if (!data) {
            printf("ok %d # skip %s not in this corpus\n", ++tap_n, cc->file);
            continue;
        }
        trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
        trpt_report r;
        trpt_error e;
        int rc = trpt_parse_report(ctx, data, len, NULL, &r, &e);
        if (!cc->warnings) {
            ok(rc == TRPT_E_SYNTAX, "%s is rejected (%s)", cc->file, trpt_code_name(rc));
            trpt_ctx_free(ctx);
            free(data);
            continue;
        }
        if (!ok(rc == TRPT_OK, "%s parses leniently", cc->file)) {
            printf("#   %s: %s\n", e.path, e.message);
            trpt_ctx_free(ctx);
            free(data);
            continue;
        }
        char got[2048];
        size_t o = 0;
        got[0] = '\0';
        for (size_t i = 0; i < r.nwarnings; i++)
            o += (size_t)snprintf(got + o, sizeof got - o, "%s%s@%s", i ? "," : "",
                                  r.warnings[i].code, r.warnings[i].path);
        { const char *gp = got; is_str(gp, strlen(gp), cc->warnings, "%s: warnings", cc->file); }
        char checks[2048];
        snprintf(checks, sizeof checks, "%s", cc->checks);
        char *save = NULL;
        for (char *kv = strtok_r(checks, "|", &save); kv; kv = strtok_r(NULL, "|", &save)) {
            char *eq = strchr(kv, '=');
            *eq = '\0';
            char val[1024];
            if (get_field(&r, kv, val, sizeof val) < 0) {
                ok(0, "%s: unknown key %s", cc->file, kv);
                continue;
            }
            { const char *vp = val; is_str(vp, strlen(vp), eq + 1, "%s: %s", cc->file, kv); }
        }
        /* Strict mode rejects exactly the deviating files, at the first deviation. */
        trpt_parse_opts strict = { 1 };
        trpt_report r2;
        trpt_error e2;
        memset(&e2, 0, sizeof e2);
        int rc2 = trpt_parse_report(ctx, data, len, &strict, &r2, &e2);
        if (r.nwarnings == 0) {
            ok(rc2 == TRPT_OK, "%s: strict accepts it", cc->file);
        } else {
            ok(rc2 == TRPT_E_STRICT, "%s: strict rejects it", cc->file);
            { const char *ep = e2.path; is_str(ep, strlen(ep), r.warnings[0].path, "%s: strict path", cc->file); }
            ok(e2.rfc && r.warnings[0].rfc && !strcmp(e2.rfc, r.warnings[0].rfc),
               "%s: strict names %s", cc->file, r.warnings[0].rfc);
        }
        trpt_ctx_free(ctx);
        free(data);
    }
}

/* ------------------------------------------------------ other paths */

#define MINI                                                                                \
    "{\"organization-name\":\"O\",\"date-range\":{\"start-datetime\":\"2024-01-01T00:00:00Z\"," \
    "\"end-datetime\":\"2024-01-01T23:59:59Z\"},\"contact-info\":\"c\",\"report-id\":\"r\","     \
    "\"policies\":["
/* The smallest report without warnings: one policy result. */
#define ONE_POLICY                                                                  \
    MINI "{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"example.com\"}," \
         "\"summary\":{\"total-successful-session-count\":1,"                          \
         "\"total-failure-session-count\":0}}]}"

/* A report with npol policies of nfd failure details each (malloc'd). */
static char *make_report(size_t npol, size_t nfd, size_t *len)
{
    size_t cap = strlen(MINI) + npol * (300 + nfd * 80) + 16, o = 0;
    char *b = malloc(cap);
    o += (size_t)snprintf(b + o, cap - o, "%s", MINI);
    for (size_t p = 0; p < npol; p++) {
        o += (size_t)snprintf(b + o, cap - o,
                              "%s{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"d%zu\"},"
                              "\"summary\":{\"total-successful-session-count\":1,"
                              "\"total-failure-session-count\":%zu},\"failure-details\":[",
                              p ? "," : "", p, nfd);
        for (size_t f = 0; f < nfd; f++)
            o += (size_t)snprintf(b + o, cap - o,
                                  "%s{\"result-type\":\"dane-required\",\"failed-session-count\":1}",
                                  f ? "," : "");
        o += (size_t)snprintf(b + o, cap - o, "]}");
    }
    o += (size_t)snprintf(b + o, cap - o, "]}");
    *len = o;
    return b;
}

static void test_paths(void)
{
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_report r;
    trpt_error e;
    is_int(trpt_parse_report(NULL, "{}", 2, NULL, &r, &e), TRPT_E_ARG, "NULL ctx");
    is_int(trpt_parse_report(ctx, NULL, 2, NULL, &r, &e), TRPT_E_ARG, "NULL data with a length");
    is_int(trpt_parse_report(ctx, "{}", 2, NULL, NULL, &e), TRPT_E_ARG, "NULL out");
    is_int(trpt_parse_report(ctx, NULL, 0, NULL, &r, NULL), TRPT_E_SYNTAX, "empty input, no err struct");

    /* Large and deep-ish: 3 policies x 2000 details, counts add up. */
    size_t len;
    char *big = make_report(3, 2000, &len);
    int rc = trpt_parse_report(ctx, big, len, NULL, &r, &e);
    ok(rc == TRPT_OK && r.npolicies == 3 && r.policies[2].nfailures == 2000 && r.nwarnings == 0,
       "3 x 2000 failure details parse without warnings");
    ok(rc == TRPT_OK && r.policies[1].failures[1999].result == TRPT_RESULT_DANE_REQUIRED,
       "result enum is set");
    /* The same report gzipped goes through trpt_gunzip. */
    unsigned char *z = malloc(len + 1024);
    size_t zl = tu_gzip(big, len, z, len + 1024);
    trpt_ctx_reset(ctx);
    rc = trpt_parse_report(ctx, z, zl, NULL, &r, &e);
    ok(rc == TRPT_OK && r.npolicies == 3 && r.policies[0].nfailures == 2000, "gzip input parses");
    z[zl / 2] ^= 0x55;
    trpt_ctx_reset(ctx);
    rc = trpt_parse_report(ctx, z, zl, NULL, &r, &e);
    ok(rc == TRPT_E_GZIP || rc == TRPT_E_SYNTAX || rc == TRPT_E_UTF8,
       "corrupt gzip input fails cleanly (%s)", trpt_code_name(rc));
    rc = trpt_parse_report(ctx, z, 10, NULL, &r, &e);
    is_int(rc, TRPT_E_GZIP, "10 bytes of gzip are truncated");

    /* max_elements caps failure details across the whole report. */
    trpt_limits lim;
    trpt_limits_default(&lim);
    lim.max_elements = 5000;
    trpt_ctx_set_limits(ctx, &lim);
    rc = trpt_parse_report(ctx, big, len, NULL, &r, &e);
    is_int(rc, TRPT_E_LIMIT, "6000 failure details > max_elements 5000");
    ok(strstr(e.message, "failure details") != NULL, "names failure details: %s", e.message);
    lim.max_elements = 6000;
    trpt_ctx_set_limits(ctx, &lim);
    is_int(trpt_parse_report(ctx, big, len, NULL, &r, &e), TRPT_OK, "6000 = max_elements");
    trpt_limits_default(&lim);
    lim.max_decompressed = len - 1;
    trpt_ctx_set_limits(ctx, &lim);
    z[zl / 2] ^= 0x55;
    is_int(trpt_parse_report(ctx, z, zl, NULL, &r, &e), TRPT_E_LIMIT, "gzip over max_decompressed (%s)", e.message);
    trpt_ctx_set_limits(ctx, NULL);
    free(z);
    free(big);

    /* max_depth is capped at TRPT_JSON_DEPTH_HARD whatever is configured. */
    trpt_limits_default(&lim);
    lim.max_depth = 100000;
    trpt_ctx_set_limits(ctx, &lim);
    size_t dl = 2 * 5000 + 200;
    char *deep = malloc(dl);
    size_t o = (size_t)snprintf(deep, dl, "{\"x\":");
    for (int i = 0; i < 5000; i++) deep[o++] = '[';
    for (int i = 0; i < 5000; i++) deep[o++] = ']';
    deep[o++] = '}';
    rc = trpt_parse_report(ctx, deep, o, NULL, &r, &e);
    is_int(rc, TRPT_E_LIMIT, "5000 nested arrays hit the hard depth cap");
    free(deep);
    trpt_ctx_set_limits(ctx, NULL);

    /* trpt__report_warn: the e-mail parser's hook. */
    trpt_ctx_reset(ctx);
    rc = trpt_parse_report(ctx, ONE_POLICY, strlen(ONE_POLICY), NULL, &r, &e);
    ok(rc == TRPT_OK && r.nwarnings == 0, "minimal report parses");
    trpt_parse_opts lenient = { 0 }, strict = { 1 };
    rc = trpt__report_warn(ctx, &r, &lenient, "header-mismatch", "TLS-Report-Domain",
                           TRPT_RFC_DELIVERY, &e, "domain %s differs", "a.example");
    ok(rc == TRPT_OK && r.nwarnings == 1 && !strcmp(r.warnings[0].code, "header-mismatch") &&
           !strcmp(r.warnings[0].message, "domain a.example differs") &&
           !strcmp(r.warnings[0].path, "TLS-Report-Domain"),
       "report_warn appends a warning");
    rc = trpt__report_warn(ctx, &r, NULL, "second", NULL, NULL, &e, "x");
    ok(rc == TRPT_OK && r.nwarnings == 2 && !strcmp(r.warnings[0].code, "header-mismatch") &&
           !strcmp(r.warnings[1].path, ""),
       "a second one keeps the first");
    rc = trpt__report_warn(ctx, &r, &strict, "header-mismatch", "Subject", TRPT_RFC_DELIVERY, &e,
                           "bad");
    ok(rc == TRPT_E_STRICT && !strcmp(e.path, "Subject") && e.rfc &&
           !strcmp(e.rfc, TRPT_RFC_DELIVERY) &&
           r.nwarnings == 2,
       "strict: TRPT_E_STRICT with path and section, nothing appended");
    trpt_limits_default(&lim);
    lim.max_warnings = 2;
    trpt_ctx_set_limits(ctx, &lim);
    rc = trpt__report_warn(ctx, &r, NULL, "third", "", NULL, &e, "x");
    ok(rc == TRPT_OK && r.nwarnings == 2 && r.nwarnings_dropped == 1, "past max_warnings: counted");
    trpt_ctx_free(ctx);

    /* Every RFC 8460 §4.3 result type maps to the enum types.c names. */
    ctx = trpt_ctx_new(NULL, NULL, NULL);
    int mapped = 0;
    for (int t = 1; trpt_result_type_name(t); t++) {
        char doc[600];
        int n = snprintf(doc, sizeof doc,
                          MINI "{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"d\"},"
                          "\"summary\":{\"total-successful-session-count\":0,"
                          "\"total-failure-session-count\":1},\"failure-details\":[{"
                          "\"result-type\":\"%s\",\"failed-session-count\":1}]}]}",
                          trpt_result_type_name(t));
        trpt_ctx_reset(ctx);
        if (trpt_parse_report(ctx, doc, (size_t)n, NULL, &r, &e) == TRPT_OK && r.nwarnings == 0 &&
            r.policies[0].failures[0].result == t)
            mapped++;
    }
    is_int(mapped, 11, "all 11 result types map to their enum without warnings");
    trpt_ctx_free(ctx);

    /* Datetime edge cases the vectors do not cover. */
    int64_t t;
    ok(trpt__datetime_parse("1970-01-01T00:00:00Z", 20, &t) == 0 && t == 0, "epoch 0");
    ok(trpt__datetime_parse("2000-03-01t00:00:00z", 20, &t) == 0 && t == 951868800,
       "lowercase t/z, 2000-03-01 = 951868800");
    ok(trpt__datetime_parse("2024-01-01 00:00:00Z", 20, &t) == TRPT_DT_SPACE && t == 1704067200,
       "space separator (RFC 3339 NOTE): read, flagged");
    ok(trpt__datetime_parse("2024-01-01 00:00:00", 19, &t) == (TRPT_DT_SPACE | TRPT_DT_NO_ZONE),
       "space and no zone: both flagged");
    /* RFC 3339 §5.7: ":60" only as 23:59:60 UTC on a month's last day */
    ok(trpt__datetime_parse("2016-12-31T23:59:60Z", 20, &t) == 0 && t == 1483228800,
       "leap second 2016-12-31T23:59:60Z (read as the next midnight)");
    ok(trpt__datetime_parse("2017-01-01T00:59:60+01:00", 25, &t) == 0 && t == 1483228800,
       "the same leap second with an offset");
    ok(trpt__datetime_parse("2024-01-01T12:00:60Z", 20, &t) < 0, "second 60 at noon");
    ok(trpt__datetime_parse("2024-01-15T23:59:60Z", 20, &t) < 0, "second 60 mid-month");
    ok(trpt__datetime_parse("1969-12-31T23:59:60Z", 20, &t) == 0 && t == 0,
       "second 60 ending December 1969 (negative days)");
    ok(trpt__datetime_parse("1969-11-30T23:59:60Z", 20, &t) == 0, "ending November 1969");
    ok(trpt__datetime_parse("1969-11-29T23:59:60Z", 20, &t) < 0, "not a month's end, 1969");
    ok(trpt__datetime_parse("2024-01-01T00:00:00+0200", 24, &t) < 0, "offset without colon");
    ok(trpt__datetime_parse("2024-01-01T24:00:00Z", 20, &t) < 0, "hour 24");
    ok(trpt__datetime_parse("2024-01-01T00:00:00.Z", 21, &t) < 0, "empty fraction");
    ok(trpt__datetime_parse("2024-01-01", 10, &t) < 0, "date only");
    ok(trpt__datetime_parse("2024-04-31T00:00:00Z", 20, &t) < 0, "April 31");
}

/* Peak bytes held through the ctx allocator (arena, temporary arrays,
 * inflater, the ctx itself). */
typedef struct peak_alloc {
    size_t cur, peak;
} peak_alloc;

static void *peak_fn(void *ud, void *p, size_t osize, size_t nsize)
{
    peak_alloc *a = ud;
    if (nsize == 0) {
        if (p) a->cur -= osize;
        free(p);
        return NULL;
    }
    void *q = realloc(p, nsize);
    if (!q) return NULL;
    a->cur = a->cur - (p ? osize : 0) + nsize;
    if (a->cur > a->peak) a->peak = a->cur;
    return q;
}

#ifdef TRPT_HAVE_LIBDEFLATE
#include <libdeflate.h>
/* libdeflate's decompressor (.gz members of 64 KiB and more) comes from its
 * process-wide allocator: counted into the parse being measured. */
static peak_alloc *deflate_pa;
static void *deflate_malloc(size_t n)
{
    size_t *h = malloc(n + 16);
    if (!h) return NULL;
    h[0] = n;
    deflate_pa->cur += n;
    if (deflate_pa->cur > deflate_pa->peak) deflate_pa->peak = deflate_pa->cur;
    return (char *)h + 16;
}
static void deflate_free(void *p)
{
    if (!p) return;
    size_t *h = (size_t *)(void *)((char *)p - 16);
    deflate_pa->cur -= h[0];
    free(h);
}
#endif

/* A report of npol policies with nfd failure details each, shaped like the
 * benchmark's (../shared/bench/gen_report.py): addresses, MX names, about
 * 150 bytes of JSON per detail (malloc'd). */
static char *make_typical(size_t npol, size_t nfd, size_t *len)
{
    size_t cap = strlen(MINI) + npol * (300 + nfd * 220) + 16, o = 0;
    char *b = malloc(cap);
    o += (size_t)snprintf(b + o, cap - o, "%s", MINI);
    for (size_t p = 0; p < npol; p++) {
        o += (size_t)snprintf(b + o, cap - o,
                              "%s{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
                              "\"d%zu.example.com\",\"mx-host\":[\"mx1.d%zu.example.com\"]},"
                              "\"summary\":{\"total-successful-session-count\":100,"
                              "\"total-failure-session-count\":%zu},\"failure-details\":[",
                              p ? "," : "", p, p, nfd);
        for (size_t f = 0; f < nfd; f++)
            o += (size_t)snprintf(
                b + o, cap - o,
                "%s{\"result-type\":\"certificate-expired\",\"sending-mta-ip\":\"192.0.2.%zu\","
                "\"receiving-mx-hostname\":\"mx%zu.d%zu.example.com\",\"receiving-ip\":"
                "\"198.51.100.%zu\",\"failed-session-count\":%zu}",
                f ? "," : "", f % 250 + 1, f % 7, p, (f * 7) % 250 + 1, f + 1);
        o += (size_t)snprintf(b + o, cap - o, "]}");
    }
    o += (size_t)snprintf(b + o, cap - o, "]}");
    *len = o;
    return b;
}

/* Peak bytes of one parse in a fresh ctx with a counting allocator (the
 * arena, temporary arrays, inflater and the ctx itself; libdeflate's too). */
static size_t parse_peak(const void *in, size_t n)
{
    peak_alloc pa = { 0, 0 };
#ifdef TRPT_HAVE_LIBDEFLATE
    deflate_pa = &pa;
    libdeflate_set_memory_allocator(deflate_malloc, deflate_free);
#endif
    trpt_ctx *ctx = trpt_ctx_new(peak_fn, &pa, NULL);
    trpt_report r;
    trpt_error e;
    int rc = trpt_parse_report(ctx, in, n, NULL, &r, &e);
    trpt_ctx_free(ctx);
    return rc ? SIZE_MAX : pa.peak;
}

/* The memory target, peak <= 2x the decompressed JSON: met for
 * plain JSON from a few hundred bytes up on reports shaped like real ones
 * (the fixed cost is the ctx, 120 B, and each block's 31-byte header; the
 * parser's scratch arrays start in its stack frame). gzip input adds the
 * decompressed buffer itself (1x), and from 64 KiB up libdeflate's 11.3
 * KiB decompressor where it is built in (smaller members decode with
 * inflate.c, whose state is on the stack), so .gz meets it where the views
 * take about half the JSON or less: reports without failure details, like
 * the bench's small.json, and the bench's bigger ones; these test details,
 * 0.7-1.2x, do not. Bare minimum details (58 bytes of JSON against the
 * 152-byte trpt_failure view) need about 3x, which no arena sizing avoids.
 * The bounds below are those facts plus 1/4 for block rounding (1/2 for
 * .gz, whose first reservation is tighter: views over half the JSON take a
 * second block), so that a regression in the arena sizing shows. */
static void test_memory(void)
{
    static const size_t shapes[][2] = { { 3, 0 }, { 6, 0 }, { 2, 1 },   { 2, 4 },
                                        { 5, 20 }, { 20, 50 }, { 50, 400 } };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t len;
        char *json = make_typical(shapes[i][0], shapes[i][1], &len);
        size_t peak = parse_peak(json, len);
        ok(peak <= 2 * len, "peak memory %zu <= 2 x %zu-byte JSON", peak, len);
        size_t cap = len + 1024;
        unsigned char *z = malloc(cap);
        size_t zn = tu_gzip(json, len, z, cap);
        size_t zpeak = parse_peak(z, zn);
        size_t state = len >= 65536 ? 12288 : 0;
        ok(zpeak <= peak + len + len / 2 + state,
           "gzip: peak %zu <= plain %zu + the %zu-byte buffer (+1/2) + %zu", zpeak, peak, len,
           state);
        if (shapes[i][1] == 0 && shapes[i][0] <= 3) /* views 0.55x; 6 policies take 0.65x */
            ok(zpeak <= 2 * len, "no failure details, gzip: peak %zu <= 2 x %zu-byte JSON", zpeak,
               len);
        free(z);
        free(json);
    }
    size_t len;
    char *json = make_report(50, 400, &len);
    size_t peak = parse_peak(json, len);
    ok(peak <= 4 * len, "minimal details: peak %zu <= 4 x %zu-byte JSON", peak, len);
    free(json);
}

/* ------------------------------------------------ allocation failures */

typedef struct nomem_case {
    const void *data;
    size_t len;
    const trpt_limits *lim;
    const trpt_report *want; /* the parse without an allocation budget */
} nomem_case;

/* One lenient parse under an allocation budget (tu_nomem_run): a success
 * must give the report the unbudgeted parse gave. */
static int nomem_attempt(tu_alloc *a, void *arg)
{
    const nomem_case *c = arg;
    trpt_ctx *ctx = trpt_ctx_new(tu_alloc_fn, a, c->lim);
    if (!ctx) return TRPT_E_NOMEM;
    trpt_report r;
    trpt_error e;
    char why[128];
    int rc = trpt_parse_report(ctx, c->data, c->len, NULL, &r, &e);
    if (rc == TRPT_OK && !tu_report_eq(c->want, &r, why, sizeof why)) {
        printf("# differs: %s\n", why);
        rc = TU_INCOMPLETE;
    }
    trpt_ctx_free(ctx);
    return rc;
}

/* Runs every allocation budget on data (plain and gzipped); counts into
 * bad the budgets that gave anything but NOMEM or the full report. */
static void nomem_input(const char *what, const void *data, size_t len, const trpt_limits *lim,
                        int *bad, int *ran)
{
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, lim);
    trpt_report want;
    trpt_error e;
    int rc = trpt_parse_report(ctx, data, len, NULL, &want, &e);
    if (rc == TRPT_OK) {
        nomem_case c = { data, len, lim, &want };
        tu_nomem r;
        tu_nomem_run(&r, 0, 100000, nomem_attempt, &c);
        if (r.other || r.leaks || !r.succeeded || !r.nomem) {
            printf("# %s: %d wrong, %d leaks, %s\n", what, r.other, r.leaks,
                   r.succeeded ? "succeeded" : "never succeeded");
            ++*bad;
        }
        ++*ran;
    }
    trpt_ctx_free(ctx);
}

/* A policy-string element holding a JSON array of n strings, each of the
 * form "3 1 1 <pad>" with pad bytes of \u0041 escapes (decoded in the arena). */
static char *json_array_report(size_t n, size_t pad)
{
    size_t cap = 1024 + n * (32 + pad * 7);
    char *out = malloc(cap), *p = out;
    p += sprintf(p, "{\"organization-name\":\"o\",\"date-range\":{\"start-datetime\":"
                    "\"2024-01-01T00:00:00Z\",\"end-datetime\":\"2024-01-02T00:00:00Z\"},"
                    "\"contact-info\":\"c\",\"report-id\":\"r\",\"policies\":[{\"policy\":{"
                    "\"policy-type\":\"tlsa\",\"policy-domain\":\"example.com\","
                    "\"policy-string\":[\"[");
    for (size_t i = 0; i < n; i++) {
        p += sprintf(p, "%s\\\"3 1 1 a%zu", i ? "," : "", i);
        for (size_t k = 0; k < pad; k++) p += sprintf(p, "\\\\u0041");
        p += sprintf(p, "\\\"");
    }
    sprintf(p, "]\"]},\"summary\":{\"total-successful-session-count\":1,"
               "\"total-failure-session-count\":0}}]}");
    return out;
}

/* Every allocation the parser makes may fail: each failure is TRPT_E_NOMEM
 * with nothing leaked, and a parse that survives one (a fallback) gives
 * the same report, never a smaller one. Inputs: the vectors that parse
 * (plain and gzipped), the real reports, two JSON-array expansions. */
static void test_nomem(void)
{
    int bad = 0, ran = 0;
    vec_file vf;
    char msg[512];
    if (vec_load(&vf, "report.txt", msg, sizeof msg) > 0) {
        unsigned char *gz = malloc(1 << 20);
        for (size_t i = 0; i < vf.n; i++) {
            const vec *v = &vf.v[i];
            if (!v->ok) continue;
            trpt_limits lim;
            apply_limits(v, &lim);
            char what[64];
            snprintf(what, sizeof what, "report.txt line %d", v->line);
            nomem_input(what, v->input[0].ptr, v->input[0].len, &lim, &bad, &ran);
            size_t n = tu_gzip(v->input[0].ptr, v->input[0].len, gz, 1 << 20);
            snprintf(what, sizeof what, "report.txt line %d, gzipped", v->line);
            nomem_input(what, gz, n, &lim, &bad, &ran);
        }
        free(gz);
        vec_free(&vf);
    }
    const char *dir = tap_real_corpus();
    for (size_t c = 0; dir && c < sizeof corpus / sizeof corpus[0]; c++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/reports/%s", dir, corpus[c].file);
        size_t len;
        char *data = tap_slurp(path, &len);
        if (data) nomem_input(corpus[c].file, data, len, NULL, &bad, &ran);
        free(data);
    }
    /* The JSON-array expansion: outgrowing the list's first buffer (17
     * strings), and decoding a 100,000-byte escaped inner string. */
    char *j17 = json_array_report(17, 0), *jbig = json_array_report(1, 100000);
    nomem_input("17-string JSON array", j17, strlen(j17), NULL, &bad, &ran);
    nomem_input("escaped 100 KB JSON-array string", jbig, strlen(jbig), NULL, &bad, &ran);
    free(j17);
    free(jbig);
    ok(ran > 100, "%d inputs parsed under every allocation budget", ran);
    is_int(bad, 0, "every allocation failure gave nomem, leaked nothing, and any success was "
                   "the full report");
}

int main(void)
{
    test_vectors();
    test_corpus();
    test_paths();
    test_memory();
    test_nomem();
    return done_testing();
}
