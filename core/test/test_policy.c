/* MTA-STS policy files (RFC 8461 §3.2) and MX matching (RFC 8461 §4.1):
 * shared vectors (spec/vectors/sts-policy.txt, mx-match.txt), the 14 real
 * policy files of the shared corpus, API misuse and allocation failure. */
#include "tap.h"
#include "trpt.h"
#include "vectors.h"
#include "testutil.h"

#include <dirent.h>
#include <stdint.h>

static const char *mode_name(int m)
{
    return m == TRPT_MODE_ENFORCE ? "enforce" : m == TRPT_MODE_TESTING ? "testing"
                                             : m == TRPT_MODE_NONE    ? "none" : "?";
}

static void policy_lookup(const void *res, const char *key, tu_got *g)
{
    const trpt_sts_policy *p = res;
    size_t i;
    if (strcmp(key, "version") == 0) tu_got_str(g, p->version);
    else if (strcmp(key, "mode") == 0) tu_got_str(g, (trpt_str){ mode_name(p->mode), strlen(mode_name(p->mode)) });
    else if (strcmp(key, "max_age") == 0) tu_got_num(g, p->max_age);
    else if (strcmp(key, "nmx") == 0) tu_got_num(g, (long long)p->nmx);
    else if (strcmp(key, "next") == 0) tu_got_num(g, (long long)p->next);
    else if (strcmp(key, "nignored") == 0) tu_got_num(g, (long long)p->nignored);
    else if (sscanf(key, "mx%zu", &i) == 1 && strchr(key, '.') == NULL) {
        if (i >= 1 && i <= p->nmx) tu_got_str(g, p->mx[i - 1]);
    } else if (strncmp(key, "ign", 3) == 0) {
        char ext[40];
        snprintf(ext, sizeof ext, "ext%s", key + 3); /* same shape as ext */
        tu_got_ext(g, ext, p->ignored, p->nignored);
    } else tu_got_ext(g, key, p->ext, p->next);
}

static void policy_vectors(void)
{
    vec_file f;
    if (!tu_vec_load(&f, "sts-policy.txt")) return;
    for (size_t i = 0; i < f.n; i++) {
        const vec *v = &f.v[i];
        trpt_limits lim;
        trpt_limits_default(&lim);
        if (!ok(vec_limits(v, &lim) == 0 && v->ninput == 1, "line %d: one input, valid limits",
                v->line))
            continue;
        trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
        trpt_sts_policy p;
        trpt_error e;
        memset(&e, 0, sizeof e);
        int rc = trpt_parse_sts_policy(ctx, v->input[0].ptr, v->input[0].len, &p, &e);
        tu_vec_code("sts-policy.txt", v, rc, &e);
        tu_vec_asserts(v, policy_lookup, &p, &e);
        trpt_ctx_free(ctx);
    }
    vec_free(&f);
}

static void mx_vectors(void)
{
    vec_file f;
    if (!tu_vec_load(&f, "mx-match.txt")) return;
    for (size_t i = 0; i < f.n; i++) {
        const vec *v = &f.v[i];
        const vec_bytes *m = vec_get(v, "match");
        if (!ok(v->ok && v->ninput == 2 && m && m->len == 1 && (m->ptr[0] == '0' || m->ptr[0] == '1'),
                "mx-match.txt:%d: well-formed", v->line))
            continue;
        int want = m->ptr[0] == '1';
        int res = trpt_mx_pattern_match(v->input[0].ptr, v->input[0].len, v->input[1].ptr,
                                        v->input[1].len);
        is_int(res, want, "mx-match.txt:%d: '%s' vs '%s'", v->line, v->input[0].ptr, v->input[1].ptr);
        /* The same through a one-pattern policy. */
        trpt_str pat = { v->input[0].ptr, v->input[0].len };
        trpt_sts_policy p = { .mx = &pat, .nmx = 1 };
        is_int(trpt_sts_mx_match(&p, v->input[1].ptr, v->input[1].len), want,
               "mx-match.txt:%d: through sts_mx_match", v->line);
    }
    vec_free(&f);
}

/* Expected values read off the published files (SOURCES.md lists their origin). */
static const struct {
    const char *file;
    int mode;
    size_t nmx;
    int64_t max_age;
    const char *match, *nomatch;  /* a host the policy admits, one it refuses */
} real[] = {
    { "mta-sts-policy-bluedot-org-5mx.txt", TRPT_MODE_ENFORCE, 5, 1209600, "ALT3.ASPMX.L.GOOGLE.COM.", "aspmx2.googlemail.com" },
    { "mta-sts-policy-cork-tech-crlf-no-final-newline.txt", TRPT_MODE_ENFORCE, 5, 2419200, "aspmx.l.google.com", "alt5.aspmx.l.google.com" },
    { "mta-sts-policy-criminaljusticehub-org-uk.txt", TRPT_MODE_ENFORCE, 1, 1209600, "criminaljusticehub-org-uk.mail.protection.outlook.com", "mail.protection.outlook.com" },
    { "mta-sts-policy-helsinkimissio-fi.txt", TRPT_MODE_ENFORCE, 1, 86400, "helsinkimissio-fi.mail.protection.outlook.com", "x.helsinkimissio-fi.mail.protection.outlook.com" },
    { "mta-sts-policy-kouchnarev-mode-none.txt", TRPT_MODE_NONE, 1, 604800, "mail.domain.example", "domain.example" },
    { "mta-sts-policy-krvtz-net-from-readme.txt", TRPT_MODE_ENFORCE, 1, 10368000, "carp-20.krvtz.net", "carp-21.krvtz.net" },
    { "mta-sts-policy-melvyndekort-cloudflare-no-final-newline.txt", TRPT_MODE_TESTING, 3, 604800, "route3.mx.cloudflare.net", "route4.mx.cloudflare.net" },
    { "mta-sts-policy-negarix-uk-icloud.txt", TRPT_MODE_ENFORCE, 2, 604800, "mx02.mail.icloud.com", "mx03.mail.icloud.com" },
    { "mta-sts-policy-paramos-com-crlf.txt", TRPT_MODE_TESTING, 5, 86401, "alt4.aspmx.l.google.com", "google.com" },
    { "mta-sts-policy-redak-com-wildcard-2mx-root-copy.txt", TRPT_MODE_TESTING, 2, 86400, "redak-com.mail.protection.outlook.com", "a.b.mail.protection.outlook.com" },
    { "mta-sts-policy-redak-com-wildcard.txt", TRPT_MODE_TESTING, 1, 86400, "redak-com.mail.eo.outlook.com", "mail.eo.outlook.com" },
    { "mta-sts-policy-resonaari-fi.txt", TRPT_MODE_ENFORCE, 1, 86400, "resonaari-fi.mail.protection.outlook.com", "resonaari.fi" },
    { "mta-sts-policy-toppymicros-com-testing.txt", TRPT_MODE_TESTING, 2, 86400, "mailsec.protonmail.ch", "mail.protonmail.com" },
    { "mta-sts-policy-vigogroup-com-au.txt", TRPT_MODE_ENFORCE, 5, 604800, "alt1.aspmx.l.google.com", "alt1.aspmx.l.google.com.au" },
};

static void real_policies(void)
{
    const char *dir = tap_real_corpus_or_skip();
    if (!dir) return;
    size_t nreal = sizeof real / sizeof real[0];
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    for (size_t i = 0; i < nreal; i++) {
        char path[4200];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/records/%s", dir, real[i].file);
        char *data = tap_slurp(path, &len);
        if (!ok(data != NULL, "read %s", real[i].file)) continue;
        trpt_sts_policy p;
        trpt_error e;
        int rc = trpt_parse_sts_policy(ctx, data, len, &p, &e);
        if (!ok(rc == TRPT_OK, "%s parses", real[i].file)) {
            printf("#   %s\n", e.message);
        } else {
            ok(p.mode == real[i].mode && p.nmx == real[i].nmx && p.max_age == real[i].max_age &&
                   p.next == 0,
               "%s: mode %s, %zu mx, max_age %lld", real[i].file, mode_name(real[i].mode),
               real[i].nmx, (long long)real[i].max_age);
            ok(trpt_sts_mx_match(&p, real[i].match, strlen(real[i].match)),
               "%s admits %s", real[i].file, real[i].match);
            ok(!trpt_sts_mx_match(&p, real[i].nomatch, strlen(real[i].nomatch)),
               "%s refuses %s", real[i].file, real[i].nomatch);
        }
        free(data);
        trpt_ctx_reset(ctx);
    }
    trpt_ctx_free(ctx);
    /* Every policy file in the corpus is covered by the table above. */
    char rdir[4200];
    snprintf(rdir, sizeof rdir, "%s/records", dir);
    DIR *d = opendir(rdir);
    size_t files = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        files += strncmp(de->d_name, "mta-sts-policy-", 15) == 0;
    if (d) closedir(d);
    is_int(files, nreal, "all %zu real policy files are checked", nreal);
}

static void api(void)
{
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_sts_policy p;
    trpt_error e;
    static const char text[] = "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 1\n";
    is_int(trpt_parse_sts_policy(NULL, text, sizeof text - 1, &p, &e), TRPT_E_ARG, "NULL ctx");
    is_int(trpt_parse_sts_policy(ctx, text, sizeof text - 1, NULL, &e), TRPT_E_ARG, "NULL out");
    is_int(trpt_parse_sts_policy(ctx, NULL, 5, &p, &e), TRPT_E_ARG, "NULL text with a length");
    is_int(trpt_parse_sts_policy(ctx, NULL, 0, &p, &e), TRPT_E_VERSION, "NULL empty text");
    is_int(trpt_parse_sts_policy(ctx, text, sizeof text - 1, &p, NULL), TRPT_OK, "NULL error struct");
    ok(p.mx[0].ptr == text + 33, "mx values point into the input");
    is_int(trpt_parse_sts_policy(ctx, "mode: x", 7, &p, &e), TRPT_E_FIELD, "bad mode");
    ok(e.rfc && strcmp(e.rfc, "RFC 8461 §3.2") == 0 && strcmp(e.path, "mode") == 0 &&
           strstr(e.message, "line 1"),
       "policy errors cite RFC 8461 §3.2, the key and the line");
    ok(p.mode == 0 && p.nmx == 0 && p.mx == NULL, "a failed parse leaves an empty result");
    ok(!trpt_sts_mx_match(NULL, "mx", 2), "NULL policy matches nothing");
    trpt_sts_policy none = { 0 };
    ok(!trpt_sts_mx_match(&none, "mx", 2), "a policy without mx matches nothing");
    ok(!trpt_mx_pattern_match(NULL, 0, "mx", 2) && !trpt_mx_pattern_match("mx", 2, NULL, 0),
       "NULL pattern or host matches nothing");
    /* A large policy: many mx lines, all kept in order. */
    size_t cap = 200000, len = 0;
    char *big = malloc(cap);
    len += (size_t)snprintf(big, cap, "version: STSv1\nmode: enforce\nmax_age: 86400\n");
    for (int i = 0; i < 5000; i++) len += (size_t)snprintf(big + len, cap - len, "mx: mx%d.example.com\r\n", i);
    is_int(trpt_parse_sts_policy(ctx, big, len, &p, &e), TRPT_OK, "5000 mx lines");
    ok(p.nmx == 5000 && p.mx[4999].len == 18 && memcmp(p.mx[4999].ptr, "mx4999.example.com", 18) == 0,
       "all kept, in order");
    ok(trpt_sts_mx_match(&p, "MX4321.example.com", 18) && !trpt_sts_mx_match(&p, "mx5000.example.com", 18),
       "matched against all of them");
    free(big);
    trpt_ctx_free(ctx);
}

/* One parse under an allocation budget (tu_nomem_run). */
static int nomem_attempt(tu_alloc *a, void *arg)
{
    const char *text = arg;
    trpt_ctx *ctx = trpt_ctx_new(tu_alloc_fn, a, NULL);
    if (!ctx) return TRPT_E_NOMEM;
    trpt_sts_policy p;
    trpt_error e;
    int rc = trpt_parse_sts_policy(ctx, text, strlen(text), &p, &e);
    if (rc == TRPT_OK && (p.nmx != 20 || p.next != 20)) rc = TU_INCOMPLETE;
    trpt_ctx_free(ctx);
    return rc;
}

static void nomem(void)
{
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text, "version: STSv1\nmode: testing\nmax_age: 5\n");
    for (int i = 0; i < 20; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "mx: mx%d.example.com\nx%d: y\n", i, i);
    tu_nomem r;
    tu_nomem_run(&r, 1, 200, nomem_attempt, text);
    tu_nomem_ok(&r);
}

int main(void)
{
    policy_vectors();
    mx_vectors();
    real_policies();
    api();
    nomem();
    return done_testing();
}
