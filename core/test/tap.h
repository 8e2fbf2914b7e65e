/* Minimal TAP producer for the C tests: ok/is macros, file helpers.
 * Each test program prints TAP; spec/run-all.sh counts the results. */
#ifndef TLSRPT_TAP_H
#define TLSRPT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static __attribute__((unused)) int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tap_n++;
    if (!cond) tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond) printf("#   at %s:%d\n", file, line);
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                          \
    do {                                                                                \
        long long g_ = (long long)(got), w_ = (long long)(want);                        \
        if (!tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))                         \
            printf("#   got %lld, want %lld\n", g_, w_);                                \
    } while (0)
#define is_str(got, glen, want, ...)                                                    \
    do {                                                                                \
        const char *w_ = (want);                                                        \
        size_t gl_ = (glen);                                                            \
        int c_ = (got) && strlen(w_) == gl_ && memcmp((got), w_, gl_) == 0;             \
        if (!tap_ok(c_, __FILE__, __LINE__, __VA_ARGS__))                               \
            printf("#   got '%.*s', want '%s'\n", (int)gl_, (got) ? (got) : "", w_);     \
    } while (0)

static __attribute__((unused)) int done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

/* Directory of the shared real corpus (../shared/corpus/real), or NULL when
 * absent: tests that need it then skip. TLSRPT_SHARED overrides ../shared. */
static __attribute__((unused)) const char *tap_real_corpus(void)
{
    static char buf[4096];
    const char *s = getenv("TLSRPT_SHARED");
    snprintf(buf, sizeof buf, "%s/corpus/real", s && *s ? s : "../shared");
    FILE *f;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/SOURCES.md", buf);
    if (!(f = fopen(probe, "rb"))) return NULL;
    fclose(f);
    return buf;
}

/* A TAP skip line: counts as a passing test. */
static __attribute__((unused)) void tap_skip(const char *why)
{
    printf("ok %d # skip %s\n", ++tap_n, why);
    fflush(stdout);
}

/* tap_real_corpus(), or NULL after a skip line when the corpus is absent. */
static __attribute__((unused)) const char *tap_real_corpus_or_skip(void)
{
    const char *dir = tap_real_corpus();
    if (!dir) tap_skip("real corpus not found (set TLSRPT_SHARED)");
    return dir;
}

/* Whole file, NUL-terminated, malloc'd; NULL if unreadable. */
static __attribute__((unused)) char *tap_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) { free(b); b = NULL; }
            else b = nb;
        }
    }
    fclose(f);
    if (!b) return NULL;
    b[n] = 0;
    if (len) *len = n;
    return b;
}

#endif
