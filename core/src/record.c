/* TXT record parsers: TLS-RPT (RFC 8460 §3) and MTA-STS (RFC 8461 §3.1).
 *
 * Strict to the ABNF, with three documented tolerances: WSP at the very end
 * of a record, mixed-case URI schemes (RFC 3986 §3.1 makes them
 * case-insensitive) and a repeated extension name (every occurrence kept,
 * in order). A second "v=" or rua= in a TLS-RPT record is TRPT_E_DUPLICATE;
 * in an MTA-STS record a second "v=" or id= is ignored, the first wins
 * (RFC 8461 §3.2). */
#include "tagvalue.h"
#include "hostname.h"

#include <stdio.h>

#define RFC_TLSRPT "RFC 8460 §3"
#define RFC_STS "RFC 8461 §3.1"
#define RFC_URI "RFC 3986 §2"

/* Longest slice of user text quoted in a message: the message buffer is
 * 256 bytes and must keep room for the explanation. */
#define QUOTE_MAX 80
#define Q(n) (int)((n) > QUOTE_MAX ? QUOTE_MAX : (n))

static int hexval(int c)
{
    if (trpt__is_digit(c)) return c - '0';
    c |= 32;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Selects the record, splits it and checks the version field. */
static int parse_common(trpt_ctx *ctx, const trpt_str *txts, size_t ntxt, const char *version,
                        const char *rfc, int first_wins, trpt_str *raw, trpt_vec *fv,
                        trpt_error *err)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "v=%s", version);
    size_t idx = 0;
    if (!ctx || (!txts && ntxt))
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL argument");
    int rc = trpt__tv_select(ctx, txts, ntxt, prefix, rfc, &idx, err);
    if (rc) return rc;
    *raw = txts[idx];
    if ((rc = trpt__tv_split(ctx, *raw, rfc, fv, err))) return rc;
    const trpt_tv_field *fields = (const trpt_tv_field *)(const void *)fv->data;
    size_t nf = fv->len;
    /* Selection guarantees field 0 is "v=<version>..."; text before the
     * next ';' other than WSP is a missing delimiter. */
    const trpt_tv_field *v = &fields[0];
    if (v->value.len != strlen(version))
        return trpt__fail(err, TRPT_E_SYNTAX, v->value_offset + strlen(version), rfc, "v",
                          "unexpected '%.*s' after %s (fields are separated by ';')",
                          Q(v->value.len - strlen(version)), v->value.ptr + strlen(version), prefix);
    for (size_t i = 1; !first_wins && i < nf; i++)
        if (fields[i].name.len == 1 && fields[i].name.ptr[0] == 'v')
            return trpt__fail(err, TRPT_E_DUPLICATE, fields[i].offset, rfc, "v",
                              "a second v= field (the version comes once, first)");
    return TRPT_OK;
}

/* Percent-decodes s (escapes already validated). Points into the input
 * when there is nothing to decode. */
static int pct_decode(trpt_ctx *ctx, const char *s, size_t n, trpt_str *out)
{
    if (!memchr(s, '%', n)) {
        *out = (trpt_str){ s, n };
        return TRPT_OK;
    }
    char *d = trpt_ctx_alloc(ctx, n + 1);
    if (!d) return TRPT_E_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            d[o++] = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = '\0';
    *out = (trpt_str){ d, o };
    return TRPT_OK;
}

/* RFC 3986 characters: unreserved, reserved and "%" HEXDIG HEXDIG. RFC 8460
 * additionally requires "," and "!" to be percent-encoded; ";" and "," never
 * get here (they delimit fields and URIs). */
static int uri_chars(const char *u, size_t n, size_t off, trpt_error *err)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)u[i];
        if (c == '%') {
            if (i + 2 >= n || hexval((unsigned char)u[i + 1]) < 0 ||
                hexval((unsigned char)u[i + 2]) < 0)
                return trpt__fail(err, TRPT_E_SYNTAX, off + i, RFC_URI, "rua",
                                  "invalid percent-escape in URI '%.*s'", Q(n), u);
            i += 2;
            continue;
        }
        if (c == '!')
            return trpt__fail(err, TRPT_E_SYNTAX, off + i, RFC_TLSRPT, "rua",
                              "'!' must be percent-encoded (%%21) in URI '%.*s'", Q(n), u);
        if (trpt__is_alnum(c) || (c && strchr("-._~:/?#[]@$&'()*+=", c))) continue;
        return trpt__fail(err, TRPT_E_SYNTAX, off + i, RFC_URI, "rua",
                          "character 0x%02x not allowed in URI '%.*s'", c, Q(n), u);
    }
    return TRPT_OK;
}

/* A mail domain: LDH labels (trpt__domain_ok), or labels holding UTF-8 (an
 * IDN as RFC 6068 §2 lets mailto carry it), or an address literal. */
static int mail_domain_ok(const char *d, size_t n)
{
    if (n >= 2 && d[0] == '[' && d[n - 1] == ']') {
        if (n > 7 && trpt__ieq(d + 1, 5, "IPv6:", 5))
            return memchr(d + 6, ':', n - 7) && trpt__ip_ok(d + 6, n - 7);
        return trpt__ip_ok(d + 1, n - 2) && !memchr(d, ':', n); /* [192.0.2.1] */
    }
    if (trpt__domain_ok(d, n, 0)) return 1;
    if (n > 1 && d[n - 1] == '.') n--; /* the absolute form, as for LDH names */
    int utf8 = 0;
    size_t label = 0;
    if (n == 0 || n > 253) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-') return 0;
            label = 0;
            continue;
        }
        if (!(c >= 0x80 || trpt__is_alnum(c) || (c == '-' && label > 0)) || ++label > 63) return 0;
        utf8 |= c >= 0x80;
    }
    return utf8 && label > 0 && d[n - 1] != '-';
}

/* addr-spec of a decoded mailto target, leniently: a local part that is
 * quoted, or free of RFC 5322 specials (UTF-8 allowed, RFC 6531) and of
 * leading, trailing and doubled dots; then a mail domain. */
static int mail_address_ok(const char *t, size_t n)
{
    const char *at = NULL;
    for (size_t i = n; i-- > 0;)
        if (t[i] == '@') {
            at = t + i;
            break;
        }
    if (!at || at == t) return 0;
    size_t ln = (size_t)(at - t);
    if (!(ln >= 2 && t[0] == '"' && t[ln - 1] == '"')) {
        if (t[0] == '.' || t[ln - 1] == '.') return 0;
        for (size_t i = 0; i < ln; i++)
            if (strchr("()<>[]:;@\\,\" ", t[i]) || (t[i] == '.' && i && t[i - 1] == '.')) return 0;
    }
    return mail_domain_ok(at + 1, n - ln - 1);
}

/* The authority of an https URI (after "//", before the path), RFC 3986
 * §3.2: an optional userinfo without '@', then a non-empty reg-name (which
 * covers DNS names and IPv4 addresses, and lets through what DNS would not:
 * "_", escapes, empty labels) or a bracketed IPv6 address, then an
 * optional port of up to 5 digits, at most 65535. */
static int https_authority_ok(const char *a, size_t n)
{
    const char *at = memchr(a, '@', n);
    if (at) {
        size_t skip = (size_t)(at + 1 - a);
        if (memchr(at + 1, '@', n - skip) || memchr(a, '[', skip) || memchr(a, ']', skip))
            return 0;
        a += skip;
        n -= skip;
    }
    size_t he;
    if (n && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close || !memchr(a, ':', (size_t)(close - a)) ||
            !trpt__ip_ok(a + 1, (size_t)(close - a - 1)))
            return 0; /* IP-literal: IPv6 only */
        he = (size_t)(close - a) + 1;
    } else {
        /* reg-name = *( unreserved / pct-encoded / sub-delims ), non-empty
         * here (uri_chars has checked the escapes) */
        he = 0;
        while (he < n && a[he] != ':') {
            unsigned char c = (unsigned char)a[he];
            if (!trpt__is_alnum(c) && !strchr("-._~%!$&'()*+,;=", c)) return 0;
            he++;
        }
        if (he == 0) return 0;
    }
    if (he == n) return 1;
    if (a[he] != ':' || n - he - 1 > 5) return 0;
    unsigned long port = 0;
    for (size_t i = he + 1; i < n; i++) {
        if (!trpt__is_digit((unsigned char)a[i])) return 0;
        port = port * 10 + (unsigned long)(a[i] - '0');
    }
    return port <= 65535;
}

/* One tlsrpt-uri: mailto: or https: (RFC 8460 §3). */
static int parse_uri(trpt_ctx *ctx, const char *u, size_t n, size_t off, trpt_rua *out,
                     trpt_error *err)
{
    int rc = uri_chars(u, n, off, err);
    if (rc) return rc;
    size_t s = 0;
    if (n && trpt__is_alpha((unsigned char)u[0]))
        while (s < n && (trpt__is_alnum((unsigned char)u[s]) || u[s] == '+' || u[s] == '-' ||
                         u[s] == '.'))
            s++;
    if (s == 0 || s == n || u[s] != ':')
        return trpt__fail(err, TRPT_E_FIELD, off, RFC_TLSRPT, "rua",
                          "URI '%.*s' has no scheme: rua takes mailto: or https: URIs", Q(n), u);
    out->uri = (trpt_str){ u, n };
    const char *rest = u + s + 1;
    size_t rlen = n - s - 1;
    if (trpt__ieq(u, s, "mailto", 6)) {
        out->scheme = TRPT_RUA_MAILTO;
        /* The address ends where RFC 6068 header fields ("?subject=") begin. */
        const char *q = memchr(rest, '?', rlen);
        size_t alen = q ? (size_t)(q - rest) : rlen;
        if (pct_decode(ctx, rest, alen, &out->target))
            return trpt__nomem(err);
        const char *t = out->target.ptr;
        size_t tl = out->target.len;
        const char *at = tl ? memchr(t, '@', tl) : NULL;
        if (!at || at == t || at == t + tl - 1)
            return trpt__fail(err, TRPT_E_FIELD, off, RFC_TLSRPT, "rua",
                              "mailto URI '%.*s' has no local@domain address", Q(n), u);
        /* Decoded CR/LF would let a record inject mail headers later. */
        for (size_t i = 0; i < tl; i++)
            if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
                return trpt__fail(err, TRPT_E_FIELD, off, RFC_TLSRPT, "rua",
                                  "mailto URI '%.*s' decodes to a control character", Q(n), u);
        if (trpt__utf8_prefix((const unsigned char *)t, tl) != tl)
            return trpt__fail(err, TRPT_E_UTF8, off, RFC_TLSRPT, "rua",
                              "mailto URI '%.*s' decodes to invalid UTF-8", Q(n), u);
        /* to = addr-spec *("," addr-spec) (RFC 6068 §2; RFC 8460 §3 has the
         * comma percent-encoded): each one an address */
        for (size_t a = 0, b; a <= tl; a = b + 1) {
            b = a;
            while (b < tl && t[b] != ',') b++;
            if (!mail_address_ok(t + a, b - a))
                return trpt__fail(err, TRPT_E_FIELD, off, RFC_TLSRPT, "rua",
                                  "mailto URI '%.*s': '%.*s' is not an address (RFC 6068 addr-spec)",
                                  Q(n), u, Q(b - a), t + a);
        }
        return TRPT_OK;
    }
    if (trpt__ieq(u, s, "https", 5)) {
        out->scheme = TRPT_RUA_HTTPS;
        /* Kept as written: decoding a URL changes its meaning (%2F, %3F). */
        out->target = out->uri;
        if (rlen < 2 || rest[0] != '/' || rest[1] != '/')
            return trpt__fail(err, TRPT_E_FIELD, off, RFC_TLSRPT, "rua",
                              "https URI '%.*s' has no //host", Q(n), u);
        size_t hs = 2, ae = hs;
        while (ae < rlen && rest[ae] != '/' && rest[ae] != '?' && rest[ae] != '#') ae++;
        if (ae == hs)
            return trpt__fail(err, TRPT_E_FIELD, off, RFC_TLSRPT, "rua",
                              "https URI '%.*s' has no host", Q(n), u);
        /* (it requires a non-empty host) */
        if (!https_authority_ok(rest + hs, ae - hs))
            return trpt__fail(err, TRPT_E_FIELD, off, RFC_TLSRPT, "rua",
                              "https URI '%.*s': '%.*s' is not a host[:port] (RFC 3986 §3.2)",
                              Q(n), u, Q(ae - hs), rest + hs);
        return TRPT_OK;
    }
    return trpt__fail(err, TRPT_E_FIELD, off, RFC_TLSRPT, "rua",
                      "URI '%.*s' uses scheme '%.*s': rua takes only mailto: and https:", Q(n), u,
                      (int)s, u);
}

/* tlsrpt-rua = "rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 * rec is the trpt_tlsrpt_record (a record_kind.parse_key). */
static int parse_rua(trpt_ctx *ctx, const trpt_tv_field *f, void *rec, trpt_error *err)
{
    trpt_tlsrpt_record *out = rec;
    trpt_vec v = { .elem = sizeof(trpt_rua) };
    const char *s = f->value.ptr;
    size_t n = f->value.len, pos = 0;
    int rc;
    if (n == 0) {
        rc = trpt__fail(err, TRPT_E_FIELD, f->value_offset, RFC_TLSRPT, "rua", "empty rua=");
        goto fail;
    }
    for (;;) {
        size_t b = pos, e = pos;
        while (e < n && s[e] != ',') e++;
        size_t next = e;
        if (pos > 0)
            while (b < e && trpt__is_wsp((unsigned char)s[b])) b++;
        while (e > b && trpt__is_wsp((unsigned char)s[e - 1])) e--;
        if (e == b) {
            rc = trpt__fail(err, TRPT_E_SYNTAX, f->value_offset + b, RFC_TLSRPT, "rua",
                            "empty URI in the rua list");
            goto fail;
        }
        if (v.len >= ctx->limits.max_elements) {
            rc = trpt__fail(err, TRPT_E_LIMIT, f->value_offset + b, NULL, "max_elements",
                            "more than %zu rua URIs", ctx->limits.max_elements);
            goto fail;
        }
        trpt_rua *r = trpt__vec_push(ctx, &v);
        if (!r) {
            rc = trpt__nomem(err);
            goto fail;
        }
        if ((rc = parse_uri(ctx, s + b, e - b, f->value_offset + b, r, err))) goto fail;
        if (next == n) break;
        pos = next + 1;
    }
    out->nrua = v.len;
    out->rua = trpt__vec_finish(ctx, &v);
    if (!out->rua)
        return trpt__nomem(err);
    return TRPT_OK;
fail:
    trpt__vec_free(ctx, &v);
    return rc;
}

/* Appends an extension field to ext after checking its value. */
static int push_ext(trpt_ctx *ctx, trpt_vec *ext, const trpt_tv_field *f, const char *rfc,
                    trpt_error *err)
{
    int rc = trpt__tv_ext_value(f, rfc, err);
    if (rc) return rc;
    trpt_kv *kv = trpt__vec_push(ctx, ext);
    if (!kv) return trpt__nomem(err);
    kv->key = f->name;
    kv->value = f->value;
    return TRPT_OK;
}

static int finish_ext(trpt_ctx *ctx, trpt_vec *ext, const trpt_kv **out, size_t *n,
                      trpt_error *err)
{
    *n = ext->len;
    *out = trpt__vec_finish(ctx, ext);
    if (*n && !*out)
        return trpt__nomem(err);
    return TRPT_OK;
}

/* sts-id = 1*32(ALPHA / DIGIT); rec is the trpt_sts_record. */
static int parse_id(trpt_ctx *ctx, const trpt_tv_field *f, void *rec, trpt_error *err)
{
    size_t k = 0;
    while (k < f->value.len && trpt__is_alnum((unsigned char)f->value.ptr[k])) k++;
    if (f->value.len == 0 || f->value.len > 32 || k != f->value.len)
        return trpt__fail(err, TRPT_E_FIELD, f->value_offset + (k < f->value.len ? k : 0),
                          RFC_STS, "id", "id '%.*s' must be 1 to 32 letters or digits",
                          Q(f->value.len), f->value.ptr);
    ((trpt_sts_record *)rec)->id = f->value;
    return TRPT_OK;
}

/* What tells the two record types apart. Both are "v=<version>", one
 * required field that comes once, and extensions. */
typedef struct record_kind {
    const char *version, *rfc;
    const char *key;          /* the required field; names are case-sensitive */
    const char *dup_msg;      /* error text for a second key= or v=; NULL: the first
                                 wins and later ones are ignored */
    const char *missing_msg;  /* error text for no key= at all */
    int case_hint;            /* say so when only a KEY= in other case is there */
    int (*parse_key)(trpt_ctx *ctx, const trpt_tv_field *f, void *rec, trpt_error *err);
} record_kind;

/* The output's members both record types have, and the whole struct (to
 * clear it: a failed parse leaves it zeroed). */
typedef struct record_out {
    void *rec;
    size_t size;
    trpt_str *version, *raw;
    const trpt_kv **ext;
    size_t *next;
} record_out;

static int parse_record(trpt_ctx *ctx, const trpt_str *txts, size_t ntxt, const record_kind *k,
                        const record_out *o, trpt_error *err)
{
    memset(o->rec, 0, o->size);
    /* The fields (48 bytes each, up to max_elements) are freed when done. */
    trpt_vec fv = { .elem = sizeof(trpt_tv_field) };
    const int first_wins = k->dup_msg == NULL;
    int rc = parse_common(ctx, txts, ntxt, k->version, k->rfc, first_wins, o->raw, &fv, err);
    if (rc) {
        trpt__vec_free(ctx, &fv);
        memset(o->rec, 0, o->size);
        return rc;
    }
    const trpt_tv_field *fields = (const trpt_tv_field *)(const void *)fv.data;
    size_t nf = fv.len;
    *o->version = (trpt_str){ fields[0].value.ptr, fields[0].value.len };
    trpt_vec ext = { .elem = sizeof(trpt_kv) };
    const size_t klen = strlen(k->key);
    const trpt_tv_field *key = NULL, *key_case = NULL;
    for (size_t i = 1; i < nf; i++) {
        const trpt_tv_field *f = &fields[i];
        if (first_wins && f->name.len == 1 && f->name.ptr[0] == 'v') continue;
        /* Field names are case-sensitive (%s"rua=", %s"id="): "RUA=" is an extension. */
        if (f->name.len == klen && memcmp(f->name.ptr, k->key, klen) == 0) {
            if (key && first_wins) continue;
            if (key) {
                rc = trpt__fail(err, TRPT_E_DUPLICATE, f->offset, k->rfc, k->key, "%s",
                                k->dup_msg);
                goto fail;
            }
            key = f;
            if ((rc = k->parse_key(ctx, f, o->rec, err))) goto fail;
        } else {
            if (trpt__ieq(f->name.ptr, f->name.len, k->key, klen)) key_case = f;
            if ((rc = push_ext(ctx, &ext, f, k->rfc, err))) goto fail;
        }
    }
    if (!key) {
        rc = key_case && k->case_hint
                 ? trpt__fail(err, TRPT_E_FIELD, key_case->offset, k->rfc, k->key,
                              "missing %s= ('%.*s=' is not it: field names are case-sensitive)",
                              k->key, (int)key_case->name.len, key_case->name.ptr)
                 : trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, k->rfc, k->key, "%s",
                              k->missing_msg);
        goto fail;
    }
    trpt__vec_free(ctx, &fv);
    return finish_ext(ctx, &ext, o->ext, o->next, err);
fail:
    trpt__vec_free(ctx, &fv);
    trpt__vec_free(ctx, &ext);
    memset(o->rec, 0, o->size);
    return rc;
}

int trpt_parse_tlsrpt_record(trpt_ctx *ctx, const trpt_str *txts, size_t ntxt,
                             trpt_tlsrpt_record *out, trpt_error *err)
{
    static const record_kind kind = {
        "TLSRPTv1", RFC_TLSRPT, "rua",
        "a second rua= field (list every URI in one, comma-separated)",
        "missing rua= (where reports are sent)", 1, parse_rua,
    };
    if (!out) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL argument");
    const record_out o = { out, sizeof *out, &out->version, &out->raw, &out->ext, &out->next };
    return parse_record(ctx, txts, ntxt, &kind, &o, err);
}

int trpt_parse_sts_record(trpt_ctx *ctx, const trpt_str *txts, size_t ntxt, trpt_sts_record *out,
                          trpt_error *err)
{
    /* RFC 8461 §3.2: "If any non-repeated field ... is duplicated, all
     * entries except for the first SHALL be ignored" (TXT records too). */
    static const record_kind kind = {
        "STSv1", RFC_STS, "id", NULL,
        "missing id= (the policy id senders compare to detect changes)", 0, parse_id,
    };
    if (!out) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL argument");
    const record_out o = { out, sizeof *out, &out->version, &out->raw, &out->ext, &out->next };
    return parse_record(ctx, txts, ntxt, &kind, &o, err);
}
