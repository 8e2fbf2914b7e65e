/* Helpers shared by the C tests that need the library's types: a counting
 * allocator that can inject failures, a driver for allocation-failure
 * loops, a line iterator, gzip and raw deflate compressors, and the checks every
 * shared-vector loop makes.
 * Include after tap.h, trpt.h and vectors.h. Everything is static and
 * marked unused so a test that takes only part of it compiles quietly. */
#ifndef TLSRPT_TESTUTIL_H
#define TLSRPT_TESTUTIL_H

#include "tap.h"
#include "trpt.h"
#include "vectors.h"

#include <stdint.h>
#include <zlib.h>

#define TU_UNUSED __attribute__((unused))

/* zlib's deflate of in[0..n) into out (cap bytes; compressBound(n) + 64 is
 * enough) with the given level, windowBits (16 + 15: gzip, -15: raw) and
 * strategy; returns the compressed length. */
static TU_UNUSED size_t tu_deflate(const void *in, size_t n, unsigned char *out, size_t cap,
                                   int level, int wbits, int strategy)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, level, Z_DEFLATED, wbits, 8, strategy);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t o = z.total_out;
    deflateEnd(&z);
    return o;
}

/* gzip of in[0..n) into out, as a sender would make it. */
static TU_UNUSED size_t tu_gzip(const void *in, size_t n, unsigned char *out, size_t cap)
{
    return tu_deflate(in, n, out, cap, 9, 16 + MAX_WBITS, Z_DEFAULT_STRATEGY);
}

/* ------------------------------------------------ counting allocator */

/* ud of tu_alloc_fn. left: allocations that still succeed before every
 * further one fails (only the next one, with once); negative: none fails.
 * live: bytes held right now. */
typedef struct tu_alloc {
    long left;
    long long live;
    int once;
} tu_alloc;

static TU_UNUSED void *tu_alloc_fn(void *ud, void *p, size_t osize, size_t nsize)
{
    tu_alloc *a = ud;
    if (nsize == 0) {
        if (p) a->live -= (long long)osize;
        free(p);
        return NULL;
    }
    if (a->left == 0) {
        if (a->once) a->left = -1;
        return NULL;
    }
    if (a->left > 0) a->left--;
    void *q = realloc(p, nsize);
    if (q) a->live += (long long)nsize - (long long)(p ? osize : 0);
    return q;
}

/* What tu_nomem_run saw. */
typedef struct tu_nomem {
    int tries;      /* budgets tried */
    int nomem;      /* attempts that reported TRPT_E_NOMEM */
    int other;      /* attempts that gave anything else but success */
    int leaks;      /* attempts that left bytes allocated */
    int succeeded;  /* the last attempt gave the complete result */
} tu_nomem;

/* Returned by an attempt whose call succeeded with an incomplete result. */
#define TU_INCOMPLETE (-1)

/* Runs attempt(a, arg) under the allocation budgets first, first+1, ...
 * (below last) until one succeeds: every allocation failure on the way must
 * surface as TRPT_E_NOMEM and free what it took. attempt returns TRPT_OK
 * only for the complete expected result, TU_INCOMPLETE for a wrong one. */
static TU_UNUSED void tu_nomem_run(tu_nomem *r, long first, long last,
                                   int (*attempt)(tu_alloc *a, void *arg), void *arg)
{
    memset(r, 0, sizeof *r);
    for (long n = first; n < last && !r->succeeded; n++) {
        tu_alloc a = { n, 0, 0 };
        int rc = attempt(&a, arg);
        r->tries++;
        if (rc == TRPT_E_NOMEM) r->nomem++;
        else if (rc == TRPT_OK) r->succeeded = 1;
        else {
            r->other++;
            printf("# budget %ld: unexpected %s\n", n,
                   rc == TU_INCOMPLETE ? "incomplete result" : trpt_code_name(rc));
        }
        r->leaks += a.live != 0;
    }
}

/* The three verdicts of a parser's allocation-failure loop. */
static TU_UNUSED void tu_nomem_ok(const tu_nomem *r)
{
    ok(r->nomem > 0, "allocation failures report nomem (%d budgets)", r->nomem);
    ok(r->succeeded, "the parse succeeds once memory suffices");
    is_int(r->leaks, 0, "no leak after any allocation failure");
}

/* ------------------------------------------------------------- lines */

/* Next line of the NUL-terminated text at *cur, without its LF (a last
 * line without one counts too); 0 at the end. */
static TU_UNUSED int tu_next_line(const char **cur, trpt_str *line)
{
    const char *p = *cur;
    if (!*p) return 0;
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    *line = (trpt_str){ p, n };
    *cur = nl ? nl + 1 : p + n;
    return 1;
}

/* ---------------------------------------------------- shared vectors */

/* vec_load with a TAP line "<name> loads (N vectors)"; 0 on failure. */
static TU_UNUSED int tu_vec_load(vec_file *f, const char *name)
{
    char msg[300];
    long n = vec_load(f, name, msg, sizeof msg);
    if (!ok(n > 0, "%s loads (%ld vectors)", name, n)) {
        printf("#   %s\n", msg);
        return 0;
    }
    return 1;
}

/* The parser's code against the vector's expectation ("ok" or the error
 * code name); an expected error must also carry its code and a message. */
static TU_UNUSED void tu_vec_code(const char *file, const vec *v, int rc, const trpt_error *e)
{
    const char *want = v->ok ? "ok" : v->code;
    if (!ok(strcmp(trpt_code_name(rc), want) == 0, "%s:%d: %s", file, v->line, want))
        printf("#   got %s: %s\n#   input: %s\n", trpt_code_name(rc), rc ? e->message : "", v->text);
    else if (rc)
        ok(e->message[0] != '\0' && e->code == rc, "line %d: error has a message", v->line);
}

/* The bytes a result holds for one assertion key; found = 0: none. */
typedef struct tu_got {
    const char *ptr;
    size_t len;
    int found;
    char num[32];
} tu_got;

static TU_UNUSED void tu_got_str(tu_got *g, trpt_str s)
{
    g->ptr = s.ptr ? s.ptr : "";
    g->len = s.len;
    g->found = 1;
}

static TU_UNUSED void tu_got_num(tu_got *g, long long n)
{
    snprintf(g->num, sizeof g->num, "%lld", n);
    tu_got_str(g, (trpt_str){ g->num, strlen(g->num) });
}

/* "extN.key" / "extN.value", N 1-based, out of a result's extensions. */
static TU_UNUSED void tu_got_ext(tu_got *g, const char *key, const trpt_kv *ext, size_t next)
{
    size_t i;
    char what[16];
    if (sscanf(key, "ext%zu.%15s", &i, what) != 2 || i == 0 || i > next) return;
    if (strcmp(what, "key") == 0) tu_got_str(g, ext[i - 1].key);
    else if (strcmp(what, "value") == 0) tu_got_str(g, ext[i - 1].value);
}

/* Checks each "key=value" assertion of v ("limit.*" are options, not
 * assertions): on success against lookup(res, key), on failure against the
 * error's path and offset. */
static TU_UNUSED void tu_vec_asserts(const vec *v, void (*lookup)(const void *res, const char *key, tu_got *g),
                                     const void *res, const trpt_error *e)
{
    for (size_t i = 0; i < v->nassert; i++) {
        const char *k = v->key[i];
        if (strncmp(k, "limit.", 6) == 0) continue;
        tu_got g = { 0 };
        if (v->ok) lookup(res, k, &g);
        else if (strcmp(k, "path") == 0) tu_got_str(&g, (trpt_str){ e->path, strlen(e->path) });
        else if (strcmp(k, "offset") == 0 && e->offset != TRPT_NO_OFFSET)
            tu_got_num(&g, (long long)e->offset);
        int same = g.found && g.len == v->val[i].len && memcmp(g.ptr, v->val[i].ptr, g.len) == 0;
        if (!ok(same, "line %d: %s", v->line, k)) {
            if (g.found) printf("#   got '%.*s', want '%s'\n", (int)g.len, g.ptr, v->val[i].ptr);
            else printf("#   '%s' not present in the result\n", k);
        }
    }
}

#endif
