/* Fuzz target: MTA-STS TXT record (RFC 8461 §3.1), trpt_parse_sts_record.
 * The input is a TXT RRset: records separated by NUL bytes. */
#include "common.h"

static int is_alnum(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_str txt[8];
    size_t n = fuzz_split(data, size, txt, 8);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    if (!ctx) return 0;
    trpt_sts_record r;
    trpt_error err;
    int rc = trpt_parse_sts_record(ctx, txt, n, &r, &err);
    if (rc != TRPT_OK) {
        fuzz_check_error(rc, &err);
    } else {
        FUZZ_CHECK(r.version.len == 5 && memcmp(r.version.ptr, "STSv1", 5) == 0,
                   "version '%.*s'", (int)r.version.len, r.version.ptr);
        /* RFC 8461 §3.1: sts-id = 1*32(ALPHA / DIGIT). */
        FUZZ_CHECK(r.id.len >= 1 && r.id.len <= 32, "id length %zu", r.id.len);
        for (size_t i = 0; i < r.id.len; i++)
            FUZZ_CHECK(is_alnum((unsigned char)r.id.ptr[i]), "id byte 0x%02x",
                       (unsigned char)r.id.ptr[i]);
        fuzz_touch_kvs(r.ext, r.next);
        fuzz_check_raw(r.raw, txt, n);
    }
    trpt_ctx_free(ctx);
    return 0;
}
