/* Fuzz target: TLS-RPT TXT record (RFC 8460 §3), trpt_parse_tlsrpt_record.
 * The input is a TXT RRset: records separated by NUL bytes. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_str txt[8];
    size_t n = fuzz_split(data, size, txt, 8);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    if (!ctx) return 0;
    trpt_tlsrpt_record r;
    trpt_error err;
    int rc = trpt_parse_tlsrpt_record(ctx, txt, n, &r, &err);
    if (rc != TRPT_OK) {
        fuzz_check_error(rc, &err);
    } else {
        /* RFC 8460 §3: a valid record has v=TLSRPTv1 and at least one rua. */
        FUZZ_CHECK(r.version.len == 8 && memcmp(r.version.ptr, "TLSRPTv1", 8) == 0,
                   "version '%.*s'", (int)r.version.len, r.version.ptr);
        FUZZ_CHECK(r.nrua > 0 && r.rua, "valid record without rua");
        for (size_t i = 0; i < r.nrua; i++) {
            fuzz_touch(r.rua[i].uri);
            fuzz_touch(r.rua[i].target);
            FUZZ_CHECK(r.rua[i].scheme == TRPT_RUA_MAILTO || r.rua[i].scheme == TRPT_RUA_HTTPS,
                       "rua scheme %d", r.rua[i].scheme);
            FUZZ_CHECK(r.rua[i].uri.len > 0, "empty rua uri");
        }
        fuzz_touch_kvs(r.ext, r.next);
        fuzz_check_raw(r.raw, txt, n);
    }
    trpt_ctx_free(ctx);
    return 0;
}
