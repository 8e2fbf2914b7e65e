/* MIME reader: header fields, structured parameters, multipart walking and
 * report-part selection for RFC 8460 §5.3 report e-mails. */
#include "mime.h"

#include <stdint.h>

#define NPOS ((size_t)-1)
/* Nested multiparts each look through their body: together at most this
 * many times the message (plus the slack, for small messages nested
 * deep). A report forwarded a few times needs 2-4. */
#define MIME_SCAN_FACTOR 8
#define MIME_SCAN_SLACK ((size_t)1 << 20)

static int is_wsp(char c) { return c == ' ' || c == '\t'; }

/* ------------------------------------------------------------ header block */

/* Unfolds raw[0..n): line breaks (CRLF or LF) go, the whitespace after
 * them stays (RFC 5322 §2.2.3); then trims. No copy when nothing folds. */
static int unfold(trpt_ctx *ctx, const char *raw, size_t n, trpt_str *out)
{
    while (n && (is_wsp(raw[0]) || raw[0] == '\r' || raw[0] == '\n')) raw++, n--;
    while (n && (is_wsp(raw[n - 1]) || raw[n - 1] == '\r' || raw[n - 1] == '\n')) n--;
    if (!memchr(raw, '\n', n)) {
        out->ptr = raw;
        out->len = n;
        return TRPT_OK;
    }
    char *o = trpt_ctx_alloc(ctx, n + 1);
    if (!o) return TRPT_E_NOMEM;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (raw[i] == '\n') continue;
        if (raw[i] == '\r' && i + 1 < n && raw[i + 1] == '\n') continue;
        o[w++] = raw[i];
    }
    o[w] = '\0';
    out->ptr = o;
    out->len = w;
    return TRPT_OK;
}

/* The unfolded value of p[s..e), capped by max_string. */
static int value(trpt_ctx *ctx, const char *p, size_t s, size_t e, size_t base, trpt_str *out,
                 trpt_error *err)
{
    if (unfold(ctx, p + s, e - s, out)) return trpt__nomem(err);
    if (out->len > ctx->limits.max_string)
        return trpt__fail(err, TRPT_E_LIMIT, base + s, NULL, NULL,
                          "header field longer than max_string (%zu bytes)",
                          ctx->limits.max_string);
    return TRPT_OK;
}

/* The fields of the header block into *vp (heap memory: the caller frees
 * it; freed here on failure). */
static int scan_headers(trpt_ctx *ctx, const char *p, size_t len, size_t base, trpt_vec *vp,
                        size_t *body_off, trpt_error *err)
{
    size_t i = 0, body = len;
    size_t vstart = 0, vend = 0; /* raw value of the field being read */
    int open = 0;                /* a field is being read (continuations allowed) */
    int rc = TRPT_OK;
    while (i < len) {
        const char *nl = memchr(p + i, '\n', len - i);
        size_t eol = nl ? (size_t)(nl - p) : len;
        size_t next = nl ? eol + 1 : len;
        size_t le = eol;
        if (le > i && p[le - 1] == '\r') le--;
        if (le == i) { /* the empty line ends the header block */
            body = next;
            break;
        }
        if (is_wsp(p[i])) { /* folded continuation of the open field */
            if (open) vend = le;
            i = next;
            continue;
        }
        if (open) {
            trpt_mime_hdr *h = (trpt_mime_hdr *)(void *)(vp->data + (vp->len - 1) * vp->elem);
            if ((rc = value(ctx, p, vstart, vend, base, &h->value, err))) goto fail;
            open = 0;
        }
        /* field-name: printable ASCII but ':'; obsolete WSP before ':' allowed. */
        size_t j = i;
        while (j < le && p[j] != ':' && (unsigned char)p[j] > 32 && (unsigned char)p[j] < 127) j++;
        size_t nend = j;
        while (j < le && is_wsp(p[j])) j++;
        if (nend == i || j >= le || p[j] != ':') { /* not a field ("From " line): skip */
            i = next;
            continue;
        }
        if (vp->len >= ctx->limits.max_elements) {
            rc = trpt__fail(err, TRPT_E_LIMIT, base + i, NULL, NULL,
                            "more than max_elements (%zu) header fields",
                            ctx->limits.max_elements);
            goto fail;
        }
        trpt_mime_hdr *h = trpt__vec_push(ctx, vp);
        if (!h) goto oom;
        h->name.ptr = p + i;
        h->name.len = nend - i;
        h->value.ptr = NULL;
        h->value.len = 0;
        vstart = j + 1;
        vend = le;
        open = 1;
        i = next;
    }
    if (open) {
        trpt_mime_hdr *h = (trpt_mime_hdr *)(void *)(vp->data + (vp->len - 1) * vp->elem);
        if ((rc = value(ctx, p, vstart, vend, base, &h->value, err))) goto fail;
    }
    *body_off = body;
    return TRPT_OK;
oom:
    rc = trpt__nomem(err);
fail:
    trpt__vec_free(ctx, vp);
    return rc;
}

int trpt__mime_headers(trpt_ctx *ctx, const char *p, size_t len, size_t base,
                       trpt_mime_hdrs *out, size_t *body_off, trpt_error *err)
{
    trpt_vec v = { .elem = sizeof(trpt_mime_hdr) };
    int rc = scan_headers(ctx, p, len, base, &v, body_off, err);
    if (rc) return rc;
    out->n = v.len;
    out->h = NULL;
    if (v.len && !(out->h = trpt__vec_finish(ctx, &v))) return trpt__nomem(err);
    trpt__vec_free(ctx, &v);
    return TRPT_OK;
}

const trpt_str *trpt__mime_get(const trpt_mime_hdrs *h, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < h->n; i++)
        if (trpt__ieq(h->h[i].name.ptr, h->h[i].name.len, name, n)) return &h->h[i].value;
    return NULL;
}

/* ------------------------------------------------- structured parameters */

typedef struct cur {
    const char *p;
    size_t i, n;
} cur;

/* RFC 2045 §5.1 tspecials, plus space and controls. */
static int is_tchar(unsigned char c)
{
    if (c <= 32 || c >= 127) return 0;
    return !strchr("()<>@,;:\\\"/[]?=", c);
}

/* Skips whitespace, line breaks and (nested) comments; an unclosed comment
 * runs to the end. Nesting is counted, not recursed. */
static void skip_cfws(cur *c)
{
    size_t depth = 0;
    while (c->i < c->n) {
        char ch = c->p[c->i];
        if (depth) {
            if (ch == '\\' && c->i + 1 < c->n) c->i++; /* quoted-pair; never past the end */
            else if (ch == '(') depth++;
            else if (ch == ')') depth--;
            c->i++;
        } else if (ch == '(') {
            depth = 1;
            c->i++;
        } else if (is_wsp(ch) || ch == '\r' || ch == '\n') {
            c->i++;
        } else {
            break;
        }
    }
}

/* Nothing but whitespace and comments (an absent or empty header field). */
static int cfws_only(trpt_str s)
{
    cur c = { s.ptr, 0, s.len };
    skip_cfws(&c);
    return c.i >= c.n;
}

static trpt_str token(cur *c)
{
    size_t s = c->i;
    while (c->i < c->n && is_tchar((unsigned char)c->p[c->i])) c->i++;
    return (trpt_str){ c->p + s, c->i - s };
}

static char *lowerdup(trpt_ctx *ctx, const char *s, size_t n)
{
    char *o = trpt__strdup(ctx, s, n);
    if (o)
        for (size_t i = 0; i < n; i++) o[i] = (char)trpt__lower((unsigned char)o[i]);
    return o;
}

/* A quoted string (at '"') with quoted-pairs resolved; unclosed runs to the end. */
static int quoted(trpt_ctx *ctx, cur *c, trpt_str *out)
{
    size_t s = ++c->i, e = s;
    int esc = 0;
    while (e < c->n && c->p[e] != '"') {
        if (c->p[e] == '\\' && e + 1 < c->n) { esc = 1; e++; }
        e++;
    }
    c->i = e < c->n ? e + 1 : e;
    if (!esc) {
        *out = (trpt_str){ c->p + s, e - s };
        return TRPT_OK;
    }
    char *o = trpt_ctx_alloc(ctx, e - s + 1);
    if (!o) return TRPT_E_NOMEM;
    size_t w = 0;
    for (size_t k = s; k < e; k++) {
        if (c->p[k] == '\\' && k + 1 < e) k++;
        o[w++] = c->p[k];
    }
    *out = (trpt_str){ o, w };
    return TRPT_OK;
}

typedef struct rawparam {
    trpt_str name;   /* lowercased, without the RFC 2231 suffix */
    trpt_str value;
    int section;     /* -1: not a continuation */
    int ext;         /* RFC 2231 extended (percent-encoded) */
} rawparam;

static int hexv(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (unsigned char)trpt__lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Appends value v to o (RFC 2231: percent-decoded when ext; the charset'lang'
 * prefix is dropped when first). Returns the bytes written. */
static size_t put2231(char *o, trpt_str v, int ext, int first, int *latin1)
{
    size_t i = 0, w = 0;
    if (ext && first) {
        const char *q1 = memchr(v.ptr, '\'', v.len);
        const char *q2 = q1 ? memchr(q1 + 1, '\'', v.len - (size_t)(q1 + 1 - v.ptr)) : NULL;
        if (q2) {
            size_t cl = (size_t)(q1 - v.ptr);
            *latin1 = trpt__ieq(v.ptr, cl, "iso-8859-1", 10);
            i = (size_t)(q2 + 1 - v.ptr);
        }
    }
    for (; i < v.len; i++) {
        unsigned char ch = (unsigned char)v.ptr[i];
        if (ext && ch == '%' && i + 2 < v.len) {
            int hi = hexv((unsigned char)v.ptr[i + 1]), lo = hexv((unsigned char)v.ptr[i + 2]);
            if (hi >= 0 && lo >= 0) {
                ch = (unsigned char)(hi << 4 | lo);
                i += 2;
            }
        }
        if (*latin1 && ch >= 0x80) {
            o[w++] = (char)(0xC0 | ch >> 6);
            o[w++] = (char)(0x80 | (ch & 0x3F));
        } else {
            o[w++] = (char)ch;
        }
    }
    return w;
}

/* Joins the RFC 2231 forms of name: sections 0..k in order, or name*;
 * plain name= only when neither exists. */
static int merge(trpt_ctx *ctx, const rawparam *rp, size_t nrp, size_t first, trpt_kv *out)
{
    trpt_str name = rp[first].name;
    const rawparam *plain = NULL, *star = NULL;
    const rawparam *sec[TRPT_MIME_MAX_SECTIONS] = { 0 };
    for (size_t k = first; k < nrp; k++) {
        if (!trpt__ieq(rp[k].name.ptr, rp[k].name.len, name.ptr, name.len)) continue;
        if (rp[k].section >= 0) {
            if (!sec[rp[k].section]) sec[rp[k].section] = &rp[k];
        } else if (rp[k].ext) {
            if (!star) star = &rp[k];
        } else if (!plain) {
            plain = &rp[k];
        }
    }
    out->key = name;
    if (sec[0]) {
        size_t total = 0, ns = 0;
        while (ns < TRPT_MIME_MAX_SECTIONS && sec[ns]) total += sec[ns++]->value.len;
        char *o = trpt_ctx_alloc(ctx, 2 * total + 1);
        if (!o) return TRPT_E_NOMEM;
        size_t w = 0;
        int latin1 = 0;
        for (size_t s = 0; s < ns; s++) w += put2231(o + w, sec[s]->value, sec[s]->ext, s == 0, &latin1);
        o[w] = '\0';
        out->value = (trpt_str){ o, w };
        return TRPT_OK;
    }
    if (star) {
        char *o = trpt_ctx_alloc(ctx, 2 * star->value.len + 1);
        if (!o) return TRPT_E_NOMEM;
        int latin1 = 0;
        size_t w = put2231(o, star->value, 1, 1, &latin1);
        o[w] = '\0';
        out->value = (trpt_str){ o, w };
        return TRPT_OK;
    }
    out->value = plain ? plain->value : (trpt_str){ "", 0 };
    return TRPT_OK;
}

int trpt__mime_params(trpt_ctx *ctx, trpt_str value, trpt_mime_params *out, trpt_error *err)
{
    cur c = { value.ptr ? value.ptr : "", 0, value.len };
    rawparam rp[TRPT_MIME_MAX_PARAMS];
    size_t nrp = 0;
    memset(out, 0, sizeof *out);

    skip_cfws(&c);
    trpt_str t = token(&c);
    skip_cfws(&c);
    size_t tlen = t.len;
    if (c.i < c.n && c.p[c.i] == '/') { /* type "/" subtype, CFWS allowed around */
        c.i++;
        skip_cfws(&c);
        trpt_str st = token(&c);
        char *o = trpt_ctx_alloc(ctx, t.len + st.len + 2);
        if (!o) return trpt__nomem(err);
        memcpy(o, t.ptr, t.len);
        o[t.len] = '/';
        memcpy(o + t.len + 1, st.ptr, st.len);
        tlen = t.len + 1 + st.len;
        for (size_t k = 0; k < tlen; k++) o[k] = (char)trpt__lower((unsigned char)o[k]);
        o[tlen] = '\0';
        out->value = (trpt_str){ o, tlen };
    } else {
        char *o = lowerdup(ctx, t.ptr, t.len);
        if (!o) return trpt__nomem(err);
        out->value = (trpt_str){ o, t.len };
    }

    while (c.i < c.n) {
        skip_cfws(&c);
        if (c.i >= c.n) break;
        if (c.p[c.i] != ';') { /* junk where a ";" belongs: resynchronise */
            while (c.i < c.n && c.p[c.i] != ';') c.i++;
            continue;
        }
        c.i++;
        skip_cfws(&c);
        trpt_str name = token(&c);
        skip_cfws(&c);
        if (!name.len || c.i >= c.n || c.p[c.i] != '=') continue; /* "; " or a bare word */
        c.i++;
        skip_cfws(&c);
        trpt_str val;
        if (c.i < c.n && c.p[c.i] == '"') {
            if (quoted(ctx, &c, &val)) return trpt__nomem(err);
        } else {
            /* Lenient: unquoted values with tspecials ("=_Part") are common;
             * "(" still starts a comment (RFC 2045 §5.1: "b1(x)" is b1). */
            size_t s = c.i;
            while (c.i < c.n && c.p[c.i] != ';' && c.p[c.i] != '"' && c.p[c.i] != '(' &&
                   (unsigned char)c.p[c.i] > 32 && c.p[c.i] != 127)
                c.i++;
            val = (trpt_str){ c.p + s, c.i - s };
        }
        if (nrp == TRPT_MIME_MAX_PARAMS)
            return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, NULL,
                              "more than %d parameters in one header field",
                              TRPT_MIME_MAX_PARAMS);
        rawparam *r = &rp[nrp];
        r->section = -1;
        r->ext = 0;
        r->value = val;
        /* RFC 2231: name*, name*N, name*N* */
        const char *star = memchr(name.ptr, '*', name.len);
        size_t blen = star ? (size_t)(star - name.ptr) : name.len;
        if (star) {
            const char *s = star + 1, *e = name.ptr + name.len;
            if (s < e && *s >= '0' && *s <= '9') {
                int sec = 0;
                while (s < e && *s >= '0' && *s <= '9' && sec < 100000) sec = sec * 10 + (*s++ - '0');
                if (s < e && *s == '*') { r->ext = 1; s++; }
                if (s != e || sec >= TRPT_MIME_MAX_SECTIONS) continue; /* malformed: ignored */
                r->section = sec;
            } else if (s == e) {
                r->ext = 1;
            } else {
                continue;
            }
        }
        if (!blen) continue;
        char *lname = lowerdup(ctx, name.ptr, blen);
        if (!lname) return trpt__nomem(err);
        r->name = (trpt_str){ lname, blen };
        nrp++;
    }

    if (!nrp) return TRPT_OK;
    trpt_kv *kv = trpt_ctx_alloc(ctx, nrp * sizeof *kv);
    if (!kv) return trpt__nomem(err);
    size_t nkv = 0;
    for (size_t k = 0; k < nrp; k++) {
        int seen = 0;
        for (size_t m = 0; m < nkv && !seen; m++)
            seen = trpt__ieq(kv[m].key.ptr, kv[m].key.len, rp[k].name.ptr, rp[k].name.len);
        if (seen) continue;
        if (merge(ctx, rp, nrp, k, &kv[nkv])) return trpt__nomem(err);
        nkv++;
    }
    out->params = kv;
    out->nparams = nkv;
    return TRPT_OK;
}

const trpt_str *trpt__mime_param(const trpt_mime_params *p, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < p->nparams; i++)
        if (trpt__ieq(p->params[i].key.ptr, p->params[i].key.len, name, n)) return &p->params[i].value;
    return NULL;
}

/* ----------------------------------------------------- RFC 8460 §5.1 names */

static int ends_with(trpt_str s, const char *suf)
{
    size_t n = strlen(suf);
    return s.len >= n && trpt__ieq(s.ptr + s.len - n, n, suf, n);
}

static int epoch_field(trpt_str f, int64_t *v)
{
    if (f.len == 0 || f.len > 18) return 0; /* 18 digits cannot overflow */
    int64_t x = 0;
    for (size_t i = 0; i < f.len; i++) {
        if (f.ptr[i] < '0' || f.ptr[i] > '9') return 0;
        x = x * 10 + (f.ptr[i] - '0');
    }
    *v = x;
    return 1;
}

int trpt__mime_rptname(trpt_str name, trpt_mime_rptname *out)
{
    memset(out, 0, sizeof *out);
    trpt_str stem = name;
    if (ends_with(name, ".json.gz")) {
        out->gz = 1;
        stem.len -= 8;
    } else if (ends_with(name, ".json")) {
        stem.len -= 5;
    } else {
        return 0;
    }
    trpt_str f[5];
    size_t nf = 0, s = 0;
    for (size_t i = 0; i <= stem.len; i++) {
        if (i == stem.len || stem.ptr[i] == '!') {
            if (nf == 5) return 0;
            f[nf++] = (trpt_str){ stem.ptr + s, i - s };
            s = i + 1;
        }
    }
    if (nf < 4) return 0;
    for (size_t i = 0; i < nf; i++)
        if (!f[i].len) return 0;
    if (!epoch_field(f[2], &out->begin) || !epoch_field(f[3], &out->end)) return 0;
    out->submitter = f[0];
    out->domain = f[1];
    if (nf == 5) out->unique_id = f[4];
    return 1;
}

/* ------------------------------------------------------- multipart walker */

/* Header fields of an enclosing message that the e-mail parser reads
 * (email.c); an envelope keeps the first of each and no other, so that a
 * part's header block is held only while the part is read: keeping them
 * all cost 32 bytes a field, 10x a message of short header lines. */
static const char *const kept_fields[] = {
    "tls-report-domain", "tls-report-submitter", "date", "message-id", "subject", "from",
};
#define NKEPT (sizeof kept_fields / sizeof kept_fields[0])

/* The message (top level or message/rfc822) that encloses an entity. */
typedef struct envelope {
    trpt_mime_hdr kept[NKEPT];
    size_t nkept;
    trpt_str type;
    int is_report;
} envelope;

typedef struct walker {
    trpt_ctx *ctx;
    trpt_error *err;
    const char *msg;
    size_t len;
    unsigned maxdepth;
    size_t nparts;
    size_t scanned, scan_budget; /* bytes multipart() has looked through, and the cap */
    /* best candidate so far */
    int how;
    envelope env;
    trpt_str ctype, filename, cte;
    size_t body, blen;
} walker;

static int eq(trpt_str s, const char *lit) { return trpt__ieq(s.ptr, s.len, lit, strlen(lit)); }

/* Is there a delimiter line "--boundary[--] WSP* (CRLF|LF|end)" at b? */
static int delimiter(const char *b, size_t n, trpt_str bd, int *close, size_t *next)
{
    if (n < 2 + bd.len || b[0] != '-' || b[1] != '-' || memcmp(b + 2, bd.ptr, bd.len)) return 0;
    size_t k = 2 + bd.len;
    *close = 0;
    if (k + 1 < n && b[k] == '-' && b[k + 1] == '-') {
        *close = 1;
        k += 2;
    }
    while (k < n && is_wsp(b[k])) k++; /* transport padding, RFC 2046 §5.1.1 */
    if (k == n) { *next = n; return 1; }
    if (b[k] == '\n') { *next = k + 1; return 1; }
    if (b[k] == '\r' && (k + 1 == n || b[k + 1] == '\n')) { *next = k + 1 < n ? k + 2 : n; return 1; }
    return 0;
}

static int entity(walker *w, size_t off, size_t len, unsigned depth, const envelope *outer,
                  int in_report, int is_message);

static int multipart(walker *w, size_t off, size_t len, trpt_str bd, unsigned depth,
                     const envelope *env, int in_report)
{
    /* Each nesting level looks through its body again, so deep nesting of
     * a big body costs depth times its size: capped, a clear error. */
    w->scanned += len;
    if (w->scanned > w->scan_budget)
        return trpt__fail(w->err, TRPT_E_LIMIT, off, NULL, NULL,
                          "nested multiparts would scan the message more than %d times over",
                          MIME_SCAN_FACTOR);
    const char *b = w->msg + off;
    size_t i = 0, start = NPOS;
    int rc;
    for (;;) {
        int close;
        size_t next;
        if (delimiter(b + i, len - i, bd, &close, &next)) {
            if (start != NPOS) {
                /* The line break before a delimiter belongs to it. */
                size_t end = i;
                if (end > start && b[end - 1] == '\n') end--;
                if (end > start && b[end - 1] == '\r') end--;
                if ((rc = entity(w, off + start, end - start, depth + 1, env, in_report, 0))) return rc;
            }
            if (close) return TRPT_OK; /* the epilogue is ignored */
            start = i + next;
            i = start;
            if (i >= len) break;
            continue;
        }
        /* Only a line starting with "--" can be a delimiter: skip to one
         * (memchr for '-' passes blank and text lines at memory speed). */
        if (i + 1 >= len) break;
        const char *q = b + i + 1, *e = b + len;
        while ((q = memchr(q, '-', (size_t)(e - q))) && !(q[-1] == '\n' && q + 1 < e && q[1] == '-'))
            if (++q >= e) break;
        if (!q || q >= e) break;
        i = (size_t)(q - b);
    }
    /* No close delimiter (the Mail.ru reports): the last part runs to the end. */
    if (start != NPOS) return entity(w, off + start, len - start, depth + 1, env, in_report, 0);
    return TRPT_OK;
}

static int report_media(trpt_str t)
{
    return eq(t, "application/tlsrpt+gzip") || eq(t, "application/tlsrpt+json") ||
           eq(t, "application/tlsrpt");
}

/* Generic types a report may come in when only its file name tells. */
static int generic_media(trpt_str t)
{
    return eq(t, "application/gzip") || eq(t, "application/x-gzip") ||
           eq(t, "application/octet-stream") || eq(t, "application/json") ||
           eq(t, "text/json") || eq(t, "text/plain");
}

static int entity(walker *w, size_t off, size_t len, unsigned depth, const envelope *outer,
                  int in_report, int is_message)
{
    trpt_ctx *ctx = w->ctx;
    trpt_error *err = w->err;
    int rc;
    if (depth > w->maxdepth)
        return trpt__fail(err, TRPT_E_LIMIT, off, NULL, NULL,
                          "MIME nesting deeper than max_depth (%u)", w->maxdepth);
    if (++w->nparts > ctx->limits.max_elements)
        return trpt__fail(err, TRPT_E_LIMIT, off, NULL, NULL,
                          "more than max_elements (%zu) MIME parts", ctx->limits.max_elements);
    /* The header block is read, the fields used are copied out (their
     * values point into the message or the arena), and it is freed before
     * going deeper. */
    trpt_vec hv = { .elem = sizeof(trpt_mime_hdr) };
    size_t body;
    if ((rc = scan_headers(ctx, w->msg + off, len, off, &hv, &body, err))) return rc;
    trpt_mime_hdrs hdrs = { (const trpt_mime_hdr *)(const void *)hv.data, hv.len };
    const trpt_str *f = trpt__mime_get(&hdrs, "content-type");
    trpt_str ctv = f ? *f : (trpt_str){ "", 0 };
    const trpt_str *cdv = trpt__mime_get(&hdrs, "content-disposition");
    int has_cd = cdv != NULL;
    trpt_str cd_value = has_cd ? *cdv : (trpt_str){ NULL, 0 };
    f = trpt__mime_get(&hdrs, "content-transfer-encoding");
    trpt_str cte = f ? *f : (trpt_str){ "", 0 };
    envelope here;
    if (is_message) {
        here.nkept = 0;
        for (size_t k = 0; k < NKEPT; k++)
            if ((f = trpt__mime_get(&hdrs, kept_fields[k])))
                here.kept[here.nkept++] = (trpt_mime_hdr){ { kept_fields[k], strlen(kept_fields[k]) }, *f };
    }
    trpt__vec_free(ctx, &hv);

    trpt_mime_params ct;
    if ((rc = trpt__mime_params(ctx, ctv, &ct, err))) return rc;
    if (!ct.value.len || !memchr(ct.value.ptr, '/', ct.value.len))
        ct.value = TRPT_STR("text/plain"); /* RFC 2045 §5.2 default */

    const envelope *env = outer;
    if (is_message) {
        const trpt_str *rt = trpt__mime_param(&ct, "report-type");
        here.type = ct.value;
        here.is_report = eq(ct.value, "multipart/report") && rt && eq(*rt, "tlsrpt");
        env = &here;
        in_report = 0; /* a report inside an attached message counts for that message */
    }

    if (ct.value.len > 10 && !memcmp(ct.value.ptr, "multipart/", 10)) {
        const trpt_str *bd = trpt__mime_param(&ct, "boundary");
        if (bd && bd->len > TRPT_MIME_MAX_BOUNDARY)
            return trpt__fail(err, TRPT_E_LIMIT, off, "RFC 2046 §5.1.1", NULL,
                              "MIME boundary longer than %d bytes", TRPT_MIME_MAX_BOUNDARY);
        if (bd && bd->len) {
            const trpt_str *rt = trpt__mime_param(&ct, "report-type");
            int rep = in_report || (eq(ct.value, "multipart/report") && rt && eq(*rt, "tlsrpt"));
            return multipart(w, off + body, len - body, *bd, depth, env, rep);
        }
        /* No boundary: nothing can be split out, read it as a leaf. */
    }
    if (eq(ct.value, "message/rfc822") || eq(ct.value, "message/global"))
        return entity(w, off + body, len - body, depth + 1, env, 0, 1);

    const trpt_str *fn = NULL;
    trpt_mime_params cd;
    if (has_cd) {
        if ((rc = trpt__mime_params(ctx, cd_value, &cd, err))) return rc;
        fn = trpt__mime_param(&cd, "filename");
    }
    if (!fn || !fn->len) fn = trpt__mime_param(&ct, "name");
    trpt_str fname = fn ? *fn : (trpt_str){ "", 0 };
    /* Non-standard but common: RFC 2047 words in file names. */
    if ((rc = trpt__rfc2047_decode(ctx, fname, &fname, err))) return rc;

    int how = TRPT_MIME_NONE;
    trpt_mime_rptname rn;
    if (report_media(ct.value))
        how = in_report ? TRPT_MIME_IN_REPORT : TRPT_MIME_BY_TYPE;
    else if (generic_media(ct.value) && trpt__mime_rptname(fname, &rn))
        how = TRPT_MIME_BY_FILENAME;
    if (how <= w->how) return TRPT_OK; /* the first of equally good parts wins */

    w->how = how;
    w->env = *env;
    w->ctype = ct.value;
    w->filename = fname;
    w->cte = cte;
    w->body = off + body;
    w->blen = len - body;
    return TRPT_OK;
}

int trpt__mime_find_report(trpt_ctx *ctx, const char *msg, size_t len, trpt_mime_report *out,
                           trpt_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > ctx->limits.max_input)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, NULL,
                          "message larger than max_input (%zu bytes)", ctx->limits.max_input);
    walker w;
    memset(&w, 0, sizeof w);
    w.ctx = ctx;
    w.err = err;
    w.msg = msg ? msg : "";
    w.len = len;
    w.maxdepth = ctx->limits.max_depth < TRPT_MIME_HARD_DEPTH ? ctx->limits.max_depth
                                                               : TRPT_MIME_HARD_DEPTH;
    w.scan_budget = len > ((size_t)-1 - MIME_SCAN_SLACK) / MIME_SCAN_FACTOR
                        ? (size_t)-1 : len * MIME_SCAN_FACTOR + MIME_SCAN_SLACK;
    int rc = entity(&w, 0, len, 0, NULL, 0, 1);
    out->nparts = w.nparts;
    if (rc) return rc;
    if (w.how == TRPT_MIME_NONE)
        return trpt__fail(err, TRPT_E_NO_REPORT, TRPT_NO_OFFSET, TRPT_RFC_DELIVERY, NULL,
                          "no TLS report in this message");

    trpt_mime_hdr *kept = trpt_ctx_alloc(ctx, sizeof w.env.kept);
    if (!kept) return trpt__nomem(err);
    memcpy(kept, w.env.kept, sizeof w.env.kept);
    out->headers = (trpt_mime_hdrs){ kept, w.env.nkept };
    out->top_type = w.env.type;
    out->top_is_report = w.env.is_report;
    out->how = w.how;
    out->content_type = w.ctype;
    out->filename = w.filename;
    out->offset = w.body;

    /* Encoding names are case-insensitive tokens (RFC 2045 §6.1); comments allowed. */
    trpt_mime_params enc;
    if ((rc = trpt__mime_params(ctx, w.cte, &enc, err))) return rc;
    out->encoding = enc.value;
    const char *body = w.msg + w.body;
    if (eq(enc.value, "base64")) {
        rc = trpt__base64_decode(ctx, body, w.blen, &out->payload, err);
    } else if (eq(enc.value, "quoted-printable")) {
        rc = trpt__qp_decode(ctx, body, w.blen, &out->payload, err);
    } else if ((!enc.value.len && cfws_only(w.cte)) || eq(enc.value, "7bit") ||
               eq(enc.value, "8bit") || eq(enc.value, "binary")) {
        out->payload = (trpt_str){ body, w.blen };
    } else {
        trpt_str shown = enc.value.len ? enc.value : w.cte; /* not even a token: as written */
        return trpt__fail(err, TRPT_E_SYNTAX, w.body, "RFC 2045 §6.1", NULL,
                          "unsupported Content-Transfer-Encoding '%.*s'",
                          (int)(shown.len > 40 ? 40 : shown.len), shown.ptr);
    }
    if (rc && err && err->offset != TRPT_NO_OFFSET) err->offset += w.body;
    return rc;
}
