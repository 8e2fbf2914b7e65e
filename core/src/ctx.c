/* Context: allocator, arena, limits and error helpers. */
#include "internal.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>

/* Arena blocks grow geometrically so a large report needs few of them,
 * while a small record parse touches a single small block. */
#define CHUNK_MIN 4096
#define CHUNK_MAX (1u << 22)
#define CHUNK_BIG (1u << 16)
#define ALIGN 16

/* The allocator may hand out blocks aligned to 8 only (LuaJIT's does), so
 * each block is over-allocated by ALIGN-1 and its data start rounded up. */
struct trpt_chunk {
    struct trpt_chunk *next;
    size_t size;          /* usable bytes from chunk_data() */
};
#define CHUNK_BYTES(sz) (sizeof(struct trpt_chunk) + (sz) + (ALIGN - 1))

static char *chunk_data(struct trpt_chunk *c)
{
    uintptr_t p = (uintptr_t)(c + 1);
    return (char *)((p + (ALIGN - 1)) & ~(uintptr_t)(ALIGN - 1));
}

static void *default_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, nsize);
}

void *trpt__mem(trpt_ctx *ctx, void *p, size_t osize, size_t nsize)
{
    return ctx->alloc(ctx->ud, p, osize, nsize);
}

void trpt_limits_default(trpt_limits *lim)
{
    lim->max_input = (size_t)64 << 20;
    lim->max_decompressed = (size_t)256 << 20;
    lim->max_ratio = 200;
    lim->max_depth = 32;
    lim->max_string = (size_t)1 << 20;
    lim->max_elements = 1000000;
    lim->max_warnings = 1000;
}

trpt_ctx *trpt_ctx_new(trpt_alloc_fn alloc, void *ud, const trpt_limits *limits)
{
    if (!alloc) alloc = default_alloc;
    trpt_ctx *ctx = alloc(ud, NULL, 0, sizeof *ctx);
    if (!ctx) return NULL;
    memset(ctx, 0, sizeof *ctx);
    ctx->alloc = alloc;
    ctx->ud = ud;
    if (limits) ctx->limits = *limits;
    else trpt_limits_default(&ctx->limits);
    return ctx;
}

void trpt_ctx_reset(trpt_ctx *ctx)
{
    if (!ctx) return;
    /* Keep the largest block for reuse: repeated parses of similar inputs
     * then run without touching the allocator. */
    struct trpt_chunk *keep = ctx->chunks;
    for (struct trpt_chunk *c = ctx->chunks; c; c = c->next)
        if (c->size > keep->size) keep = c;
    for (struct trpt_chunk *c = ctx->chunks, *n; c; c = n) {
        n = c->next;
        if (c != keep) ctx->alloc(ctx->ud, c, CHUNK_BYTES(c->size), 0);
    }
    ctx->chunks = keep;
    if (keep) {
        keep->next = NULL;
        ctx->cur = chunk_data(keep);
        ctx->end = ctx->cur + keep->size;
        ctx->bytes = keep->size;
    } else {
        ctx->cur = ctx->end = NULL;
        ctx->bytes = 0;
    }
}

void trpt_ctx_free(trpt_ctx *ctx)
{
    if (!ctx) return;
    trpt_ctx_reset(ctx);
    if (ctx->chunks) ctx->alloc(ctx->ud, ctx->chunks, CHUNK_BYTES(ctx->chunks->size), 0);
    if (ctx->inflater_free) ctx->inflater_free(ctx);
    ctx->alloc(ctx->ud, ctx, sizeof *ctx, 0);
}

const trpt_limits *trpt_ctx_limits(const trpt_ctx *ctx) { return &ctx->limits; }

void trpt_ctx_set_limits(trpt_ctx *ctx, const trpt_limits *limits)
{
    if (limits) ctx->limits = *limits;
    else trpt_limits_default(&ctx->limits);
}

size_t trpt_ctx_bytes(const trpt_ctx *ctx) { return ctx->bytes; }

void *trpt_ctx_alloc(trpt_ctx *ctx, size_t n)
{
    if (n > SIZE_MAX - (ALIGN - 1)) return NULL; /* rounding up would wrap to 0 */
    n = (n + (ALIGN - 1)) & ~(size_t)(ALIGN - 1);
    if (n == 0) n = ALIGN;
    if (TRPT_LIKELY((size_t)(ctx->end - ctx->cur) >= n)) {
        void *p = ctx->cur;
        ctx->cur += n;
        return p;
    }
    size_t want = ctx->chunks ? ctx->chunks->size * 2 : CHUNK_MIN;
    if (want < CHUNK_MIN) want = CHUNK_MIN; /* after a small trpt__ctx_reserve */
    if (want > CHUNK_MAX) want = CHUNK_MAX;
    /* A big request of half the step or more (a decompressed buffer) gets
     * a block of exactly its size, behind the head: rounding it up to the
     * step would waste up to half of a large block. */
    if (want < n || (n >= want / 2 && n >= CHUNK_BIG)) want = n;
    if (want > SIZE_MAX - CHUNK_BYTES(0)) return NULL;
    struct trpt_chunk *c = ctx->alloc(ctx->ud, NULL, 0, CHUNK_BYTES(want));
    if (!c) return NULL;
    c->size = want;
    ctx->bytes += want;
    if (ctx->chunks && (size_t)(ctx->end - ctx->cur) > want - n) {
        /* The new block would leave less room than the current one: link it
         * behind the head so the bump region stays where it is. */
        c->next = ctx->chunks->next;
        ctx->chunks->next = c;
        return chunk_data(c);
    }
    c->next = ctx->chunks;
    ctx->chunks = c;
    ctx->cur = chunk_data(c) + n;
    ctx->end = chunk_data(c) + want;
    return chunk_data(c);
}

int trpt__ctx_reserve(trpt_ctx *ctx, size_t n)
{
    if (n > SIZE_MAX - (ALIGN - 1)) return -1;
    n = (n + (ALIGN - 1)) & ~(size_t)(ALIGN - 1);
    if (n == 0) n = ALIGN;
    if ((size_t)(ctx->end - ctx->cur) >= n) return 0;
    if (n > SIZE_MAX - CHUNK_BYTES(0)) return -1;
    struct trpt_chunk *c = ctx->alloc(ctx->ud, NULL, 0, CHUNK_BYTES(n));
    if (!c) return -1;
    /* The new block becomes the bump region; what is left in the old head
     * is given up (less than n bytes). */
    c->size = n;
    c->next = ctx->chunks;
    ctx->chunks = c;
    ctx->bytes += n;
    ctx->cur = chunk_data(c);
    ctx->end = ctx->cur + n;
    return 0;
}

char *trpt__strdup(trpt_ctx *ctx, const char *s, size_t n)
{
    char *p = trpt_ctx_alloc(ctx, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

int trpt__fail(trpt_error *err, int code, size_t offset, const char *rfc, const char *path,
               const char *fmt, ...)
{
    if (!err) return code;
    err->code = code;
    err->offset = offset;
    err->rfc = rfc;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    trpt__text_clean(err->path);
    trpt__text_clean(err->message);
    return code;
}

void *trpt__vec_push(trpt_ctx *ctx, trpt_vec *v)
{
    if (v->len == v->cap) {
        if (!v->data && v->inl_cap) {
            v->data = v->inl;
            v->cap = v->inl_cap;
            return v->data + v->elem * v->len++;
        }
        /* The first array takes about 256 bytes whatever the element size
         * (8 policy results were 1 KiB, more than a small report). */
        size_t ncap = v->cap ? v->cap * 2 : (v->elem < 128 ? 256 / v->elem : 2);
        if (ncap > SIZE_MAX / v->elem) return NULL;
        int inl = v->data && v->data == v->inl;
        char *d = trpt__mem(ctx, inl ? NULL : v->data, inl ? 0 : v->cap * v->elem,
                            ncap * v->elem);
        if (!d) return NULL;
        if (inl) memcpy(d, v->data, v->len * v->elem);
        v->data = d;
        v->cap = ncap;
    }
    return v->data + v->elem * v->len++;
}

void trpt__vec_free(trpt_ctx *ctx, trpt_vec *v)
{
    if (v->data && v->data != v->inl) trpt__mem(ctx, v->data, v->cap * v->elem, 0);
    v->data = NULL;
    v->len = v->cap = 0;
}

void *trpt__vec_finish(trpt_ctx *ctx, trpt_vec *v)
{
    void *out = NULL;
    if (v->len) {
        out = trpt_ctx_alloc(ctx, v->len * v->elem);
        if (out) memcpy(out, v->data, v->len * v->elem);
    }
    trpt__vec_free(ctx, v);
    return out;
}

static const char *const code_names[TRPT_E__COUNT] = {
    [TRPT_OK] = "ok",
    [TRPT_E_NOMEM] = "nomem",
    [TRPT_E_ARG] = "arg",
    [TRPT_E_SYNTAX] = "syntax",
    [TRPT_E_NO_RECORD] = "no_record",
    [TRPT_E_MULTIPLE] = "multiple",
    [TRPT_E_VERSION] = "version",
    [TRPT_E_FIELD] = "field",
    [TRPT_E_LIMIT] = "limit",
    [TRPT_E_UTF8] = "utf8",
    [TRPT_E_DUPLICATE] = "duplicate",
    [TRPT_E_GZIP] = "gzip",
    [TRPT_E_NO_REPORT] = "no_report",
    [TRPT_E_STRICT] = "strict",
    [TRPT_E_DNS] = "dns",
    [TRPT_E_NXDOMAIN] = "nxdomain",
    [TRPT_E_IO] = "io",
};

const char *trpt_code_name(int code)
{
    if (code < 0 || code >= TRPT_E__COUNT) return "unknown";
    return code_names[code];
}
