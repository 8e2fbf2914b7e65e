/* Reader for the shared test vectors, spec/vectors/NAME.txt (the busted
 * specs read the same files through spec/helpers/vectors.lua).
 *
 * File format, one vector per line; blank lines and lines starting with
 * '#' are ignored:
 *
 *     <expect> TAB <input> [TAB <input>]...
 *
 * <expect> is "ok" or "err:<code>" (<code> = trpt_code_name()), optionally
 * followed by ";key=value" assertions whose meaning each test defines
 * (e.g. "ok;nrua=2;rua1.target=a@example.com", "err:field;path=rua").
 * Several inputs (several TXT records, or pattern and host) are separated
 * by a literal TAB. Inputs and assertion values use C escapes: \n \r \t
 * \\ \xHH (write \x3b for ';' inside an assertion value). Lines end with
 * LF; a CR before it is part of the line and therefore an error.
 *
 * Usage:
 *     vec_file f;
 *     if (vec_load(&f, "tlsrpt-record.txt", errbuf, sizeof errbuf) < 0) ...
 *     for (size_t i = 0; i < f.n; i++) { const vec *v = &f.v[i]; ... }
 *     vec_free(&f);
 *
 * "limit.<field>=<n>" entries are parse options, not assertions: include
 * trpt.h before this header to get vec_limits().
 */
#ifndef TLSRPT_VECTORS_H
#define TLSRPT_VECTORS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC_MAX_INPUTS 16
#define VEC_MAX_ASSERTS 32

typedef struct vec_bytes {
    const char *ptr;   /* decoded, NUL-terminated (may hold NULs inside) */
    size_t len;
} vec_bytes;

typedef struct vec {
    int line;                          /* 1-based line in the file */
    int ok;                            /* 1: expect success, 0: expect an error */
    const char *code;                  /* error code name when !ok, "" otherwise */
    size_t ninput;
    vec_bytes input[VEC_MAX_INPUTS];
    size_t nassert;
    const char *key[VEC_MAX_ASSERTS];  /* assertion keys, NUL-terminated */
    vec_bytes val[VEC_MAX_ASSERTS];    /* decoded assertion values */
    const char *text;                  /* the undecoded line, for test names */
} vec;

typedef struct vec_file {
    vec *v;
    size_t n;
    char *mem;       /* one block holding every decoded string */
} vec_file;

/* Directory of the vector files: $TLSRPT_VECTORS, else spec/vectors
 * (tests run from the repository root). */
static inline const char *vec_dir(void)
{
    const char *d = getenv("TLSRPT_VECTORS");
    return d && *d ? d : "spec/vectors";
}

static inline int vec__hex(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) in place-compatible fashion into out; returns the decoded
 * length or -1 on a bad escape. out may equal s (decoding only shrinks). */
static inline long vec__unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') { out[o++] = s[i]; continue; }
        if (++i >= n) return -1;
        switch (s[i]) {
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case '\\': out[o++] = '\\'; break;
        case 'x': {
            int h = i + 1 < n ? vec__hex((unsigned char)s[i + 1]) : -1;
            int l = i + 2 < n ? vec__hex((unsigned char)s[i + 2]) : -1;
            if (h < 0 || l < 0) return -1;
            out[o++] = (char)(h * 16 + l);
            i += 2;
            break;
        }
        default: return -1;
        }
    }
    out[o] = '\0';
    return (long)o;
}

static inline void vec_free(vec_file *f)
{
    free(f->v);
    free(f->mem);
    f->v = NULL;
    f->mem = NULL;
    f->n = 0;
}

/* Parses one line (NUL-terminated, no LF) into v, decoding in place. */
static inline int vec__line(char *line, vec *v, char *err, size_t errlen)
{
    char *tab = strchr(line, '\t');
    if (!tab) {
        snprintf(err, errlen, "no TAB between expectation and input");
        return -1;
    }
    *tab = '\0';
    char *p = line, *semi = strchr(p, ';');
    if (semi) *semi = '\0';
    if (strcmp(p, "ok") == 0) {
        v->ok = 1;
        v->code = "";
    } else if (strncmp(p, "err:", 4) == 0 && p[4]) {
        v->ok = 0;
        v->code = p + 4;
    } else {
        snprintf(err, errlen, "expectation '%s' is neither ok nor err:<code>", p);
        return -1;
    }
    while (semi) {
        char *kv = semi + 1;
        semi = strchr(kv, ';');
        if (semi) *semi = '\0';
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv) {
            snprintf(err, errlen, "assertion '%s' is not key=value", kv);
            return -1;
        }
        if (v->nassert == VEC_MAX_ASSERTS) {
            snprintf(err, errlen, "more than %d assertions", VEC_MAX_ASSERTS);
            return -1;
        }
        *eq = '\0';
        long n = vec__unescape(eq + 1, strlen(eq + 1), eq + 1);
        if (n < 0) {
            snprintf(err, errlen, "bad escape in assertion '%s'", kv);
            return -1;
        }
        v->key[v->nassert] = kv;
        v->val[v->nassert].ptr = eq + 1;
        v->val[v->nassert].len = (size_t)n;
        v->nassert++;
    }
    for (char *in = tab + 1; in;) {
        char *next = strchr(in, '\t');
        if (next) *next++ = '\0';
        if (v->ninput == VEC_MAX_INPUTS) {
            snprintf(err, errlen, "more than %d inputs", VEC_MAX_INPUTS);
            return -1;
        }
        long n = vec__unescape(in, strlen(in), in);
        if (n < 0) {
            snprintf(err, errlen, "bad escape in input %zu", v->ninput + 1);
            return -1;
        }
        v->input[v->ninput].ptr = in;
        v->input[v->ninput].len = (size_t)n;
        v->ninput++;
        in = next;
    }
    return 0;
}

/* Loads vec_dir()/name. Returns the number of vectors, or -1 with a message
 * in err (unreadable file, malformed line: a broken vector file must fail
 * the test, never shrink it silently). */
static inline long vec_load(vec_file *f, const char *name, char *err, size_t errlen)
{
    char path[4096];
    memset(f, 0, sizeof *f);
    snprintf(path, sizeof path, "%s/%s", vec_dir(), name);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "cannot open %.200s", path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
        len += r;
        if (cap - len - 1 == 0) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(fp);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading %.200s", path);
        return -1;
    }
    buf[len] = '\0';
    /* Each line needs two copies: the raw text (for names) and the decoded one. */
    char *mem = malloc(2 * len + 2);
    size_t nlines = 1;
    for (size_t i = 0; i < len; i++) nlines += buf[i] == '\n';
    vec *vs = calloc(nlines, sizeof *vs);
    if (!mem || !vs) {
        free(buf);
        free(mem);
        free(vs);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->v = vs;
    f->mem = mem;
    size_t used = 0;
    int lineno = 0;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        lineno++;
        if (ll && line[0] != '#') {
            if (memchr(line, '\r', ll)) {
                snprintf(err, errlen, "%s:%d: CR in line (write \\r)", name, lineno);
                goto bad;
            }
            char *raw = mem + used;
            memcpy(raw, line, ll);
            raw[ll] = '\0';
            char *work = raw + ll + 1;
            memcpy(work, line, ll);
            work[ll] = '\0';
            used += 2 * ll + 2;
            vec *v = &vs[f->n];
            v->line = lineno;
            v->text = raw;
            char msg[200];
            if (vec__line(work, v, msg, sizeof msg) < 0) {
                snprintf(err, errlen, "%s:%d: %s", name, lineno, msg);
                goto bad;
            }
            f->n++;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(buf);
    return (long)f->n;
bad:
    free(buf);
    vec_free(f);
    return -1;
}

/* Value of assertion key, or NULL when v has none. */
static inline const vec_bytes *vec_get(const vec *v, const char *key)
{
    for (size_t i = 0; i < v->nassert; i++)
        if (strcmp(v->key[i], key) == 0) return &v->val[i];
    return NULL;
}

#ifdef TRPT_H
/* Applies "limit.<field>=<n>" entries of v to lim (starting from whatever
 * lim holds). Returns -1 for an unknown field or a bad number, so a typo
 * fails the test instead of silently testing the defaults. */
static inline int vec_limits(const vec *v, trpt_limits *lim)
{
    for (size_t i = 0; i < v->nassert; i++) {
        const char *k = v->key[i];
        if (strncmp(k, "limit.", 6) != 0) continue;
        char *end;
        unsigned long long n = strtoull(v->val[i].ptr, &end, 10);
        if (end == v->val[i].ptr || *end) return -1;
        k += 6;
        if (strcmp(k, "max_input") == 0) lim->max_input = (size_t)n;
        else if (strcmp(k, "max_decompressed") == 0) lim->max_decompressed = (size_t)n;
        else if (strcmp(k, "max_ratio") == 0) lim->max_ratio = (unsigned)n;
        else if (strcmp(k, "max_depth") == 0) lim->max_depth = (unsigned)n;
        else if (strcmp(k, "max_string") == 0) lim->max_string = (size_t)n;
        else if (strcmp(k, "max_elements") == 0) lim->max_elements = (size_t)n;
        else if (strcmp(k, "max_warnings") == 0) lim->max_warnings = (size_t)n;
        else return -1;
    }
    return 0;
}
#endif

#endif
