/* Fuzz target: report JSON (RFC 8460 §4), trpt_parse_report, lenient and
 * strict (they must agree), then with one allocation failing: see
 * fuzz_report_modes in common.h. */
#include "common.h"

static int parse(trpt_ctx *ctx, const uint8_t *data, size_t size, const trpt_parse_opts *o,
                 void *out, trpt_error *e)
{
    return trpt_parse_report(ctx, data, size, o, out, e);
}

static void touch(const void *out) { fuzz_touch_report(out); }

static const trpt_report *report(const void *out) { return out; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const fuzz_report_entry ep = { parse, touch, report };
    trpt_report r1, r2;
    return fuzz_report_modes(&ep, data, size, &r1, &r2);
}
