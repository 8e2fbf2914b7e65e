/* RFC 2047 encoded words ("=?utf-8?B?...?=") in unstructured headers. */
#include "mime.h"

enum { CS_UNKNOWN, CS_UTF8, CS_ASCII, CS_LATIN1 };

static int charset_of(const char *s, size_t n)
{
    /* RFC 2231 §5: "charset*language" — the language tag is irrelevant here. */
    for (size_t i = 0; i < n; i++)
        if (s[i] == '*') { n = i; break; }
    static const struct { const char *name; int cs; } names[] = {
        { "utf-8", CS_UTF8 },         { "utf8", CS_UTF8 },
        { "us-ascii", CS_ASCII },     { "ascii", CS_ASCII },
        { "iso-8859-1", CS_LATIN1 },  { "iso8859-1", CS_LATIN1 },
        { "iso_8859-1", CS_LATIN1 },  { "latin1", CS_LATIN1 },
        { "l1", CS_LATIN1 },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (trpt__ieq(s, n, names[i].name, strlen(names[i].name))) return names[i].cs;
    return CS_UNKNOWN;
}

/* Strict UTF-8 (no overlongs, no surrogates, max U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { k = 1; min = 0x80; c &= 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 2; min = 0x800; c &= 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 3; min = 0x10000; c &= 0x07; }
        else return 0;
        if (n - i <= k) return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            c = (c << 6) | (s[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

#define NOMEM ((size_t)-1)

/* Tries one encoded word at p; on success appends its UTF-8 text at o and
 * returns the bytes consumed; 0 when it is no word, NOMEM when out of
 * memory. o has room for 2 * n bytes. */
static size_t word(trpt_ctx *ctx, const char *p, size_t n, char *o, size_t *olen)
{
    if (n < 8 || p[0] != '=' || p[1] != '?') return 0;
    size_t i = 2, cs_start = 2;
    while (i < n && p[i] != '?' && p[i] > ' ' && p[i] < 127) i++;
    if (i >= n || p[i] != '?' || i == cs_start) return 0;
    int cs = charset_of(p + cs_start, i - cs_start);
    if (cs == CS_UNKNOWN) return 0;
    if (i + 2 >= n || p[i + 2] != '?') return 0;
    char enc = (char)trpt__lower((unsigned char)p[i + 1]);
    if (enc != 'b' && enc != 'q') return 0;
    size_t t0 = i + 3, t = t0;
    /* Encoded text: no whitespace and no "?" (RFC 2047 §2), ends at "?=".
     * Stopping at the first "?" keeps the scans linear: one never runs
     * past the next word's start. */
    while (t < n && p[t] != '?') {
        if (p[t] == ' ' || p[t] == '\t' || p[t] == '\r' || p[t] == '\n') return 0;
        t++;
    }
    if (t + 1 >= n || p[t + 1] != '=') return 0;
    size_t end = t + 2;

    const unsigned char *bytes;
    size_t nb;
    unsigned char *tmp = NULL;
    if (enc == 'b') {
        trpt_str dec;
        trpt_error scratch;
        int rc = trpt__base64_decode(ctx, p + t0, t - t0, &dec, &scratch);
        if (rc == TRPT_E_NOMEM) return NOMEM;
        if (rc != TRPT_OK) return 0;
        bytes = (const unsigned char *)dec.ptr;
        nb = dec.len;
    } else {
        tmp = trpt_ctx_alloc(ctx, t - t0 + 1);
        if (!tmp) return NOMEM;
        nb = 0;
        for (size_t k = t0; k < t; k++) {
            unsigned char c = (unsigned char)p[k];
            if (c == '_') {
                tmp[nb++] = ' '; /* §4.2 (2) */
            } else if (c == '=') {
                int hi = k + 2 < t ? hexval((unsigned char)p[k + 1]) : -1;
                int lo = k + 2 < t ? hexval((unsigned char)p[k + 2]) : -1;
                if (hi < 0 || lo < 0) return 0;
                tmp[nb++] = (unsigned char)(hi << 4 | lo);
                k += 2;
            } else {
                tmp[nb++] = c;
            }
        }
        bytes = tmp;
    }
    size_t w = *olen;
    if (cs == CS_LATIN1) {
        for (size_t k = 0; k < nb; k++) {
            if (bytes[k] < 0x80) {
                o[w++] = (char)bytes[k];
            } else {
                o[w++] = (char)(0xC0 | bytes[k] >> 6);
                o[w++] = (char)(0x80 | (bytes[k] & 0x3F));
            }
        }
    } else {
        /* Text that is not valid in its own charset stays encoded. */
        if (cs == CS_UTF8 && !utf8_valid(bytes, nb)) return 0;
        if (cs == CS_ASCII)
            for (size_t k = 0; k < nb; k++)
                if (bytes[k] >= 0x80) return 0;
        memcpy(o + w, bytes, nb);
        w += nb;
    }
    *olen = w;
    return end;
}

int trpt__rfc2047_decode(trpt_ctx *ctx, trpt_str in, trpt_str *out, trpt_error *err)
{
    const char *p = in.ptr;
    size_t n = in.len;
    if (!memchr(p ? p : "", '?', n)) { /* nothing to decode: keep the slice */
        *out = in;
        return TRPT_OK;
    }
    if (n > ctx->limits.max_string)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, NULL,
                          "header value longer than max_string (%zu bytes)",
                          ctx->limits.max_string);
    /* Latin-1 doubles at most; everything else shrinks. */
    char *o = trpt_ctx_alloc(ctx, 2 * n + 1);
    if (!o) return trpt__nomem(err);
    size_t olen = 0, mark = 0;
    int after_word = 0; /* only whitespace since the last encoded word */
    for (size_t i = 0; i < n;) {
        if (p[i] == '=' && i + 1 < n && p[i + 1] == '?') {
            size_t keep = olen;
            if (after_word) olen = mark; /* §6.2: whitespace between words goes */
            size_t used = word(ctx, p + i, n - i, o, &olen);
            if (used == NOMEM)
                return trpt__nomem(err);
            if (used) {
                i += used;
                after_word = 1;
                mark = olen;
                continue;
            }
            olen = keep;
        }
        unsigned char c = (unsigned char)p[i];
        if (!(c == ' ' || c == '\t' || c == '\r' || c == '\n')) after_word = 0;
        o[olen++] = (char)c;
        i++;
    }
    if (olen > ctx->limits.max_string)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, NULL,
                          "decoded header longer than max_string (%zu bytes)",
                          ctx->limits.max_string);
    o[olen] = '\0';
    out->ptr = o;
    out->len = olen;
    return TRPT_OK;
}
