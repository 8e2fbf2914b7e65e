/* Fuzz target: differential JSON syntax check against jansson.
 *
 * The project's validating JSON scanner (trpt__json_validate, the code
 * under trpt_parse_report) and jansson's json_loadb must agree on which
 * inputs are JSON, once the rules the two apply differently are factored
 * out:
 *  - integers beyond ±(2^53-1) are a TRPT_E_LIMIT (RFC 7493 §2.2) here,
 *    and jansson fails only past its json_int_t ("too big integer");
 *  - other caps (depth, string size, element count) are TRPT_E_LIMIT here;
 *  - jansson refuses reals that overflow a double and NUL in object keys,
 *    both valid JSON (RFC 8259 §6, §8.1);
 *  - jansson stops reading at a raw NUL byte (it accepts "1\0"): a raw NUL
 *    is never valid JSON, so such inputs must be refused and are not
 *    compared;
 *  - both reject duplicate keys (JSON_REJECT_DUPLICATES) and invalid UTF-8,
 *    and both accept \u0000 in string values (JSON_ALLOW_NUL).
 * Any other disagreement aborts. trpt_parse_report must also refuse every
 * input jansson refuses for a reason the scanner shares. */
#include "common.h"
#include "json.h"

#include <jansson.h>

static int has_big_int(const json_t *v)
{
    const char *k;
    json_t *m;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_INTEGER: {
        json_int_t n = json_integer_value(v);
        return n > TRPT_JSON_INT_MAX || n < -TRPT_JSON_INT_MAX;
    }
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, k, m)
            if (has_big_int(m)) return 1;
        return 0;
    case JSON_ARRAY:
        json_array_foreach(v, i, m)
            if (has_big_int(m)) return 1;
        return 0;
    default:
        return 0;
    }
}

/* jansson refusals that are not JSON syntax errors under RFC 8259. */
static int jansson_only(const json_error_t *je)
{
    return strstr(je->text, "real number overflow") || strstr(je->text, "NUL byte in object key");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_limits lim;
    trpt_limits_default(&lim);
    lim.max_depth = TRPT_JSON_DEPTH_HARD; /* jansson allows 2048 */
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
    if (!ctx) return 0;
    trpt_error err;
    int rc = trpt__json_validate(ctx, (const char *)data, size, &err);
    if (rc != TRPT_OK) fuzz_check_error(rc, &err);

    if (size && memchr(data, 0, size)) {
        FUZZ_CHECK(rc != TRPT_OK, "trpt accepts a raw NUL byte");
        trpt_ctx_free(ctx);
        return 0;
    }
    json_error_t je;
    json_t *doc = json_loadb((const char *)data, size,
                             JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (doc) {
        int big = has_big_int(doc);
        if (rc == TRPT_E_LIMIT && strstr(err.message, "2^53"))
            FUZZ_CHECK(big, "2^53 refusal, but jansson sees no such integer");
        else if (rc != TRPT_E_LIMIT)
            FUZZ_CHECK(rc == TRPT_OK, "jansson accepts, trpt says %s at %zu: %s",
                       trpt_code_name(rc), err.offset, err.message);
        if (rc == TRPT_OK) FUZZ_CHECK(!big, "trpt accepts an integer beyond 2^53-1");
        json_decref(doc);
    } else if (!jansson_only(&je)) {
        FUZZ_CHECK(rc != TRPT_OK, "trpt accepts, jansson refuses at %d: %s", je.position,
                   je.text);
        /* The report parser runs the same scanner (gzip input aside, and
         * a UTF-8 BOM, which it skips with a warning). */
        int gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
        int bom = size >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf;
        if (!gzip && !bom) {
            trpt_report r;
            trpt_ctx_reset(ctx);
            int rr = trpt_parse_report(ctx, data, size, NULL, &r, &err);
            FUZZ_CHECK(rr != TRPT_OK, "report parser accepts what jansson refuses: %s", je.text);
        }
    }
    trpt_ctx_free(ctx);
    return 0;
}
