/* C core benchmark: the same job as ../shared/bench peers (gunzip if
 * needed, parse every RFC 8460 field, sum failed-session-count) through
 * trpt_parse_report, one ctx reset per report as a long-running consumer
 * would. Prints the peers' line plus peak memory from a counting allocator
 * (every byte the ctx allocates, libdeflate's decompressor included):
 *   tlsrpt-c <file> reports_per_s=<x> mb_per_s=<y> checksum=<z> peak_bytes=<b> peak_ratio=<r>
 * usage: bench_core FILE [REPS] */
#include "trpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct counter {
    size_t cur, peak;
} counter;

/* Counts live bytes of every allocation made through the ctx. */
static void *counting_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    counter *c = ud;
    if (nsize == 0) {
        if (p) {
            size_t *h = (size_t *)p - 2;
            c->cur -= h[0];
            free(h);
        }
        return NULL;
    }
    size_t old = 0;
    size_t *h = NULL;
    if (p) {
        h = (size_t *)p - 2;
        old = h[0];
    }
    size_t *n = realloc(h, nsize + 2 * sizeof(size_t));
    if (!n) return NULL;
    n[0] = nsize;
    c->cur = c->cur - old + nsize;
    if (c->cur > c->peak) c->peak = c->cur;
    (void)osize;
    return n + 2;
}

#ifdef TRPT_HAVE_LIBDEFLATE
#include <libdeflate.h>
/* libdeflate (big .gz members) allocates its decompressor from a process-wide
 * allocator, not the ctx's: count it in the same counter. */
static counter *deflate_counter;
static void *deflate_malloc(size_t n) { return counting_alloc(deflate_counter, NULL, 0, n); }
static void deflate_free(void *p) { counting_alloc(deflate_counter, p, 0, 0); }
#endif

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long long checksum(const trpt_report *r)
{
    long long s = 0;
    for (size_t i = 0; i < r->npolicies; i++)
        for (size_t k = 0; k < r->policies[i].nfailures; k++)
            s += r->policies[i].failures[k].failed_session_count;
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s FILE [REPS]\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long flen = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)flen + 1);
    if (!buf || fread(buf, 1, (size_t)flen, f) != (size_t)flen) {
        fprintf(stderr, "%s: short read\n", argv[1]);
        return 1;
    }
    fclose(f);
    size_t len = (size_t)flen;

    counter cnt = { 0, 0 };
#ifdef TRPT_HAVE_LIBDEFLATE
    deflate_counter = &cnt;
    libdeflate_set_memory_allocator(deflate_malloc, deflate_free);
#endif
    trpt_ctx *ctx = trpt_ctx_new(counting_alloc, &cnt, NULL);
    trpt_report r;
    trpt_error e;
    /* Untimed warm-up; it also gives the JSON size and the peak memory of
     * a first parse in a fresh ctx. */
    if (trpt_parse_report(ctx, buf, len, NULL, &r, &e)) {
        fprintf(stderr, "%s: %s: %s\n", argv[1], e.path, e.message);
        return 1;
    }
    size_t json_len = len;
    if (len >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b) {
        trpt_str z;
        trpt_ctx *c2 = trpt_ctx_new(NULL, NULL, NULL);
        trpt_gunzip(c2, buf, len, &z, NULL);
        json_len = z.len;
        trpt_ctx_free(c2);
    }
    size_t peak = cnt.peak;
    long long want = checksum(&r);
    int reps = argc == 3 ? atoi(argv[2]) : (int)(128000000 / (json_len + 1));
    if (reps < 3) reps = 3;
    if (argc < 3 && reps > 20000) reps = 20000;
    double t0 = now_s();
    for (int i = 0; i < reps; i++) {
        trpt_ctx_reset(ctx);
        if (trpt_parse_report(ctx, buf, len, NULL, &r, &e) || checksum(&r) != want) {
            fprintf(stderr, "%s: rep %d failed\n", argv[1], i);
            return 1;
        }
    }
    double dt = now_s() - t0;
    printf("tlsrpt-c %s reports_per_s=%.2f mb_per_s=%.1f checksum=%lld peak_bytes=%zu "
           "peak_ratio=%.2f\n",
           argv[1], reps / dt, (double)json_len * reps / dt / 1e6, want, peak,
           (double)peak / (double)json_len);
    trpt_ctx_free(ctx);
    free(buf);
    return 0;
}
