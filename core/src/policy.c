/* MTA-STS policy file (RFC 8461 §3.2) and MX host matching (RFC 8461 §4.1).
 *
 * Lines are "key: value" ending in LF or CRLF, the last one possibly
 * without. Keys and the version / mode values are case-sensitive (%s in
 * the ABNF). Decisions where the RFC leaves room:
 *  - A repeated version, mode or max_age keeps the first value (RFC 8461
 *    §3.2 ignores the later entries of a field other than mx); the later
 *    lines go unchecked into ignored, so that a checker can point them out.
 *    Unknown keys are kept in ext in file order, repeats included, so the
 *    first one is the effective value.
 *  - Blank lines (empty or WSP only) are skipped, although the ABNF has no
 *    place for them: they are harmless and common at the end of files.
 *  - An mx pattern may end in a dot (ignored when matching).
 * Caps: the input size (max_input), the number of lines, blank ones
 * included (max_elements, which bounds the mx and ext counts too) and the
 * length of one value (max_string), each TRPT_E_LIMIT. */
#include "tagvalue.h"
#include "hostname.h"

#include <stdio.h>

#define RFC_POLICY "RFC 8461 §3.2"
#define MAX_AGE_MAX 31557600 /* one year, RFC 8461 §3.2 */
#define QUOTE_MAX 80
#define Q(n) (int)((n) > QUOTE_MAX ? QUOTE_MAX : (n))

/* Handles one non-blank line; key/value are slices of the input. */
static int policy_line(trpt_ctx *ctx, trpt_sts_policy *out, trpt_vec *mx, trpt_vec *ext,
                       trpt_vec *ignored, unsigned *seen, trpt_str key, trpt_str val,
                       size_t voff, size_t lineno, trpt_error *err)
{
    enum { SEEN_VERSION = 1, SEEN_MODE = 2, SEEN_MAX_AGE = 4 };
    char path[40];
    snprintf(path, sizeof path, "%.*s", (int)key.len, key.ptr);
#define KEY(lit) (key.len == sizeof(lit) - 1 && memcmp(key.ptr, lit, key.len) == 0)
    unsigned once = KEY("version") ? SEEN_VERSION : KEY("mode") ? SEEN_MODE
                  : KEY("max_age") ? SEEN_MAX_AGE : 0;
    if (*seen & once) {
        trpt_kv *kv = trpt__vec_push(ctx, ignored);
        if (!kv) return trpt__nomem(err);
        *kv = (trpt_kv){ key, val };
        return TRPT_OK;
    }
    *seen |= once;
    if (once == SEEN_VERSION) {
        if (!(val.len == 5 && memcmp(val.ptr, "STSv1", 5) == 0))
            return trpt__fail(err, TRPT_E_VERSION, voff, RFC_POLICY, path,
                              "line %zu: '%.*s' is not STSv1", lineno, Q(val.len), val.ptr);
        out->version = val;
    } else if (once == SEEN_MODE) {
        if (val.len == 7 && memcmp(val.ptr, "enforce", 7) == 0) out->mode = TRPT_MODE_ENFORCE;
        else if (val.len == 7 && memcmp(val.ptr, "testing", 7) == 0) out->mode = TRPT_MODE_TESTING;
        else if (val.len == 4 && memcmp(val.ptr, "none", 4) == 0) out->mode = TRPT_MODE_NONE;
        else
            return trpt__fail(err, TRPT_E_FIELD, voff, RFC_POLICY, path,
                              "line %zu: '%.*s' is not enforce, testing or none "
                              "(lowercase)", lineno, Q(val.len), val.ptr);
    } else if (once == SEEN_MAX_AGE) {
        /* 1*10(DIGIT): at most ten digits are read, which fit in 64 bits. */
        int64_t v = 0;
        size_t i = 0;
        while (i < val.len && i <= 10 && trpt__is_digit((unsigned char)val.ptr[i]))
            v = v * 10 + (val.ptr[i++] - '0');
        if (val.len == 0 || i != val.len || val.len > 10)
            return trpt__fail(err, TRPT_E_FIELD, voff, RFC_POLICY, path,
                              "line %zu: '%.*s' is not 1 to 10 digits", lineno,
                              Q(val.len), val.ptr);
        if (v > MAX_AGE_MAX)
            return trpt__fail(err, TRPT_E_FIELD, voff, RFC_POLICY, path,
                              "line %zu: %lld exceeds %d seconds (one year)", lineno,
                              (long long)v, MAX_AGE_MAX);
        out->max_age = v;
    } else if (KEY("mx")) {
        /* ["*."] Domain (RFC 5321 §4.1.2 LDH labels): hostname.c, shared
         * with the report parser and builder. */
        if (!trpt__domain_ok(val.ptr, val.len, 1))
            return trpt__fail(err, TRPT_E_FIELD, voff, RFC_POLICY, path,
                              "line %zu: '%.*s' is not a host name or *.-wildcard "
                              "(LDH labels; IDNs in xn-- form)", lineno, Q(val.len), val.ptr);
        trpt_str *m = trpt__vec_push(ctx, mx);
        if (!m) return trpt__nomem(err);
        *m = val;
    } else {
        if (val.len == 0)
            return trpt__fail(err, TRPT_E_SYNTAX, voff, RFC_POLICY, path,
                              "line %zu: empty value", lineno);
        trpt_kv *kv = trpt__vec_push(ctx, ext);
        if (!kv) return trpt__nomem(err);
        kv->key = key;
        kv->value = val;
    }
#undef KEY
    return TRPT_OK;
}

int trpt_parse_sts_policy(trpt_ctx *ctx, const char *text, size_t len, trpt_sts_policy *out,
                          trpt_error *err)
{
    if (!ctx || !out || (!text && len))
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL argument");
    memset(out, 0, sizeof *out);
    const trpt_limits *lim = &ctx->limits;
    if (len > lim->max_input)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, "max_input",
                          "policy of %zu bytes exceeds the input limit of %zu", len, lim->max_input);
    trpt_vec mx = { .elem = sizeof(trpt_str) }, ext = { .elem = sizeof(trpt_kv) },
             ignored = { .elem = sizeof(trpt_kv) };
    unsigned seen = 0;
    size_t pos = 0, lineno = 0;
    int rc = TRPT_OK;
    while (pos < len) {
        if (++lineno > lim->max_elements) {
            rc = trpt__fail(err, TRPT_E_LIMIT, pos, NULL, "max_elements",
                            "more than %zu lines", lim->max_elements);
            goto fail;
        }
        size_t ls = pos;
        const char *nl = memchr(text + ls, '\n', len - ls);
        size_t e = nl ? (size_t)(nl - text) : len;
        pos = nl ? e + 1 : len;
        /* sts-policy-term = LF / CRLF: a CR counts only right before LF. */
        if (nl && e > ls && text[e - 1] == '\r') e--;
        while (e > ls && trpt__is_wsp((unsigned char)text[e - 1])) e--;
        if (e == ls) continue;
        const char *colon = memchr(text + ls, ':', e - ls);
        if (!colon) {
            rc = trpt__fail(err, TRPT_E_SYNTAX, ls, RFC_POLICY, NULL,
                            "line %zu: expected 'key: value'", lineno);
            goto fail;
        }
        trpt_str key = { text + ls, (size_t)(colon - (text + ls)) };
        if (!trpt__tv_name_ok(key.ptr, key.len)) {
            rc = trpt__fail(err, TRPT_E_SYNTAX, ls, RFC_POLICY, NULL,
                            "line %zu: bad key '%.*s' (1-32 letters, digits, '_', '-', '.', "
                            "no space before ':')", lineno, Q(key.len), key.ptr);
            goto fail;
        }
        size_t vs = (size_t)(colon - text) + 1;
        while (vs < e && trpt__is_wsp((unsigned char)text[vs])) vs++;
        trpt_str val = { text + vs, e - vs };
        if (val.len > lim->max_string) {
            rc = trpt__fail(err, TRPT_E_LIMIT, vs, NULL, "max_string",
                            "line %zu: value of %zu bytes exceeds the limit of %zu", lineno,
                            val.len, lim->max_string);
            goto fail;
        }
        /* Values are visible characters, UTF-8 included, with inner spaces
         * (sts-policy-ext-value: %x20, not HTAB; WSP around it is cut). */
        for (size_t i = 0; i < val.len; i++) {
            int c = (unsigned char)val.ptr[i];
            if (c < 0x20 || c == 0x7f) {
                rc = trpt__fail(err, TRPT_E_SYNTAX, vs + i, RFC_POLICY, NULL,
                                c == '\r'   ? "line %zu: CR not followed by LF"
                                : c == '\t' ? "line %zu: tab inside a value (only spaces)"
                                            : "line %zu: control character in a value", lineno);
                goto fail;
            }
        }
        size_t ok = trpt__utf8_prefix((const unsigned char *)val.ptr, val.len);
        if (ok != val.len) {
            rc = trpt__fail(err, TRPT_E_UTF8, vs + ok, RFC_POLICY, NULL,
                            "line %zu: invalid UTF-8", lineno);
            goto fail;
        }
        if ((rc = policy_line(ctx, out, &mx, &ext, &ignored, &seen, key, val, vs, lineno, err)))
            goto fail;
    }
    if (!out->version.ptr) {
        rc = trpt__fail(err, TRPT_E_VERSION, TRPT_NO_OFFSET, RFC_POLICY, "version",
                        "missing 'version: STSv1'");
        goto fail;
    }
    if (!out->mode) {
        rc = trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, RFC_POLICY, "mode", "missing mode");
        goto fail;
    }
    if (!(seen & 4)) {
        rc = trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, RFC_POLICY, "max_age",
                        "missing max_age");
        goto fail;
    }
    if (mx.len == 0 && out->mode != TRPT_MODE_NONE) {
        rc = trpt__fail(err, TRPT_E_FIELD, TRPT_NO_OFFSET, RFC_POLICY, "mx",
                        "no mx line (required unless mode is none)");
        goto fail;
    }
    out->nmx = mx.len;
    out->mx = trpt__vec_finish(ctx, &mx);
    out->next = ext.len;
    out->ext = trpt__vec_finish(ctx, &ext);
    out->nignored = ignored.len;
    out->ignored = trpt__vec_finish(ctx, &ignored);
    if ((out->nmx && !out->mx) || (out->next && !out->ext) || (out->nignored && !out->ignored)) {
        memset(out, 0, sizeof *out);
        return trpt__nomem(err);
    }
    return TRPT_OK;
fail:
    trpt__vec_free(ctx, &mx);
    trpt__vec_free(ctx, &ext);
    trpt__vec_free(ctx, &ignored);
    memset(out, 0, sizeof *out);
    return rc;
}

/* A host that can match: one trailing dot dropped, then a host name (LDH
 * labels), never a pattern: "*", a NUL or a space in it matches nothing,
 * also where "*." would take its first label. 0 if it cannot. */
static size_t host_len(const char *host, size_t hlen)
{
    if (!host) return 0;
    if (hlen && host[hlen - 1] == '.') hlen--;
    /* trpt__domain_ok would drop a second dot: "a.." is no name */
    if (!hlen || host[hlen - 1] == '.') return 0;
    return trpt__domain_ok(host, hlen, 0) ? hlen : 0;
}

/* pattern against a host that passed host_len. */
static int match(const char *pattern, size_t plen, const char *host, size_t hlen)
{
    if (!pattern) return 0;
    if (plen && pattern[plen - 1] == '.') plen--;
    if (plen == 0) return 0;
    if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
        /* "*." stands for exactly one leftmost label. */
        const char *dot = memchr(host, '.', hlen);
        if (!dot || plen == 2) return 0;
        size_t rest = hlen - (size_t)(dot + 1 - host);
        return trpt__ieq(dot + 1, rest, pattern + 2, plen - 2);
    }
    return trpt__ieq(pattern, plen, host, hlen);
}

int trpt_mx_pattern_match(const char *pattern, size_t plen, const char *host, size_t hlen)
{
    hlen = host_len(host, hlen);
    return hlen && match(pattern, plen, host, hlen);
}

int trpt_sts_mx_match(const trpt_sts_policy *policy, const char *host, size_t len)
{
    size_t hlen = host_len(host, len);
    if (!policy || !hlen) return 0;
    for (size_t i = 0; i < policy->nmx; i++)
        if (match(policy->mx[i].ptr, policy->mx[i].len, host, hlen)) return 1;
    return 0;
}
