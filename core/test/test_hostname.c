/* Host checks (core/src/hostname.c): the domain check's 64-byte SIMD path
 * against the byte-at-a-time definition on random and edge-case names, plus
 * hand-checked cases (RFC 1035 §2.3.1 LDH labels, RFC 8461 "*." patterns);
 * the IP check's SIMD and octet-at-a-time IPv4 paths against glibc's
 * inet_pton. */
#include "tap.h"
#include "hostname.h"

#include <arpa/inet.h>
#include <stdint.h>

#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

/* What trpt__domain_ok must answer: the prefix and dot handling of
 * hostname.c, then the definition on every length. */
static int reference(const char *s, size_t n, int wildcard)
{
    if (wildcard && n >= 2 && s[0] == '*' && s[1] == '.') s += 2, n -= 2;
    if (n && s[n - 1] == '.') n--;
    if (n == 0 || n > 253) return 0;
    return trpt__domain_ok_bytes(s, n);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void) /* xorshift64: deterministic runs */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

int main(void)
{
    static const struct { const char *s; int wildcard, want; } cases[] = {
        { "mx.example.com", 0, 1 },   { "mx.example.com.", 0, 1 }, { "MX1.Example-2.COM", 0, 1 },
        { "a", 0, 1 },                { "xn--bcher-kva.example", 0, 1 }, { "*.example.com", 1, 1 },
        { "*.example.com", 0, 0 },    { "mx*.example.com", 1, 0 }, { "", 0, 0 },
        { ".", 0, 0 },                { ".example.com", 0, 0 },    { "a..b", 0, 0 },
        { "a.b..", 0, 0 },            { "-a.b", 0, 0 },            { "a-.b", 0, 0 },
        { "a.-b", 0, 0 },             { "a.b-", 0, 0 },            { "a-b.c", 0, 1 },
        { "mx.example.com:25", 0, 0 }, { "<MY_MAILSERVER_HOSTNAME>", 0, 0 },
        { "_mta-sts.example.com", 0, 0 }, { "ex ample.com", 0, 0 }, { "b\xc3\xbc" "cher.de", 0, 0 },
        { "*.", 1, 0 },               { "*", 1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        is_int(trpt__domain_ok(cases[i].s, strlen(cases[i].s), cases[i].wildcard), cases[i].want,
               "'%s'%s", cases[i].s, cases[i].wildcard ? " (pattern)" : "");

    /* Label and total lengths around 63/64 and 253/254, with and without a
     * trailing dot: both paths and the switch between them at 64 bytes. */
    char buf[300];
    int agree = 1;
    for (size_t lab = 1; lab <= 70; lab++)
        for (size_t total = lab; total <= 260; total += (total < 80 || total > 245) ? 1 : 7) {
            size_t n = 0;
            while (n < total) {
                for (size_t k = 0; k < lab && n < total; k++, n++) buf[n] = (char)('a' + n % 26);
                if (n < total) buf[n++] = '.';
            }
            for (int dot = 0; dot < 2; dot++) {
                size_t m = n;
                if (dot) buf[m++] = '.';
                if (trpt__domain_ok(buf, m, 0) != reference(buf, m, 0)) {
                    if (agree) diag("length case differs: label %zu, %zu bytes", lab, m);
                    agree = 0;
                }
            }
        }
    ok(agree, "label/total lengths 1-70 / 1-260: SIMD path agrees with the definition");
    memset(buf, 'q', 64);
    is_int(trpt__domain_ok(buf, 63, 0), 1, "a 63-byte label");
    is_int(trpt__domain_ok(buf, 64, 0), 0, "a 64-byte label");

    /* Random names over an alphabet that hits every rule, mostly letters
     * so that valid names are common too. */
    static const char pool[16] = { 'a', 'a', 'a', 'a', 'a', 'Z', '0', '9',
                                   '-', '.', '.', '*', '_', ' ', '\xc3', ':' };
    agree = 1;
    size_t valid = 0;
    for (int t = 0; t < 300000; t++) {
        size_t n = (size_t)(rnd() % 72);
        uint64_t r = rnd();
        for (size_t i = 0; i < n; i++) {
            if (i % 16 == 0) r = rnd();
            buf[i] = pool[r & 15];
            r >>= 4;
        }
        int wc = (int)(rnd() & 1);
        if (wc && n >= 2 && (rnd() & 1)) buf[0] = '*', buf[1] = '.';
        int got = trpt__domain_ok(buf, n, wc), want = reference(buf, n, wc);
        valid += (size_t)want;
        if (got != want) {
            if (agree) diag("random case differs: '%.*s' (%zu bytes) got %d", (int)n, buf, n, got);
            agree = 0;
        }
    }
    ok(agree, "300000 random names: SIMD path agrees with the definition");
    ok(valid > 1000, "the random names include valid ones (%zu)", valid);

    static const struct { const char *s; int want; } ips[] = {
        { "192.0.2.1", 1 },     { "0.0.0.0", 1 },       { "255.255.255.255", 1 },
        { "256.1.1.1", 0 },     { "1.1.1.256", 0 },     { "01.2.3.4", 0 },
        { "1.2.3.04", 0 },      { "1.2.3", 0 },         { "1.2.3.4.", 0 },
        { "1.2.3.4.5", 0 },     { "1..3.4", 0 },        { ".1.2.3", 0 },
        { "1.2.3.1234", 0 },    { "1234.1.1.1", 0 },    { " 1.2.3.4", 0 },
        { "2001:db8::1", 1 },   { "::ffff:192.0.2.1", 1 }, { "2001:db8::g", 0 },
        { "mx.example.com", 0 }, { "", 0 },
    };
    for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++)
        is_int(trpt__ip_ok(ips[i].s, strlen(ips[i].s)), ips[i].want, "ip '%s'", ips[i].s);
    is_int(trpt__ip_ok("1.2.3.4\0", 8), 0, "ip with a NUL after it");
    is_int(trpt__ip_ok("1.2.\0.4", 7), 0, "ip with a NUL inside");

    /* Random dotted strings, half of them built from four octets written
     * with 1-3 digits (leading zeros and values past 255 included). */
    agree = 1;
    valid = 0;
    for (int t = 0; t < 300000; t++) {
        size_t n = 0;
        if (rnd() & 1) {
            for (int k = 0; k < 4; k++) {
                unsigned digits = 1 + (unsigned)(rnd() % 3), v = (unsigned)(rnd() % 300);
                n += (size_t)snprintf(buf + n, 8, "%0*u", (int)digits, v % (digits == 1 ? 10 : digits == 2 ? 100 : 1000));
                if (k < 3) buf[n++] = '.';
            }
            if (rnd() % 8 == 0) buf[rnd() % n] = "0.9x"[rnd() % 4]; /* damage one byte */
        } else {
            n = (size_t)(rnd() % 18);
            for (size_t i = 0; i < n; i++) buf[i] = "0123456789...1a"[rnd() % 15];
        }
        char z[32];
        memcpy(z, buf, n);
        z[n] = '\0';
        unsigned char addr[4];
        int want = inet_pton(AF_INET, z, addr) == 1, got = trpt__ip_ok(buf, n),
            bytes = trpt__ipv4_ok_bytes(buf, n);
        valid += (size_t)want;
        if (got != want || bytes != want) {
            if (agree) diag("ip differs: '%.*s' got %d / %d", (int)n, buf, got, bytes);
            agree = 0;
        }
    }
    ok(agree, "300000 random dotted strings: both IPv4 paths answer as inet_pton(AF_INET)");
    ok(valid > 10000, "the random strings include valid addresses (%zu)", valid);
    return done_testing();
}
