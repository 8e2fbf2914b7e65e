/* trpt_parse_report_email: the real e-mails of the shared corpus, the
 * synthetic ones in spec/vectors/email (expectations in its MANIFEST), and
 * API misuse. */
#include "tap.h"
#include "vectors.h"
#include "trpt.h"

/* Comma-separated, sorted list of the email-* warning codes of r. */
static void email_warns(const trpt_report *r, char *buf, size_t n)
{
    const char *codes[64];
    size_t k = 0;
    for (size_t i = 0; i < r->nwarnings && k < 64; i++)
        if (!strncmp(r->warnings[i].code, "email-", 6)) codes[k++] = r->warnings[i].code;
    for (size_t i = 1; i < k; i++) /* insertion sort: a handful of codes */
        for (size_t j = i; j > 0 && strcmp(codes[j - 1], codes[j]) > 0; j--) {
            const char *t = codes[j];
            codes[j] = codes[j - 1];
            codes[j - 1] = t;
        }
    buf[0] = 0;
    for (size_t i = 0; i < k; i++) {
        if (i) strncat(buf, ",", n - strlen(buf) - 1);
        strncat(buf, codes[i], n - strlen(buf) - 1);
    }
}

static const trpt_str *field(const trpt_report_email *e, const char *name)
{
    if (!strcmp(name, "tls_report_domain")) return &e->tls_report_domain;
    if (!strcmp(name, "tls_report_submitter")) return &e->tls_report_submitter;
    if (!strcmp(name, "subject")) return &e->subject;
    if (!strcmp(name, "from")) return &e->from;
    if (!strcmp(name, "date")) return &e->date;
    if (!strcmp(name, "message_id")) return &e->message_id;
    if (!strcmp(name, "content_type")) return &e->part_content_type;
    if (!strcmp(name, "filename")) return &e->filename;
    if (!strcmp(name, "report_id")) return &e->report.report_id;
    return NULL;
}

/* ------------------------------------------------------ real corpus */

static const struct real {
    const char *file;
    const char *domain, *submitter, *subject, *from, *date, *message_id, *filename, *ctype, *report_id;
    const char *warns;
} reals[] = {
    { "google-cardinalhealth-no-policy-found.eml", "cardinalhealth.ca", "google.com",
      "Report Domain: cardinalhealth.ca Submitter: google.com Report-ID: <2024.09.03T00.00.00Z+cardinalhealth.ca@google.com>",
      "noreply-smtp-tls-reporting@google.com", "Wed, 04 Sep 2024 03:53:20 -0700",
      "<66d83c20.050a0220.a0566.1e8dtls@google.com>",
      "google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz", "application/tlsrpt+gzip",
      "2024-09-03T00:00:00Z_cardinalhealth.ca", "" },
    /* Hand-written payload: its date-range (2026-02-08) and report-id
     * disagree with the file name and Subject (2026-05-12). */
    { "google-envelope-synthetic-payload-failure.eml", "example.com", "google.com",
      "Report Domain: example.com Submitter: google.com Report-ID: <2026.05.12T00.00.00Z+example.com@google.com>",
      "noreply-smtp-tls-reporting@google.com", "Wed, 13 May 2026 08:43:01 -0700",
      "<6a049c05.00000000.3554e0.3524tls@google.com>",
      "google.com!example.com!1778544000!1778630399!001.json.gz", "application/tlsrpt+gzip",
      "2026-02-08T00:00:00Z_example.com",
      "email-filename-date-mismatch,email-subject-report-id-mismatch" },
    { "google-krvtz-sts-enforce-20240915.eml", "krvtz.net", "google.com",
      "Report Domain: krvtz.net Submitter: google.com Report-ID: <2024.09.15T00.00.00Z+krvtz.net@google.com>",
      "noreply-smtp-tls-reporting@google.com", "Mon, 16 Sep 2024 04:17:13 -0700",
      "<66e813b9.050a0220.395bc2.4615tls@google.com>",
      "google.com!krvtz.net!1726358400!1726444799!001.json.gz", "application/tlsrpt+gzip",
      "2024-09-15T00:00:00Z_krvtz.net", "" },
    /* RFC 8460 example envelope around a Google payload: bare
     * application/tlsrpt, header domain example.net vs policy example.com,
     * file name with a 2002 date range and a shortened submitter. */
    { "google-mailauth-inline-json-not-gzip.eml", "example.net", "mail.sender.example.com",
      "Report Domain: example.net    Submitter: mail.sender.example.com    Report-ID: <735ff.e317+bf22029@example.net>",
      "tlsrpt@mail.sender.example.com", "Fri, May 09 2017 16:54:30 -0800", NULL,
      "mail.sender.example!example.com!1013662812!1013749130.json", "application/tlsrpt",
      "2020-01-01T00:00:00Z_example.com",
      "email-filename-date-mismatch,email-filename-submitter-mismatch,email-media-type,"
      "email-report-domain-mismatch,email-subject-report-id-mismatch,email-submitter-contact-mismatch" },
    { "google-messagingengine-anon-20260511.eml", "example.com", "google.com",
      "Report Domain: example.com Submitter: google.com Report-ID: <2026.05.11T00.00.00Z+example.com@google.com>",
      "noreply-smtp-tls-reporting@google.com", "Tue, 12 May 2026 08:44:48 -0700",
      "<6a034af0.00000000.3a4de4.4c68tls@google.com>",
      "google.com!example.com!1778457600!1778543999!001.json.gz", "application/tlsrpt+gzip",
      "2026-05-11T00:00:00Z_example.com", "" },
    { "google-xmox-sts-enforce.eml", "test.xmox.nl", "google.com",
      "Report Domain: test.xmox.nl Submitter: google.com Report-ID: <2022.09.15T00.00.00Z+test.xmox.nl@google.com>",
      "noreply-smtp-tls-reporting@google.com", "Fri, 16 Sep 2022 03:10:06 -0700",
      "<000000000000f47cc505e8c8905c@google.com>",
      "google.com!test.xmox.nl!1663200000!1663286399!001.json.gz", "application/tlsrpt+gzip",
      "2022-09-15T00:00:00Z_test.xmox.nl", "" },
    /* CRLF, Subject folded over 3 lines, multipart never closed. */
    { "mailru-krvtz-sts-fetch-timeout.eml", "krvtz.net", "mail.ru",
      "Report Domain: krvtz.net Submitter: mail.ru Report-ID: <c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru>",
      "noreply-smtp-tls-reporting@corp.mail.ru", "Thu, 26 Jan 2023 03:10:38 +0300",
      "<c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru>",
      "mail.ru!krvtz.net!1674604800!1674691200!001.json.gz", "application/tlsrpt+gzip",
      "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru", "email-submitter-contact-mismatch" },
    { "microsoft-krvtz-sts-and-tlsa.eml", "krvtz.net", "microsoft.com",
      "Report Domain: krvtz.net Submitter: microsoft.com Report-ID: 133708152202987951+krvtz.net",
      "<tlsrpt-noreply@microsoft.com>", "Sat, 14 Sep 2024 19:37:28 +0000",
      "<133708152202987951+krvtz.net@krvtz.net>",
      "microsoft.com!krvtz.net!1726185600!1726271999!133708152202987951.json.gz",
      "application/tlsrpt+gzip", "133708152202987951+krvtz.net", "" },
    { "microsoft-messagingengine-anon-20260513.eml", "example.com", "microsoft.com",
      "Report Domain: example.com Submitter: microsoft.com Report-ID: 134232617934286362+example.com",
      "<tlsrpt-noreply@microsoft.com>", "Thu, 14 May 2026 21:32:30 +0000",
      "<134232617934286362+example.com@example.com>",
      "microsoft.com!example.com!1778630400!1778716799!134232617934286362.json.gz",
      "application/tlsrpt+gzip", "134232617934286362+example.com", "" },
};

static void check_str(const trpt_str *got, const char *want, const char *file, const char *what)
{
    if (!want) {
        ok(got->ptr == NULL, "%s: %s absent", file, what);
        return;
    }
    is_str(got->ptr, got->len, want, "%s: %s", file, what);
}

static void test_real(trpt_ctx *ctx)
{
    const char *dir = tap_real_corpus_or_skip();
    if (!dir) return;
    char path[4200];
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        const struct real *t = &reals[i];
        snprintf(path, sizeof path, "%s/reports/%s", dir, t->file);
        size_t len;
        char *msg = tap_slurp(path, &len);
        if (!ok(msg != NULL, "%s: readable", t->file)) continue;
        trpt_report_email e;
        trpt_error err;
        trpt_ctx_reset(ctx);
        int rc = trpt_parse_report_email(ctx, msg, len, NULL, &e, &err);
        if (!ok(rc == TRPT_OK, "%s: parses", t->file)) {
            printf("#   %s: %s (%s)\n", trpt_code_name(rc), err.message, err.path);
            free(msg);
            continue;
        }
        check_str(&e.tls_report_domain, t->domain, t->file, "TLS-Report-Domain");
        check_str(&e.tls_report_submitter, t->submitter, t->file, "TLS-Report-Submitter");
        check_str(&e.subject, t->subject, t->file, "Subject (unfolded)");
        check_str(&e.from, t->from, t->file, "From");
        check_str(&e.date, t->date, t->file, "Date");
        check_str(&e.message_id, t->message_id, t->file, "Message-ID");
        check_str(&e.filename, t->filename, t->file, "file name");
        check_str(&e.part_content_type, t->ctype, t->file, "part media type");
        check_str(&e.report.report_id, t->report_id, t->file, "report-id from the JSON");
        ok(e.report.npolicies > 0, "%s: policies parsed", t->file);
        char w[512];
        email_warns(&e.report, w, sizeof w);
        if (!ok(!strcmp(w, t->warns), "%s: e-mail warnings are exactly [%s]", t->file, t->warns))
            printf("#   got [%s]\n", w);

        trpt_parse_opts strict = { .strict = 1 };
        trpt_ctx_reset(ctx);
        rc = trpt_parse_report_email(ctx, msg, len, &strict, &e, &err);
        if (t->warns[0])
            ok(rc == TRPT_E_STRICT && !strncmp(err.path, "email.", 6),
               "%s: strict mode rejects the first disagreement", t->file);
        free(msg);
    }

    snprintf(path, sizeof path, "%s/reports/negative-cron-mail-not-a-report.eml", dir);
    size_t len;
    char *msg = tap_slurp(path, &len);
    if (ok(msg != NULL, "negative sample readable")) {
        trpt_report_email e;
        trpt_error err;
        int rc = trpt_parse_report_email(ctx, msg, len, NULL, &e, &err);
        ok(rc == TRPT_E_NO_REPORT && !strcmp(err.message, "no TLS report in this message"),
           "cron mail: no_report, 'no TLS report in this message'");
        free(msg);
    }
}

/* ------------------------------------------------ synthetic vectors */

/* Does comma-separated list contain name? */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l == n && !memcmp(p, name, n)) return 1;
        if (!c) break;
        p = c + 1;
    }
    return 0;
}

static void test_vectors(trpt_ctx *ctx)
{
    vec_file f;
    char ebuf[256];
    if (vec_load(&f, "email/MANIFEST", ebuf, sizeof ebuf) < 0) {
        ok(0, "load spec/vectors/email/MANIFEST: %s", ebuf);
        return;
    }
    static const char *const fields[] = { "tls_report_domain", "tls_report_submitter", "subject", "from",
                                          "date", "message_id", "content_type", "filename", "report_id" };
    for (size_t i = 0; i < f.n; i++) {
        const vec *v = &f.v[i];
        char path[512];
        snprintf(path, sizeof path, "%s/email/%s", vec_dir(), v->input[0].ptr);
        size_t len;
        char *msg = tap_slurp(path, &len);
        if (!ok(msg != NULL, "line %d: %s readable", v->line, v->input[0].ptr)) continue;

        trpt_limits lim;
        trpt_limits_default(&lim);
        trpt_parse_opts o = { 0 };
        const vec_bytes *b;
        if ((b = vec_get(v, "opt.strict"))) o.strict = atoi(b->ptr);
        if ((b = vec_get(v, "opt.max_depth"))) lim.max_depth = (unsigned)atoi(b->ptr);
        if ((b = vec_get(v, "opt.max_elements"))) lim.max_elements = (size_t)atol(b->ptr);
        if ((b = vec_get(v, "opt.max_input"))) lim.max_input = (size_t)atol(b->ptr);
        trpt_ctx_reset(ctx);
        trpt_ctx_set_limits(ctx, &lim);

        trpt_report_email e;
        trpt_error err;
        memset(&err, 0, sizeof err);
        int rc = trpt_parse_report_email(ctx, msg, len, &o, &e, &err);
        const char *name = v->input[0].ptr;
        if (!v->ok) {
            if (!ok(rc != TRPT_OK && !strcmp(trpt_code_name(rc), v->code) && err.code == rc,
                    "line %d: %s fails with %s", v->line, name, v->code))
                printf("#   got %s: %s\n", trpt_code_name(rc), err.message);
            if ((b = vec_get(v, "msgpart")))
                ok(strstr(err.message, b->ptr) != NULL, "line %d: message mentions '%s'", v->line, b->ptr);
            free(msg);
            continue;
        }
        if (!ok(rc == TRPT_OK, "line %d: %s parses", v->line, name)) {
            printf("#   %s: %s (%s)\n", trpt_code_name(rc), err.message, err.path);
            free(msg);
            continue;
        }
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
            if ((b = vec_get(v, fields[k]))) {
                const trpt_str *s = field(&e, fields[k]);
                ok(s->ptr && s->len == b->len && !memcmp(s->ptr, b->ptr, b->len), "line %d: %s %s",
                   v->line, name, fields[k]);
            }
        if ((b = vec_get(v, "absent")))
            for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
                if (in_list(b->ptr, fields[k]))
                    ok(field(&e, fields[k])->ptr == NULL, "line %d: %s has no %s", v->line, name, fields[k]);
        if ((b = vec_get(v, "warns"))) {
            char w[512];
            email_warns(&e.report, w, sizeof w);
            if (!ok(!strcmp(w, b->ptr), "line %d: %s e-mail warnings [%s]", v->line, name, b->ptr))
                printf("#   got [%s]\n", w);
        }
        free(msg);
    }
    trpt_ctx_set_limits(ctx, NULL);
    vec_free(&f);
}

/* ------------------------------------------------------------ misuse */

static void test_misuse(trpt_ctx *ctx)
{
    trpt_report_email e;
    trpt_error err;
    is_int(trpt_parse_report_email(NULL, "x", 1, NULL, &e, &err), TRPT_E_ARG, "NULL ctx");
    is_int(trpt_parse_report_email(ctx, "x", 1, NULL, NULL, &err), TRPT_E_ARG, "NULL out");
    is_int(trpt_parse_report_email(ctx, NULL, 5, NULL, &e, &err), TRPT_E_ARG, "NULL message with a length");
    is_int(trpt_parse_report_email(ctx, NULL, 0, NULL, &e, NULL), TRPT_E_NO_REPORT,
           "empty message: no_report, NULL err allowed");

    /* Inline JSON error offsets point into the message: the JSON parser's
     * offset plus where the body starts (39). */
    const char msg[] = "Content-Type: application/tlsrpt+json\n\n{\"a\" 1}";
    trpt_report r;
    trpt_error jerr;
    int jrc = trpt_parse_report(ctx, msg + 39, sizeof msg - 1 - 39, NULL, &r, &jerr);
    int rc = trpt_parse_report_email(ctx, msg, sizeof msg - 1, NULL, &e, &err);
    ok(rc == jrc && jrc != TRPT_OK && jerr.offset != TRPT_NO_OFFSET && err.offset == jerr.offset + 39,
       "an inline JSON error keeps its code and its offset moves into the message");
    /* A base64 body's offsets would point nowhere in the message. */
    const char b64[] = "Content-Type: application/tlsrpt+json\nContent-Transfer-Encoding: base64\n\n"
                       "eyJhIiAxfQ==\n"; /* {"a" 1} */
    rc = trpt_parse_report_email(ctx, b64, sizeof b64 - 1, NULL, &e, &err);
    ok(rc == jrc && err.offset == TRPT_NO_OFFSET, "an error inside a decoded body has no offset");
}

/* Appends s to the growing buffer b (test helper, aborts on OOM). */
static void put(char **b, size_t *n, size_t *cap, const char *s, size_t len)
{
    if (*n + len + 1 > *cap) {
        *cap = (*n + len + 1) * 2;
        if (!(*b = realloc(*b, *cap))) abort();
    }
    memcpy(*b + *n, s, len);
    *n += len;
    (*b)[*n] = '\0';
}
#define PUTS(lit) put(&m, &n, &cap, lit, strlen(lit))

/* Complexity review: untrusted structure must not cost more than a
 * bounded multiple of the message in time or memory. */
static void test_bounded_work(trpt_ctx *ctx)
{
    static const char report[] =
        "{\"organization-name\":\"o\",\"date-range\":{\"start-datetime\":\"2024-01-01T00:00:00Z\","
        "\"end-datetime\":\"2024-01-02T00:00:00Z\"},\"contact-info\":\"a@example.net\","
        "\"report-id\":\"x\",\"policies\":[{\"policy\":{\"policy-type\":\"sts\","
        "\"policy-domain\":\"example.com\"},\"summary\":{\"total-successful-session-count\":1,"
        "\"total-failure-session-count\":0}}]}";
    trpt_report_email e;
    trpt_error err;
    /* Nested multiparts, the report first, then `depth` levels around a
     * 400 KB text part: each level looks through it again, so 12 levels
     * (4.8 MB of scanning) pass the cap of 8 x 400 KB + 1 MiB, 4 do not. */
    for (int depth = 4; depth <= 12; depth += 8) {
        char *m = NULL, line[64];
        size_t n = 0, cap = 0;
        PUTS("Content-Type: multipart/mixed; boundary=b0\n\n--b0\n"
             "Content-Type: application/tlsrpt+json\n\n");
        PUTS(report);
        PUTS("\n--b0\n");
        for (int d = 1; d <= depth; d++) {
            snprintf(line, sizeof line, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", d, d);
            PUTS(line);
        }
        PUTS("Content-Type: text/plain\n\n");
        for (int k = 0; k < 400000 / 8; k++) PUTS("-- -- -\n");
        for (int d = depth; d >= 0; d--) {
            snprintf(line, sizeof line, "\n--b%d--\n", d);
            PUTS(line);
        }
        int rc = trpt_parse_report_email(ctx, m, n, NULL, &e, &err);
        if (depth == 4)
            is_int(rc, TRPT_OK, "4 nested multiparts around a big part parse");
        else
            ok(rc == TRPT_E_LIMIT && strstr(err.message, "8 times"),
               "12 nested multiparts around a big part: limit, not 12 scans (%s)", err.message);
        free(m);
        trpt_ctx_reset(ctx);
    }
    /* Header fields of parts are dropped once read: 40 parts of 20,000
     * fields (2.4 MB) used to keep 32 bytes a field in the arena (26 MB). */
    {
        char *m = NULL;
        size_t n = 0, cap = 0;
        PUTS("Content-Type: multipart/mixed; boundary=b0\n\n--b0\n"
             "Content-Type: application/tlsrpt+json\n\n");
        PUTS(report);
        for (int k = 0; k < 40; k++) {
            PUTS("\n--b0\n");
            for (int h = 0; h < 20000; h++) PUTS("a:\n");
            PUTS("Content-Type: text/plain\n\nx");
        }
        PUTS("\n--b0--\n");
        trpt_ctx *fresh = trpt_ctx_new(NULL, NULL, NULL);
        int rc = fresh ? trpt_parse_report_email(fresh, m, n, NULL, &e, &err) : TRPT_E_NOMEM;
        size_t used = fresh ? trpt_ctx_bytes(fresh) : 0;
        ok(rc == TRPT_OK && used < n / 4, "many header fields: arena %zu bytes for a %zu-byte message",
           used, n);
        trpt_ctx_free(fresh);
        free(m);
    }
}

int main(void)
{
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    if (!ctx) return 1;
    test_real(ctx);
    test_vectors(ctx);
    test_misuse(ctx);
    test_bounded_work(ctx);
    trpt_ctx_free(ctx);
    return done_testing();
}
