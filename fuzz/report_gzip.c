/* Fuzz target: the gzip path. trpt_gunzip on the raw input under tight
 * limits, and trpt_parse_report (which takes the gzip branch on 1f 8b). A
 * successful inflate must respect max_decompressed, and parsing the gzip
 * must agree with parsing what it inflates to. The ctx (and its cached
 * inflater) is reused across calls, as callers do; the first call reads a
 * copy that is freed before the next call, so any state that still points
 * into an earlier input shows up as a use after free. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_limits lim;
    fuzz_limits(&lim);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
    if (!ctx) return 0;
    trpt_str plain;
    trpt_error err;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        trpt_ctx_free(ctx);
        return 0;
    }
    if (size) memcpy(copy, data, size);
    int rc = trpt_gunzip(ctx, copy, size, &plain, &err);
    free(copy);
    if (rc != TRPT_OK) {
        fuzz_check_error(rc, &err);
    } else {
        fuzz_touch(plain);
        FUZZ_CHECK(plain.len <= lim.max_decompressed, "inflated %zu > cap", plain.len);
    }

    trpt_report r1, r2;
    trpt_error e1, e2;
    int rc1 = trpt_parse_report(ctx, data, size, NULL, &r1, &e1);
    if (rc1 != TRPT_OK) {
        fuzz_check_error(rc1, &e1);
    } else {
        fuzz_touch_report(&r1);
        fuzz_check_report_limits(&r1, &lim);
    }
    if (rc == TRPT_OK && size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        int rc2 = trpt_parse_report(ctx, plain.ptr, plain.len, NULL, &r2, &e2);
        /* Same outcome, unless the inflated text trips max_input (a cap on
         * the raw input only) or is itself a gzip (inflated once only). */
        if (plain.len <= lim.max_input &&
            !(plain.len >= 2 && (unsigned char)plain.ptr[0] == 0x1f &&
              (unsigned char)plain.ptr[1] == 0x8b))
            FUZZ_CHECK(rc1 == rc2, "gzip parse %s, inflated parse %s", trpt_code_name(rc1),
                       trpt_code_name(rc2));
        if (rc2 == TRPT_OK) {
            fuzz_touch_report(&r2);
            if (rc1 == TRPT_OK)
                FUZZ_CHECK(r1.npolicies == r2.npolicies && r1.nwarnings == r2.nwarnings &&
                               r1.start_epoch == r2.start_epoch && r1.end_epoch == r2.end_epoch,
                           "gzip and inflated parses differ");
        }
    }
    trpt_ctx_free(ctx);
    return 0;
}
