/* Host syntax checks (hostname.h): domain names, IP addresses. */
#include "hostname.h"

#include <arpa/inet.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The definition, one byte at a time (any length). */
int trpt__domain_ok_bytes(const char *s, size_t n)
{
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? s[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-') return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            label++;
        } else if (c == '-') {
            if (label == 0) return 0; /* leading hyphen */
            label++;
        } else {
            return 0;
        }
    }
    return 1;
}

#if defined(__SSE2__)
/* The same for 1..64 bytes without a branch per byte: the parser runs it
 * on every failure detail's receiving-mx-hostname, and the byte loop's
 * mispredicted label ends cost 15% of the C core on the bench reports.
 * Bit masks of dots, hyphens and letters/digits; a label ends at a dot, so
 * "no empty label, no hyphen next to a dot or at either end" are shifts
 * and ands, and a label can only pass 63 bytes in 64 without a dot. */
static int domain_ok_64(const char *s, size_t n)
{
    unsigned char b[64] = { 0 };
    memcpy(b, s, n);
    uint64_t dots = 0, hy = 0, ldh = 0;
    for (int k = 0; k < (int)(n + 15) / 16; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(b + 16 * k));
        __m128i lower = _mm_or_si128(x, _mm_set1_epi8(0x20));
        /* c in [lo, lo+n) <=> (c - lo - 128) < n - 128 as signed bytes */
        __m128i letter = _mm_cmplt_epi8(_mm_sub_epi8(lower, _mm_set1_epi8((char)('a' + 128))),
                                        _mm_set1_epi8((char)(26 - 128)));
        __m128i digit = _mm_cmplt_epi8(_mm_sub_epi8(x, _mm_set1_epi8((char)('0' + 128))),
                                       _mm_set1_epi8((char)(10 - 128)));
        __m128i dot = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
        __m128i hyp = _mm_cmpeq_epi8(x, _mm_set1_epi8('-'));
        int sh = 16 * k;
        dots |= (uint64_t)(unsigned)_mm_movemask_epi8(dot) << sh;
        hy |= (uint64_t)(unsigned)_mm_movemask_epi8(hyp) << sh;
        ldh |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(letter, digit)) << sh;
    }
    uint64_t all = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
    uint64_t ends = 1 | (uint64_t)1 << (n - 1), edge = dots | hy;
    if (((ldh | dots | hy) & all) != all) return 0; /* another byte */
    if (edge & ends) return 0;                      /* leading/trailing '.' or '-' */
    if (dots & (dots >> 1)) return 0;               /* empty label */
    if (hy & ((dots >> 1) | (dots << 1))) return 0; /* '-' next to a '.' */
    return n < 64 || dots != 0;                     /* a 64-byte label */
}
#endif

int trpt__domain_ok(const char *s, size_t n, int wildcard)
{
    if (!s) return 0;
    if (wildcard && n >= 2 && s[0] == '*' && s[1] == '.') {
        s += 2;
        n -= 2;
    }
    if (n && s[n - 1] == '.') n--; /* absolute form */
    if (n == 0 || n > 253) return 0;
#if defined(__SSE2__)
    if (n <= 64) return domain_ok_64(s, n);
#endif
    return trpt__domain_ok_bytes(s, n);
}

/* s[i], or 0 past the end: lets the octet reader look two bytes ahead
 * without a branch per byte. */
static inline unsigned byte_at(const char *s, size_t n, size_t i)
{
    return i < n ? (unsigned char)s[i] : 0;
}

/* Dotted quad, one octet per step: its length (1-3 digits) and value come
 * from three look-ahead bytes (a byte-at-a-time digit/dot loop took 31 ns
 * per random address, this 22). */
static int ipv4_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (n < 7 || n > 15) return 0;
    for (int k = 0; k < 4; k++) {
        unsigned d0 = byte_at(s, n, i) - '0', d1 = byte_at(s, n, i + 1) - '0',
                 d2 = byte_at(s, n, i + 2) - '0';
        unsigned two = d1 <= 9, three = two & (d2 <= 9);
        unsigned v = three ? d0 * 100 + d1 * 10 + d2 : two ? d0 * 10 + d1 : d0;
        if ((d0 > 9) | (two & (d0 == 0)) | (v > 255)) return 0; /* leading zero, 256+ */
        i += 1 + two + three;
        if (k < 3 && byte_at(s, n, i++) != '.') return 0; /* also a 4th digit */
    }
    return i == n;
}

/* IPv4 first (the parser runs this twice per failure detail); what fails
 * that and holds a ':' goes to inet_pton as IPv6. */
int trpt__ip_ok(const char *s, size_t n)
{
    if (ipv4_ok(s, n)) return 1;
    if (n < 2 || n > 45 || !memchr(s, ':', n) || memchr(s, '\0', n)) return 0;
    char buf[46];
    unsigned char addr[16];
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET6, buf, addr) == 1;
}
