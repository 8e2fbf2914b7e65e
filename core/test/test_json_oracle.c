/* JSON syntax oracle: the generic validating skipper (json.c) must accept
 * and reject what jansson does on spec/vectors/json.txt, apart from the
 * documented differences (limits jansson lacks, double overflow). */
#include "tap.h"
#include "vectors.h"
#include "json.h"

#include <jansson.h>

static int jansson_accepts(const char *s, size_t n)
{
    json_error_t je;
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!j) return 0;
    json_decref(j);
    return 1;
}

int main(void)
{
    (void)tap_slurp;
    (void)tap_real_corpus;
    vec_file vf;
    char msg[512];
    long nv = vec_load(&vf, "json.txt", msg, sizeof msg);
    if (!ok(nv > 0, "json.txt loads (%s)", nv < 0 ? msg : "ok")) return done_testing();
    for (size_t i = 0; i < vf.n; i++) {
        const vec *v = &vf.v[i];
        trpt_limits lim;
        trpt_limits_default(&lim);
        const vec_bytes *a;
        if ((a = vec_get(v, "max_depth"))) lim.max_depth = (unsigned)atoi(a->ptr);
        if ((a = vec_get(v, "max_elements"))) lim.max_elements = (size_t)atol(a->ptr);
        if ((a = vec_get(v, "max_string"))) lim.max_string = (size_t)atol(a->ptr);
        trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
        trpt_error e;
        memset(&e, 0, sizeof e);
        int rc = trpt__json_validate(ctx, v->input[0].ptr, v->input[0].len, &e);
        const char *want = v->ok ? "ok" : v->code;
        if (!ok(strcmp(trpt_code_name(rc), want) == 0, "line %d: %s", v->line, want))
            printf("#   got %s: %s (%s)\n", trpt_code_name(rc), e.message, v->text);
        const vec_bytes *jv = vec_get(v, "jansson");
        int jwant = jv ? strcmp(jv->ptr, "ok") == 0 : v->ok;
        ok(jansson_accepts(v->input[0].ptr, v->input[0].len) == jwant,
           "line %d: jansson %s", v->line, jwant ? "accepts" : "rejects");
        trpt_ctx_free(ctx);
    }
    vec_free(&vf);

    /* Error details: offset and path of the first problem. */
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_error e;
    const char *s = "{\"a\":[1,{\"b\":tru}]}";
    is_int(trpt__json_validate(ctx, s, strlen(s), &e), TRPT_E_SYNTAX, "bad literal");
    is_str(e.path, strlen(e.path), "a[1].b", "path of the bad literal");
    is_int(e.offset, 13, "offset of the bad literal");
    s = "{\"a\":{\"x\":1,\"x\":2}}";
    is_int(trpt__json_validate(ctx, s, strlen(s), &e), TRPT_E_DUPLICATE, "duplicate");
    is_str(e.path, strlen(e.path), "a", "duplicate reported at its object");
    is_int(trpt__json_validate(NULL, "1", 1, &e), TRPT_E_ARG, "NULL ctx");
    trpt_limits lim;
    trpt_limits_default(&lim);
    lim.max_input = 3;
    trpt_ctx_set_limits(ctx, &lim);
    is_int(trpt__json_validate(ctx, "1234", 4, &e), TRPT_E_LIMIT, "max_input");
    /* Long strings cross the 16-byte SIMD blocks at every alignment. */
    trpt_ctx_set_limits(ctx, NULL);
    char buf[80];
    int bad = 0;
    for (int len = 0; len < 40 && !bad; len++)
        for (int at = 0; at <= len && !bad; at++) {
            buf[0] = '"';
            memset(buf + 1, 'a', (size_t)len);
            buf[len + 1] = '"';
            int good = trpt__json_validate(ctx, buf, (size_t)len + 2, NULL) == TRPT_OK;
            if (at < len) buf[1 + at] = '\x01';
            int rej = at < len ? trpt__json_validate(ctx, buf, (size_t)len + 2, NULL) == TRPT_E_SYNTAX
                               : 1;
            if (!good || !rej) bad = 1;
        }
    ok(!bad, "control characters found at every position of strings up to 40 bytes");
    /* Coverage review: a string with escapes that cannot fit max_string
     * (one decoded byte per 6 raw ones at least) is refused before the
     * arena copy for its decoding is made. */
    {
        size_t n = 200000, k = 0;
        char *big = malloc(6 * n + 2);
        big[k++] = '"';
        for (size_t i = 0; i < n; i++, k += 6) memcpy(big + k, "\\u0041", 6);
        big[k++] = '"';
        trpt_limits_default(&lim);
        lim.max_string = n / 2;
        trpt_ctx *c2 = trpt_ctx_new(NULL, NULL, &lim);
        is_int(trpt__json_validate(c2, big, k, &e), TRPT_E_LIMIT, "1.2 MB of escapes, max_string 100000");
        is_int(e.offset, 0, "at the string");
        ok(trpt_ctx_bytes(c2) < n, "no decoding copy made (%zu bytes held)", trpt_ctx_bytes(c2));
        lim.max_string = n;
        trpt_ctx_set_limits(c2, &lim);
        is_int(trpt__json_validate(c2, big, k, &e), TRPT_OK, "the same string with max_string 200000");
        trpt_ctx_free(c2);
        free(big);
    }
    ok(trpt__utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10), "utf8_valid: 1-4 byte forms");
    ok(!trpt__utf8_valid("\xed\xa0\x80", 3), "utf8_valid: surrogate");
    ok(!trpt__utf8_valid("ab\xc3", 3), "utf8_valid: truncated at the end");
    ok(trpt__utf8_valid("", 0), "utf8_valid: empty");
    trpt_ctx_free(ctx);
    return done_testing();
}
