/* Fuzz target: report JSON (RFC 8460 §4), trpt_parse_report, lenient and
 * strict. Strict mode rejects exactly the deviations lenient mode warns
 * about, so the two modes must agree. Then the lenient parse once more
 * with one allocation failing: TRPT_E_NOMEM (or success, if that
 * allocation had a fallback), never a crash or a leak. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_limits lim;
    fuzz_limits(&lim);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
    if (!ctx) return 0;
    trpt_report lenient, strict;
    trpt_error e1, e2;
    trpt_parse_opts lo = { 0 }, so = { 1 };
    int rc1 = trpt_parse_report(ctx, data, size, &lo, &lenient, &e1);
    int rc2 = trpt_parse_report(ctx, data, size, &so, &strict, &e2);
    if (rc1 != TRPT_OK) {
        fuzz_check_error(rc1, &e1);
        FUZZ_CHECK(rc1 != TRPT_E_STRICT, "lenient parse returned the strict code");
        FUZZ_CHECK(rc2 != TRPT_OK, "strict accepts what lenient rejects (%s: %s)",
                   trpt_code_name(rc1), e1.message);
    } else {
        fuzz_touch_report(&lenient);
        fuzz_check_report_limits(&lenient, &lim);
        int clean = lenient.nwarnings == 0 && lenient.nwarnings_dropped == 0;
        FUZZ_CHECK(clean == (rc2 == TRPT_OK), "lenient %zu warnings (first %s), strict %s: %s",
                   lenient.nwarnings, lenient.nwarnings ? lenient.warnings[0].code : "-",
                   trpt_code_name(rc2), rc2 ? e2.message : "ok");
    }
    if (rc2 != TRPT_OK) {
        fuzz_check_error(rc2, &e2);
    } else {
        fuzz_touch_report(&strict);
        FUZZ_CHECK(strict.nwarnings == 0, "strict parse with warnings");
    }
    trpt_ctx_free(ctx);

    /* Count the allocations of a lenient parse, then fail one of them. */
    fuzz_oom oom = { 0, 0 };
    trpt_report r;
    if (!(ctx = trpt_ctx_new(fuzz_oom_alloc, &oom, &lim))) return 0;
    trpt_parse_report(ctx, data, size, &lo, &r, &e1);
    trpt_ctx_free(ctx);
    unsigned long total = oom.count;
    if (total < 2) return 0;
    oom.count = 0;
    oom.fail_at = 2 + fuzz_hash(data, size) % (total - 1); /* 1 is the ctx itself */
    if (!(ctx = trpt_ctx_new(fuzz_oom_alloc, &oom, &lim))) return 0;
    int rc = trpt_parse_report(ctx, data, size, &lo, &r, &e1);
    if (rc != TRPT_OK) fuzz_check_error(rc, &e1);
    else fuzz_touch_report(&r);
    if (oom.count >= oom.fail_at && rc != TRPT_OK && rc != rc1)
        FUZZ_CHECK(rc == TRPT_E_NOMEM, "allocation %lu of %lu failed, got %s: %s", oom.fail_at,
                   total, trpt_code_name(rc), e1.message);
    trpt_ctx_free(ctx);
    return 0;
}
