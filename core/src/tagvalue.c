/* Tag=value TXT record helpers shared by record.c (RFC 8460 §3, RFC 8461 §3.1). */
#include "tagvalue.h"

#include <stdio.h>

int trpt__tv_select(const trpt_ctx *ctx, const trpt_str *txts, size_t ntxt, const char *prefix,
                    const char *rfc, size_t *index, trpt_error *err)
{
    const trpt_limits *lim = &ctx->limits;
    size_t plen = strlen(prefix), found = 0, total = 0, near = (size_t)-1;
    if (ntxt > lim->max_elements)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, "max_elements",
                          "%zu TXT records exceed the limit of %zu", ntxt, lim->max_elements);
    for (size_t i = 0; i < ntxt; i++) {
        const trpt_str *t = &txts[i];
        if (!t->ptr && t->len)
            return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL,
                              "TXT record %zu is NULL", i + 1);
        /* Checked per record so the sum cannot overflow. */
        if (t->len > lim->max_input - total)
            return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, "max_input",
                              "TXT records exceed the input limit of %zu bytes", lim->max_input);
        total += t->len;
        /* "v=TLSRPTv10" is another version, not ours: the prefix must end at
         * a field delimiter or the end of the record. */
        if (t->len >= plen && (t->len == plen || t->ptr[plen] == ';' ||
                               trpt__is_wsp((unsigned char)t->ptr[plen]))) {
            if (memcmp(t->ptr, prefix, plen) == 0) {
                if (found++ == 0) *index = i;
            } else if (trpt__ieq(t->ptr, plen, prefix, plen)) {
                near = i;
            }
        }
    }
    if (found == 1) return TRPT_OK;
    if (found > 1)
        return trpt__fail(err, TRPT_E_MULTIPLE, TRPT_NO_OFFSET, rfc, NULL,
                          "%zu TXT records start with %s; exactly one is allowed", found, prefix);
    if (near != (size_t)-1)
        return trpt__fail(err, TRPT_E_NO_RECORD, TRPT_NO_OFFSET, rfc, NULL,
                          "no TXT record starts with %s (record %zu differs in case: "
                          "the version is case-sensitive)", prefix, near + 1);
    return trpt__fail(err, TRPT_E_NO_RECORD, TRPT_NO_OFFSET, rfc, NULL,
                      "no TXT record starts with %s (%zu record%s checked)", prefix, ntxt,
                      ntxt == 1 ? "" : "s");
}

int trpt__tv_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 32 || !trpt__is_alnum((unsigned char)s[0])) return 0;
    for (size_t i = 1; i < n; i++) {
        int c = (unsigned char)s[i];
        if (!trpt__is_alnum(c) && c != '_' && c != '-' && c != '.') return 0;
    }
    return 1;
}

int trpt__tv_split(trpt_ctx *ctx, trpt_str rec, const char *rfc, trpt_vec *fields,
                   trpt_error *err)
{
    trpt_vec v = { .elem = sizeof(trpt_tv_field) };
    const char *s = rec.ptr;
    size_t n = rec.len, pos = 0;
    int rc = TRPT_OK;
    while (pos < n) {
        size_t start = pos, end = pos;
        while (end < n && s[end] != ';') end++;
        size_t next = end < n ? end + 1 : end;
        /* WSP before ";" belongs to the delimiter; so does WSP at the very
         * end of the record (tolerated although the ABNF has no place for it). */
        while (end > start && trpt__is_wsp((unsigned char)s[end - 1])) end--;
        if (end == start) {
            rc = trpt__fail(err, TRPT_E_SYNTAX, start, rfc, NULL,
                            "empty field at offset %zu (fields are separated by one ';')", start);
            goto fail;
        }
        const char *eq = memchr(s + start, '=', end - start);
        if (!eq) {
            rc = trpt__fail(err, TRPT_E_SYNTAX, start, rfc, NULL,
                            "field '%.*s' is not name=value", (int)(end - start > 40 ? 40 : end - start),
                            s + start);
            goto fail;
        }
        size_t nlen = (size_t)(eq - (s + start));
        if (!trpt__tv_name_ok(s + start, nlen)) {
            rc = trpt__fail(err, TRPT_E_SYNTAX, start, rfc, NULL,
                            "bad field name '%.*s' (1-32 letters, digits, '_', '-', '.', "
                            "starting with a letter or digit)", (int)(nlen > 40 ? 40 : nlen), s + start);
            goto fail;
        }
        if (v.len >= ctx->limits.max_elements) {
            rc = trpt__fail(err, TRPT_E_LIMIT, start, NULL, "max_elements",
                            "more than %zu fields in the record", ctx->limits.max_elements);
            goto fail;
        }
        trpt_tv_field *f = trpt__vec_push(ctx, &v);
        if (!f) {
            rc = trpt__nomem(err);
            goto fail;
        }
        f->name = (trpt_str){ s + start, nlen };
        f->value = (trpt_str){ eq + 1, end - start - nlen - 1 };
        f->offset = start;
        f->value_offset = start + nlen + 1;
        /* Skip the delimiter's WSP after ";": a trailing ";" (with or
         * without WSP) ends the record. */
        pos = next;
        while (pos < n && trpt__is_wsp((unsigned char)s[pos])) pos++;
    }
    *fields = v; /* heap memory, not the arena: the fields are not kept */
    return TRPT_OK;
fail:
    trpt__vec_free(ctx, &v);
    return rc;
}

int trpt__tv_ext_value(const trpt_tv_field *f, const char *rfc, trpt_error *err)
{
    char path[40];
    snprintf(path, sizeof path, "%.*s", (int)f->name.len, f->name.ptr);
    if (f->value.len == 0)
        return trpt__fail(err, TRPT_E_SYNTAX, f->value_offset, rfc, path, "empty value");
    for (size_t i = 0; i < f->value.len; i++) {
        int c = (unsigned char)f->value.ptr[i];
        if (c < 0x21 || c > 0x7e || c == '=' || c == ';')
            return trpt__fail(err, TRPT_E_SYNTAX, f->value_offset + i, rfc, path,
                              "character 0x%02x not allowed in a field value "
                              "(printable ASCII except '=', ';' and space)", c);
    }
    return TRPT_OK;
}

size_t trpt__utf8_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t k;
        unsigned min, cp;
        if (c >= 0xc2 && c <= 0xdf) { k = 1; cp = c & 0x1f; min = 0x80; }
        else if (c >= 0xe0 && c <= 0xef) { k = 2; cp = c & 0x0f; min = 0x800; }
        else if (c >= 0xf0 && c <= 0xf4) { k = 3; cp = c & 0x07; min = 0x10000; }
        else return i;
        if (n - i <= k) return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return i;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += k + 1;
    }
    return n;
}
