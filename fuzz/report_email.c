/* Fuzz target: report e-mail (RFC 8460 §5.3), trpt_parse_report_email,
 * lenient and strict: strict never accepts what lenient rejects, and a
 * strict success carries no warnings. Then the lenient parse once more
 * with one allocation failing (see report_json.c). */
#include "common.h"

static void touch_email(const trpt_report_email *m)
{
    fuzz_touch_report(&m->report);
    fuzz_touch(m->tls_report_domain);
    fuzz_touch(m->tls_report_submitter);
    fuzz_touch(m->subject);
    fuzz_touch(m->from);
    fuzz_touch(m->date);
    fuzz_touch(m->message_id);
    fuzz_touch(m->part_content_type);
    fuzz_touch(m->filename);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_limits lim;
    fuzz_limits(&lim);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, &lim);
    if (!ctx) return 0;
    trpt_report_email m1, m2;
    trpt_error e1, e2;
    trpt_parse_opts lo = { 0 }, so = { 1 };
    int rc1 = trpt_parse_report_email(ctx, data, size, &lo, &m1, &e1);
    int rc2 = trpt_parse_report_email(ctx, data, size, &so, &m2, &e2);
    if (rc1 != TRPT_OK) {
        fuzz_check_error(rc1, &e1);
        FUZZ_CHECK(rc1 != TRPT_E_STRICT, "lenient parse returned the strict code");
        FUZZ_CHECK(rc2 != TRPT_OK, "strict accepts what lenient rejects (%s: %s)",
                   trpt_code_name(rc1), e1.message);
    } else {
        touch_email(&m1);
        fuzz_check_report_limits(&m1.report, &lim);
        int clean = m1.report.nwarnings == 0 && m1.report.nwarnings_dropped == 0;
        FUZZ_CHECK(clean == (rc2 == TRPT_OK), "lenient %zu warnings (first %s), strict %s: %s",
                   m1.report.nwarnings, m1.report.nwarnings ? m1.report.warnings[0].code : "-",
                   trpt_code_name(rc2), rc2 ? e2.message : "ok");
    }
    if (rc2 != TRPT_OK) {
        fuzz_check_error(rc2, &e2);
    } else {
        touch_email(&m2);
        FUZZ_CHECK(m2.report.nwarnings == 0, "strict parse with warnings");
    }
    trpt_ctx_free(ctx);

    fuzz_oom oom = { 0, 0 };
    if (!(ctx = trpt_ctx_new(fuzz_oom_alloc, &oom, &lim))) return 0;
    trpt_parse_report_email(ctx, data, size, &lo, &m1, &e1);
    trpt_ctx_free(ctx);
    unsigned long total = oom.count;
    if (total < 2) return 0;
    oom.count = 0;
    oom.fail_at = 2 + fuzz_hash(data, size) % (total - 1);
    if (!(ctx = trpt_ctx_new(fuzz_oom_alloc, &oom, &lim))) return 0;
    int rc = trpt_parse_report_email(ctx, data, size, &lo, &m1, &e1);
    if (rc != TRPT_OK) fuzz_check_error(rc, &e1);
    else touch_email(&m1);
    if (oom.count >= oom.fail_at && rc != TRPT_OK && rc != rc1)
        FUZZ_CHECK(rc == TRPT_E_NOMEM, "allocation %lu of %lu failed, got %s: %s", oom.fail_at,
                   total, trpt_code_name(rc), e1.message);
    trpt_ctx_free(ctx);
    return 0;
}
