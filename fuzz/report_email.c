/* Fuzz target: report e-mail (RFC 8460 §5.3), trpt_parse_report_email,
 * lenient and strict (they must agree), then with one allocation failing:
 * see fuzz_report_modes in common.h. */
#include "common.h"

static void touch(const void *out)
{
    const trpt_report_email *m = out;
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

static int parse(trpt_ctx *ctx, const uint8_t *data, size_t size, const trpt_parse_opts *o,
                 void *out, trpt_error *e)
{
    return trpt_parse_report_email(ctx, data, size, o, out, e);
}

static const trpt_report *report(const void *out)
{
    return &((const trpt_report_email *)out)->report;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const fuzz_report_entry ep = { parse, touch, report };
    trpt_report_email m1, m2;
    return fuzz_report_modes(&ep, data, size, &m1, &m2);
}
