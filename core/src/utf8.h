/* UTF-8 validation (RFC 3629): shortest form only, no surrogates, nothing
 * above U+10FFFF. The JSON scanner calls this only on non-ASCII bytes. */
#ifndef TRPT_UTF8_H
#define TRPT_UTF8_H

#include <stddef.h>

/* Length (2-4) of the valid multi-byte sequence at p (p < e, *p >= 0x80),
 * or 0 when it is invalid or truncated. */
static inline size_t trpt__utf8_seq(const char *sp, const char *se)
{
    const unsigned char *p = (const unsigned char *)sp, *e = (const unsigned char *)se;
    unsigned c = p[0];
    size_t avail = (size_t)(e - p);
    if (c >= 0xC2 && c <= 0xDF) {
        return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && p[1] > 0x9F) return 0;  /* UTF-16 surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0;  /* overlong */
        if (c == 0xF4 && p[1] > 0x8F) return 0;  /* above U+10FFFF */
        return 4;
    }
    return 0; /* continuation byte, C0/C1, F5-FF */
}

/* 1 if s[0..n) is entirely valid UTF-8. */
int trpt__utf8_valid(const char *s, size_t n) __attribute__((visibility("hidden")));

/* Rewrites the NUL-terminated s in place: controls (C0, DEL, C1) and bytes
 * of invalid or cut-off UTF-8 become '?'; the length does not change. */
void trpt__text_clean(char *s) __attribute__((visibility("hidden")));

#endif
