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

/* s[i], or 0 past the end: lets the octet reader look two bytes ahead. */
static inline unsigned byte_at(const char *s, size_t n, size_t i)
{
    return i < n ? (unsigned char)s[i] : 0;
}

/* Dotted quad, one octet per step (1-3 digits read from three look-ahead
 * bytes): the definition, used where SSE2 is missing. */
int trpt__ipv4_ok_bytes(const char *s, size_t n)
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

#if defined(__SSE2__)
static inline uint64_t load64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t load32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The same check without a branch on the octet lengths (any loop over
 * octets mispredicts on random addresses: 20 ns per address, this 11). The
 * 7-15 bytes are loaded with overlapping word loads, never past s[n - 1];
 * then bit i of each mask describes s[i]. */
static int ipv4_ok(const char *s, size_t n)
{
    if (n - 7 > 8) return 0; /* 7..15 bytes */
    uint64_t lo, hi = 0;
    if (n >= 8) {
        lo = load64(s);
        hi = (load64(s + n - 8) >> (8 * (15 - n))) >> 8; /* bytes 8..n-1 */
    } else {
        lo = load32(s) | (uint64_t)load32(s + 3) << 24;
    }
    const __m128i v = _mm_set_epi64x((long long)hi, (long long)lo);
    const __m128i t = _mm_sub_epi8(v, _mm_set1_epi8('0')); /* digit values 0-9 */
    const unsigned all = (1u << n) - 1;
    unsigned dig = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t));
    dig &= all;
    unsigned dot = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
    unsigned zero = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('0')));
    unsigned start = (1u | dot << 1) & all;        /* first byte of each octet */
    unsigned start3 = start & dig >> 1 & dig >> 2; /* ... of each 3-digit octet */
    /* 100 t[i] + 10 t[i+1] + t[i+2] at every i, in 16-bit lanes; only the
     * starts of 3-digit octets are looked at. */
    const __m128i z = _mm_setzero_si128(), c100 = _mm_set1_epi16(100),
                  c10 = _mm_set1_epi16(10), c255 = _mm_set1_epi16(255);
    const __m128i t1 = _mm_srli_si128(t, 1), t2 = _mm_srli_si128(t, 2);
    __m128i lo3 = _mm_add_epi16(_mm_mullo_epi16(_mm_unpacklo_epi8(t, z), c100),
                                _mm_mullo_epi16(_mm_unpacklo_epi8(t1, z), c10));
    lo3 = _mm_add_epi16(lo3, _mm_unpacklo_epi8(t2, z));
    __m128i hi3 = _mm_add_epi16(_mm_mullo_epi16(_mm_unpackhi_epi8(t, z), c100),
                                _mm_mullo_epi16(_mm_unpackhi_epi8(t1, z), c10));
    hi3 = _mm_add_epi16(hi3, _mm_unpackhi_epi8(t2, z));
    unsigned big = (unsigned)_mm_movemask_epi8(
        _mm_packs_epi16(_mm_cmpgt_epi16(lo3, c255), _mm_cmpgt_epi16(hi3, c255)));
    /* Exactly three dots: clearing the lowest set bit twice leaves some,
     * three times none (baseline x86-64 has no popcnt instruction). */
    unsigned rest2 = dot & (dot - 1);
    rest2 &= rest2 - 1;
    unsigned rest3 = rest2 & (rest2 - 1);
    unsigned bad = ((dig | dot) != all) | (rest2 == 0) | (rest3 != 0) |
                   ((dot & dot >> 1) != 0) | (dot & 1) | (dot >> (n - 1) & 1) | /* empty octet */
                   ((dig & dig >> 1 & dig >> 2 & dig >> 3) != 0) |              /* 4 digits */
                   ((zero & start & dig >> 1) != 0) |                           /* leading 0 */
                   ((big & start3) != 0);                                       /* over 255 */
    return !bad;
}
#else
#define ipv4_ok trpt__ipv4_ok_bytes
#endif

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

trpt_str trpt__contact_domain(trpt_str c)
{
    for (size_t i = c.len; i-- > 0;)
        if (c.ptr[i] == '@') {
            trpt_str d = { c.ptr + i + 1, c.len - i - 1 };
            return i > 0 && trpt__domain_ok(d.ptr, d.len, 0) ? d : (trpt_str){ NULL, 0 };
        }
    return (trpt_str){ NULL, 0 };
}
