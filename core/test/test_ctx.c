/* Arena, limits and error helpers. */
#include "tap.h"
#include "trpt.h"
#include "testutil.h"
#include "json.h" /* trpt__ctx_reserve (hidden; the test links libtrpt.a) */
#include "utf8.h" /* trpt__text_clean (hidden) */

#include <stdint.h>

int main(void)
{
    trpt_limits lim;
    trpt_limits_default(&lim);
    ok(lim.max_depth > 0 && lim.max_input > 0 && lim.max_ratio > 0, "default limits are set");

    tu_alloc al = { -1, 0, 0 }; /* counts the bytes, fails nothing */
    trpt_ctx *ctx = trpt_ctx_new(tu_alloc_fn, &al, NULL);
    ok(ctx != NULL, "ctx_new with a custom allocator");
    is_int(trpt_ctx_limits(ctx)->max_depth, lim.max_depth, "NULL limits means defaults");

    char *a = trpt_ctx_alloc(ctx, 10), *b = trpt_ctx_alloc(ctx, 1);
    ok(a && b && ((uintptr_t)a % 16) == 0 && ((uintptr_t)b % 16) == 0, "arena blocks are 16-byte aligned");
    ok(b >= a + 10 || a >= b + 1, "arena blocks do not overlap");
    char *big = trpt_ctx_alloc(ctx, 10 << 20);
    ok(big != NULL, "a block larger than the chunk size");
    memset(big, 1, 10 << 20);
    ok(trpt_ctx_bytes(ctx) >= (10u << 20), "ctx_bytes counts the arena");
    trpt_ctx_reset(ctx);
    long long after_reset = al.live;
    int all = 1;
    for (int i = 0; i < 1000; i++) all &= trpt_ctx_alloc(ctx, 100) != NULL;
    ok(all, "1000 small allocations after reset");
    ok(al.live == after_reset, "reset keeps the largest block for reuse (no new allocations)");
    trpt_ctx_free(ctx);
    is_int(al.live, 0, "ctx_free returns every byte to the allocator");

    is_str(trpt_code_name(TRPT_E_LIMIT), strlen(trpt_code_name(TRPT_E_LIMIT)), "limit", "code names");
    is_str(trpt_code_name(-1), strlen(trpt_code_name(-1)), "unknown", "out-of-range code name");
    is_int(trpt_result_type_from("validation-failure", 18), TRPT_RESULT_VALIDATION_FAILURE, "result type lookup");
    is_int(trpt_result_type_from("Testing", 7), TRPT_RESULT_OTHER, "unknown result type");
    ok(trpt_policy_type_name(TRPT_POLICY_NO_POLICY_FOUND) &&
           strcmp(trpt_policy_type_name(TRPT_POLICY_NO_POLICY_FOUND), "no-policy-found") == 0,
       "policy type name");

    /* trpt__ctx_reserve: one block of exactly the size asked (rounded to
     * 16) on a fresh ctx, filled without further allocator calls; no-op
     * while the room suffices; -1 when the allocator fails. */
    al = (tu_alloc){ -1, 0, 0 };
    ctx = trpt_ctx_new(tu_alloc_fn, &al, NULL);
    ok(ctx && trpt__ctx_reserve(ctx, 1000) == 0, "reserve 1000 bytes");
    is_int(trpt_ctx_bytes(ctx), 1008, "a reserved block is the size asked, rounded to 16");
    long long live = al.live;
    all = 1;
    for (int i = 0; i < 9; i++) all &= trpt_ctx_alloc(ctx, 100) != NULL; /* 9 x 112 = 1008 */
    ok(all && al.live == live, "allocations within the reservation call no allocator");
    ok(trpt__ctx_reserve(ctx, 1000) == 0 && trpt_ctx_bytes(ctx) == 2016,
       "reserve past the room adds a block of the size asked");
    ok(trpt__ctx_reserve(ctx, 16) == 0 && trpt_ctx_bytes(ctx) == 2016,
       "reserve within the room allocates nothing");
    ok(trpt__ctx_reserve(ctx, SIZE_MAX) == -1 && trpt__ctx_reserve(ctx, SIZE_MAX - 8) == -1,
       "reserve near SIZE_MAX fails");
    al.left = 0;
    ok(trpt__ctx_reserve(ctx, 4096) == -1, "reserve fails when the allocator does");
    al.left = -1;
    /* A big request (>= 64 KiB, half the growth step or more) gets a block
     * of exactly its size behind the head: the head's room stays in use. */
    char *h = trpt_ctx_alloc(ctx, 16);
    size_t before = trpt_ctx_bytes(ctx);
    char *bigb = trpt_ctx_alloc(ctx, 100000);
    ok(bigb && trpt_ctx_bytes(ctx) == before + 100000, "a big request gets an exact block");
    char *h2 = trpt_ctx_alloc(ctx, 16);
    ok(h && h2 == h + 16 && trpt_ctx_bytes(ctx) == before + 100000,
       "the bump region stays in the head block after a big request");
    trpt_ctx_reset(ctx);
    is_int(trpt_ctx_bytes(ctx), 100000, "reset keeps the largest block");
    trpt_ctx_free(ctx);
    is_int(al.live, 0, "every byte returned");

    /* Security review: a size near SIZE_MAX must fail, not wrap to a
     * 16-byte block when rounded up to the alignment. */
    ctx = trpt_ctx_new(NULL, NULL, NULL);
    ok(ctx && trpt_ctx_alloc(ctx, SIZE_MAX) == NULL, "ctx_alloc(SIZE_MAX) fails");
    ok(ctx && trpt_ctx_alloc(ctx, SIZE_MAX - 8) == NULL, "ctx_alloc(SIZE_MAX - 8) fails");
    trpt_ctx_free(ctx);

    /* Messages quote untrusted input: trpt__text_clean leaves valid UTF-8
     * text and turns controls and broken sequences into '?', in place. */
    static const struct { const char *in, *want, *name; } clean[] = {
        { "plain ASCII ~", "plain ASCII ~", "ASCII kept" },
        { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e \xc2\xa0", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e \xc2\xa0",
          "valid UTF-8 kept, NBSP included" },
        { "a\x1b]0;x\x07\x1b[2Jb\tc\r\n\x7f", "a?]0;x??[2Jb?c???", "C0 controls and DEL" },
        { "x\xc2\x9b" "31m\xc2\x85y", "x??31m??y", "C1 controls (CSI, NEL), both bytes" },
        { "\xff\xfe\x80 \xc0\xaf \xed\xa0\x80", "??? ?? ???", "invalid bytes, overlong, surrogate" },
        { "cut \xe2\x82", "cut ??", "a sequence cut by truncation" },
        { "cut \xf0\x9d\x84", "cut ???", "a 4-byte sequence cut" },
        { "", "", "empty" },
    };
    for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
        char buf[64], *got = buf;
        snprintf(buf, sizeof buf, "%s", clean[i].in);
        trpt__text_clean(got);
        is_str(got, strlen(got), clean[i].want, "%s", clean[i].name);
    }
    return done_testing();
}
