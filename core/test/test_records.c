/* TXT record parsers: TLS-RPT (RFC 8460 §3) and MTA-STS (RFC 8461 §3.1).
 * Shared vectors (spec/vectors/{tlsrpt,sts}-record.txt), the real records
 * of the shared corpus, API misuse and allocation failure. */
#include "tap.h"
#include "trpt.h"
#include "vectors.h"
#include "testutil.h"

#include <stdint.h>
#include <unistd.h>

#define S(lit) { (lit), sizeof(lit) - 1 }

static int contains(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0) return 1;
    return 0;
}

static void tlsrpt_lookup(const void *res, const char *key, tu_got *g)
{
    const trpt_tlsrpt_record *r = res;
    size_t i;
    char what[16];
    if (strcmp(key, "version") == 0) tu_got_str(g, r->version);
    else if (strcmp(key, "raw") == 0) tu_got_str(g, r->raw);
    else if (strcmp(key, "nrua") == 0) tu_got_num(g, (long long)r->nrua);
    else if (strcmp(key, "next") == 0) tu_got_num(g, (long long)r->next);
    else if (sscanf(key, "rua%zu.%15s", &i, what) == 2) {
        if (i == 0 || i > r->nrua) return;
        const trpt_rua *u = &r->rua[i - 1];
        if (strcmp(what, "uri") == 0) tu_got_str(g, u->uri);
        else if (strcmp(what, "target") == 0) tu_got_str(g, u->target);
        else if (strcmp(what, "scheme") == 0)
            tu_got_str(g, u->scheme == TRPT_RUA_MAILTO ? (trpt_str){ "mailto", 6 }
                                                       : (trpt_str){ "https", 5 });
    } else tu_got_ext(g, key, r->ext, r->next);
}

static void sts_lookup(const void *res, const char *key, tu_got *g)
{
    const trpt_sts_record *r = res;
    if (strcmp(key, "version") == 0) tu_got_str(g, r->version);
    else if (strcmp(key, "id") == 0) tu_got_str(g, r->id);
    else if (strcmp(key, "raw") == 0) tu_got_str(g, r->raw);
    else if (strcmp(key, "next") == 0) tu_got_num(g, (long long)r->next);
    else tu_got_ext(g, key, r->ext, r->next);
}

static void run_vectors(const char *file, int kind)
{
    vec_file f;
    if (!tu_vec_load(&f, file)) return;
    for (size_t i = 0; i < f.n; i++) {
        const vec *v = &f.v[i];
        trpt_limits lim;
        trpt_limits_default(&lim);
        if (!ok(vec_limits(v, &lim) == 0, "line %d: limit options are valid", v->line)) continue;
        trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
        trpt_str txts[VEC_MAX_INPUTS];
        for (size_t j = 0; j < v->ninput; j++) txts[j] = (trpt_str){ v->input[j].ptr, v->input[j].len };
        trpt_error e;
        memset(&e, 0, sizeof e);
        trpt_tlsrpt_record tr;
        trpt_sts_record sr;
        int rc = kind == 'T' ? trpt_parse_tlsrpt_record(ctx, txts, v->ninput, &tr, &e)
                             : trpt_parse_sts_record(ctx, txts, v->ninput, &sr, &e);
        tu_vec_code(file, v, rc, &e);
        if (kind == 'T') tu_vec_asserts(v, tlsrpt_lookup, &tr, &e);
        else tu_vec_asserts(v, sts_lookup, &sr, &e);
        trpt_ctx_free(ctx);
    }
    vec_free(&f);
}

/* Each line of the corpus TXT files is one record. */
static void real_records(void)
{
    const char *dir = tap_real_corpus_or_skip();
    if (!dir) return;
    char path[4200];
    size_t len;
    snprintf(path, sizeof path, "%s/records/tlsrpt-txt-records.txt", dir);
    char *data = tap_slurp(path, &len);
    if (!ok(data != NULL, "read %s", path)) return;
    int lines = 0, good = 0;
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_str t;
    for (const char *cur = data; tu_next_line(&cur, &t);) {
        trpt_tlsrpt_record r;
        trpt_error e;
        int rc = trpt_parse_tlsrpt_record(ctx, &t, 1, &r, &e);
        lines++;
        if (contains(t.ptr, t.len, "isaspa.it")) {
            /* rua= without mailto: (RFC 8460 §3) — the record that crashed tlsrpt-reportd. */
            is_int(rc, TRPT_E_FIELD, "real tlsrpt line %d (isaspa.it, no scheme) is rejected", lines);
            ok(rc && strstr(e.message, "postmaster@isaspa.it") && e.rfc &&
                   strcmp(e.rfc, "RFC 8460 §3") == 0 && strcmp(e.path, "rua") == 0,
               "the error names the URI, the field and RFC 8460 §3");
        } else {
            is_int(rc, TRPT_OK, "real tlsrpt line %d parses", lines);
            if (rc == TRPT_OK) {
                good++;
                ok(r.nrua == 1 && r.rua[0].scheme == TRPT_RUA_MAILTO &&
                       memchr(r.rua[0].target.ptr, '@', r.rua[0].target.len) &&
                       memcmp(r.rua[0].uri.ptr, "mailto:", 7) == 0 &&
                       r.rua[0].target.len + 7 == r.rua[0].uri.len,
                   "real tlsrpt line %d: one mailto target", lines);
            }
        }
    }
    is_int(lines, 3, "tlsrpt-txt-records.txt has 3 records");
    is_int(good, 2, "2 of them valid");
    free(data);

    snprintf(path, sizeof path, "%s/records/mta-sts-txt-records.txt", dir);
    data = tap_slurp(path, &len);
    if (!ok(data != NULL, "read %s", path)) {
        trpt_ctx_free(ctx);
        return;
    }
    /* The ids as published (SOURCES.md lists the domains). */
    static const char *const ids[] = { "202406081231", "202211020844", "202211231428",
                                       "202211020846", "20260106T000000Z", "20260223T1500" };
    lines = 0;
    for (const char *cur = data; tu_next_line(&cur, &t);) {
        trpt_sts_record r;
        trpt_error e;
        int rc = trpt_parse_sts_record(ctx, &t, 1, &r, &e);
        if (!ok(rc == TRPT_OK, "real mta-sts line %d parses", lines + 1))
            printf("#   %s\n", e.message);
        else if (lines < 6)
            is_str(r.id.ptr, r.id.len, ids[lines], "real mta-sts line %d: id", lines + 1);
        lines++;
    }
    is_int(lines, 6, "mta-sts-txt-records.txt has 6 records");
    free(data);
    trpt_ctx_free(ctx);
}

static void api(void)
{
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_tlsrpt_record r;
    trpt_sts_record s;
    trpt_error e;
    trpt_str t = S("v=TLSRPTv1; rua=mailto:a@example.com,mailto:b%2Bc@example.com");
    is_int(trpt_parse_tlsrpt_record(NULL, &t, 1, &r, &e), TRPT_E_ARG, "NULL ctx");
    is_int(trpt_parse_tlsrpt_record(ctx, &t, 1, NULL, &e), TRPT_E_ARG, "NULL out");
    is_int(trpt_parse_tlsrpt_record(ctx, NULL, 1, &r, &e), TRPT_E_ARG, "NULL list with a count");
    is_int(trpt_parse_tlsrpt_record(ctx, NULL, 0, &r, &e), TRPT_E_NO_RECORD, "empty list");
    trpt_str bad = { NULL, 3 };
    is_int(trpt_parse_tlsrpt_record(ctx, &bad, 1, &r, &e), TRPT_E_ARG, "NULL record with a length");
    is_int(trpt_parse_sts_record(NULL, &t, 1, &s, &e), TRPT_E_ARG, "sts: NULL ctx");
    is_int(trpt_parse_sts_record(ctx, &t, 1, NULL, &e), TRPT_E_ARG, "sts: NULL out");
    is_int(trpt_parse_tlsrpt_record(ctx, &t, 1, &r, NULL), TRPT_OK, "NULL error struct is allowed");
    /* Undecoded values are views into the input; decoded ones live in the ctx. */
    ok(r.rua[0].target.ptr == t.ptr + 23, "plain target points into the input");
    ok(r.rua[1].target.ptr < t.ptr || r.rua[1].target.ptr >= t.ptr + t.len,
       "decoded target is a copy");
    is_str(r.rua[1].target.ptr, r.rua[1].target.len, "b+c@example.com", "decoded target");
    is_str(r.raw.ptr, r.raw.len, t.ptr, "raw is the record");
    trpt_str early = S("v=TLSRPTv1 rua=mailto:a@example.com");
    is_int(trpt_parse_tlsrpt_record(ctx, &early, 1, &r, &e), TRPT_E_SYNTAX, "missing ';'");
    ok(r.raw.ptr == NULL && r.version.ptr == NULL && r.nrua == 0,
       "a failure while splitting leaves an empty result");
    trpt_str bad_rec = S("v=TLSRPTv1");
    is_int(trpt_parse_tlsrpt_record(ctx, &bad_rec, 1, NULL, NULL), TRPT_E_ARG,
           "NULL out and NULL error");
    is_int(trpt_parse_tlsrpt_record(ctx, &bad_rec, 1, &r, NULL), TRPT_E_FIELD,
           "an error without an error struct still returns its code");
    ok(r.nrua == 0 && r.rua == NULL && r.raw.ptr == NULL, "a failed parse leaves an empty result");
    is_int(trpt_parse_tlsrpt_record(ctx, &bad_rec, 1, &r, &e), TRPT_E_FIELD, "missing rua");
    ok(e.rfc && strcmp(e.rfc, "RFC 8460 §3") == 0 && e.offset == TRPT_NO_OFFSET,
       "missing rua: RFC section, no offset");
    trpt_str sts_bad = S("v=STSv1; id=x-y");
    is_int(trpt_parse_sts_record(ctx, &sts_bad, 1, &s, &e), TRPT_E_FIELD, "bad sts id");
    ok(e.rfc && strcmp(e.rfc, "RFC 8461 §3.1") == 0 && strcmp(e.path, "id") == 0,
       "sts errors cite RFC 8461 §3.1");
    /* A long bad URI is quoted shortened; the message stays terminated. */
    char longrec[2048];
    snprintf(longrec, sizeof longrec, "v=TLSRPTv1; rua=x%01800d@example.com", 0);
    trpt_str lr = { longrec, strlen(longrec) };
    is_int(trpt_parse_tlsrpt_record(ctx, &lr, 1, &r, &e), TRPT_E_FIELD, "long URI without scheme");
    ok(strlen(e.message) < sizeof e.message, "message fits its buffer");
    trpt_ctx_free(ctx);
}

/* One parse under an allocation budget (tu_nomem_run). */
static int nomem_attempt(tu_alloc *a, void *arg)
{
    const trpt_str *t = arg;
    trpt_ctx *ctx = trpt_ctx_new(tu_alloc_fn, a, NULL);
    if (!ctx) return TRPT_E_NOMEM;
    trpt_tlsrpt_record r;
    trpt_error e;
    int rc = trpt_parse_tlsrpt_record(ctx, t, 1, &r, &e);
    if (rc == TRPT_OK && (r.nrua != 13 || r.next != 12)) rc = TU_INCOMPLETE;
    trpt_ctx_free(ctx);
    return rc;
}

static void nomem(void)
{
    /* Enough fields and URIs to need several vector growths. */
    char rec[1024] = "v=TLSRPTv1; rua=mailto:a%2Bb@example.com";
    for (int i = 0; i < 12; i++) {
        size_t l = strlen(rec);
        snprintf(rec + l, sizeof rec - l, ",https://r%d.example.com", i);
    }
    for (int i = 0; i < 12; i++) {
        size_t l = strlen(rec);
        snprintf(rec + l, sizeof rec - l, "; e%d=v", i);
    }
    trpt_str t = { rec, strlen(rec) };
    tu_nomem r;
    tu_nomem_run(&r, 1, 200, nomem_attempt, &t);
    tu_nomem_ok(&r);
}

/* The vector reader itself: escapes, several inputs, and loud failures. */
static void reader(void)
{
    char dir[] = "/tmp/trpt-vec-XXXXXX";
    if (!ok(mkdtemp(dir) != NULL, "temporary vector directory")) return;
    static const struct { const char *name, *text; long want; } files[] = {
        { "good.txt", "# comment\n\nok;a=x\\x3by;b=\\t\tA\\x00B\t\\\\\n", 1 },
        { "notab.txt", "ok no tab\n", -1 },
        { "badexpect.txt", "fine\tx\n", -1 },
        { "badescape.txt", "ok\tx\\q\n", -1 },
        { "shortx.txt", "ok\tx\\x4\n", -1 },
        { "badassert.txt", "ok;novalue\tx\n", -1 },
        { "cr.txt", "ok\tx\r\n", -1 },
    };
    char path[64];
    const char *prev = getenv("TLSRPT_VECTORS");
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", prev ? prev : "");
    setenv("TLSRPT_VECTORS", dir, 1);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        FILE *fp = fopen(path, "wb");
        fputs(files[i].text, fp);
        fclose(fp);
        vec_file f;
        char msg[300];
        long n = vec_load(&f, files[i].name, msg, sizeof msg);
        is_int(n, files[i].want, "vector reader: %s", files[i].name);
        if (n == 1) {
            const vec *v = &f.v[0];
            const vec_bytes *a = vec_get(v, "a"), *b = vec_get(v, "b");
            ok(v->ok && v->line == 3 && v->ninput == 2 && v->input[0].len == 3 &&
                   memcmp(v->input[0].ptr, "A\0B", 3) == 0 && v->input[1].len == 1 &&
                   v->input[1].ptr[0] == '\\' && a && a->len == 3 && memcmp(a->ptr, "x;y", 3) == 0 &&
                   b && b->len == 1 && b->ptr[0] == '\t' && !vec_get(v, "c"),
               "vector reader decodes inputs and assertions");
            vec_free(&f);
        }
        remove(path);
    }
    if (prev) setenv("TLSRPT_VECTORS", saved, 1);
    else unsetenv("TLSRPT_VECTORS");
    rmdir(dir);
}

/* Complexity review: the split fields (48 bytes each) are not kept, so a
 * record of many short fields costs no multiple of itself in the arena. */
static void fields_not_kept(void)
{
    size_t reps = 200000, n = 0;
    char *txt = malloc(16 + reps * 4);
    if (!txt) return;
    memcpy(txt, "v=STSv1; id=abc;", 16);
    n = 16;
    for (size_t i = 0; i < reps; i++, n += 4) memcpy(txt + n, "v=y;", 4);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_sts_record r;
    trpt_error e;
    trpt_str t = { txt, n };
    int rc = ctx ? trpt_parse_sts_record(ctx, &t, 1, &r, &e) : TRPT_E_NOMEM;
    ok(rc == TRPT_OK && trpt_ctx_bytes(ctx) < n / 4,
       "200,000 repeated v= fields: arena %zu bytes for an %zu-byte record",
       ctx ? trpt_ctx_bytes(ctx) : 0, n);
    trpt_ctx_free(ctx);
    free(txt);
}

int main(void)
{
    fields_not_kept();
    reader();
    run_vectors("tlsrpt-record.txt", 'T');
    run_vectors("sts-record.txt", 'S');
    real_records();
    api();
    nomem();
    return done_testing();
}
