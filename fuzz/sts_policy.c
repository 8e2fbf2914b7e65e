/* Fuzz target: MTA-STS policy file (RFC 8461 §3.2) and MX matching (§4.1).
 * Input: the policy text; a NUL byte, when present, ends it and the bytes
 * after the last NUL are a host name to match against the policy. */
#include "common.h"

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static int ieq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) return 0;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return 1;
}

/* A plain DNS name: LDH labels, no empty label, one optional final dot. */
static int plain_name(const char *s, size_t n, int allow_star)
{
    if (n && s[n - 1] == '.') n--;
    if (n == 0) return 0;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0) return 0;
            label = 0;
        } else if (c == '*' && allow_star && i == 0 && n > 2 && s[1] == '.') {
            label++;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-') {
            label++;
        } else {
            return 0;
        }
    }
    return label > 0;
}

/* A host name (RFC 1123 §2.1): labels of 1-63 letters, digits and inner
 * hyphens, at most 253 bytes, one optional final dot. */
static int host_name(const char *s, size_t n)
{
    if (n && s[n - 1] == '.') n--;
    if (n == 0 || n > 253) return 0;
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i < n && s[i] != '.') continue;
        size_t len = i - start;
        if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-') return 0;
        start = i + 1;
    }
    return plain_name(s, n, 0);
}

/* RFC 8461 §4.1 on plain names: case-insensitive, final dot ignored, a
 * leading "*." stands for exactly one label; the host must be a name. */
static int ref_match(const char *p, size_t pn, const char *h, size_t hn)
{
    if (!host_name(h, hn)) return 0;
    if (pn && p[pn - 1] == '.') pn--;
    if (hn && h[hn - 1] == '.') hn--;
    if (pn >= 2 && p[0] == '*' && p[1] == '.') {
        const char *dot = memchr(h, '.', hn);
        if (!dot || dot == h) return 0;
        size_t rest = hn - (size_t)(dot + 1 - h);
        return ieq(p + 2, pn - 2, dot + 1, rest);
    }
    return ieq(p, pn, h, hn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *host = NULL;
    size_t tlen = size, hlen = 0;
    const uint8_t *nul = NULL;
    for (size_t i = size; i-- > 0;)
        if (data[i] == 0) { nul = data + i; break; }
    if (nul) {
        tlen = (size_t)(nul - data);
        host = (const char *)nul + 1;
        hlen = size - tlen - 1;
    }
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    if (!ctx) return 0;
    trpt_sts_policy p;
    trpt_error err;
    int rc = trpt_parse_sts_policy(ctx, text, tlen, &p, &err);
    if (rc != TRPT_OK) {
        fuzz_check_error(rc, &err);
    } else {
        FUZZ_CHECK(p.version.len == 5 && memcmp(p.version.ptr, "STSv1", 5) == 0, "version");
        FUZZ_CHECK(p.mode >= TRPT_MODE_ENFORCE && p.mode <= TRPT_MODE_NONE, "mode %d", p.mode);
        FUZZ_CHECK(p.max_age >= 0 && p.max_age <= 31557600, "max_age %lld", (long long)p.max_age);
        FUZZ_CHECK(p.mx || p.nmx == 0, "NULL mx");
        for (size_t i = 0; i < p.nmx; i++) {
            fuzz_touch(p.mx[i]);
            /* A literal pattern matches itself (and a wildcard one a host
             * made by filling in its label). */
            const trpt_str m = p.mx[i];
            if (plain_name(m.ptr, m.len, 1)) {
                char buf[512];
                if (m.len + 1 < sizeof buf) {
                    memcpy(buf, m.ptr, m.len);
                    if (m.ptr[0] == '*') buf[0] = 'x';
                    FUZZ_CHECK(trpt_sts_mx_match(&p, buf, m.len), "mx '%.*s' does not match itself",
                               (int)m.len, m.ptr);
                }
            }
        }
        fuzz_touch_kvs(p.ext, p.next);
        fuzz_touch_kvs(p.ignored, p.nignored);
        if (host) {
            int any = 0;
            for (size_t i = 0; i < p.nmx; i++)
                any |= trpt_mx_pattern_match(p.mx[i].ptr, p.mx[i].len, host, hlen);
            FUZZ_CHECK(trpt_sts_mx_match(&p, host, hlen) == any,
                       "policy match differs from per-pattern match");
            /* Only a host name matches, also where "*." takes its first label. */
            FUZZ_CHECK(!any || host_name(host, hlen), "host '%.*s' is no name but matched",
                       (int)hlen, host);
        }
    }
    /* Differential on single patterns: the whole text as pattern when it is
     * a plain name, against the host. */
    if (host && plain_name(text, tlen, 1) && plain_name(host, hlen, 0)) {
        int got = trpt_mx_pattern_match(text, tlen, host, hlen);
        int want = ref_match(text, tlen, host, hlen);
        FUZZ_CHECK(got == want, "pattern '%.*s' host '%.*s': got %d want %d", (int)tlen, text,
                   (int)hlen, host, got, want);
    }
    trpt_ctx_free(ctx);
    return 0;
}
