/* DNS resolver: option validation and argument checks (offline, always
 * run), plus lookups against nsd and the fake servers of spec/t/dns.sh
 * when it passes their ports in TLSRPT_DNS_PORT / TLSRPT_FAKE_* (only
 * 127.0.0.1 is ever queried). */
#include "tap.h"
#include "trpt.h"

#include <stdint.h>
#include <time.h>
#include <unistd.h>

static int has(const char *msg, const char *part) { return strstr(msg, part) != NULL; }

static unsigned env_port(const char *name)
{
    const char *s = getenv(name);
    return s && *s ? (unsigned)strtoul(s, NULL, 10) : 0;
}

/* Writes a resolv.conf into a temp file; returns its path (static buffer per slot). */
static const char *write_conf(char *path, size_t n, const char *text)
{
    snprintf(path, n, "%s/tlsrpt-dns-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    close(fd);
    return w == (ssize_t)len ? path : NULL;
}

static void test_options(void)
{
    trpt_error err;
    trpt_resolver_opts o;
    trpt_resolver *r;
    static const char *const good[] = { "127.0.0.1", "::1", "[::1]", "2001:db8::53", "192.0.2.53" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        memset(&o, 0, sizeof o);
        o.nameserver = good[i];
        r = trpt_resolver_new(&o, &err);
        ok(r != NULL, "nameserver %s accepted", good[i]);
        trpt_resolver_free(r);
    }
    static const char *const bad[] = { "localhost", "", "1.2.3.4.5", "127.0.0.1 ", "[127.0.0.1",
                                       "::1%lo", "dns.example.com", "256.1.1.1", "[]" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&o, 0, sizeof o);
        memset(&err, 0, sizeof err);
        o.nameserver = bad[i];
        r = trpt_resolver_new(&o, &err);
        ok(r == NULL && err.code == TRPT_E_ARG && has(err.message, "not an IPv4 or IPv6 address") &&
               !strcmp(err.path, "nameserver"),
           "nameserver '%s' rejected: %s", bad[i], err.message);
        trpt_resolver_free(r);
    }
    /* Control bytes are not echoed into the message. */
    memset(&o, 0, sizeof o);
    o.nameserver = "1.2.3.4\n\x1b[31m";
    r = trpt_resolver_new(&o, &err);
    ok(!r && err.code == TRPT_E_ARG && !strchr(err.message, '\n') && !strchr(err.message, 0x1b),
       "nameserver with control bytes: %s", err.message);
    /* A long literal is cut in the message, not overflowing it. */
    char longname[600];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    o.nameserver = longname;
    r = trpt_resolver_new(&o, &err);
    ok(!r && err.code == TRPT_E_ARG && strlen(err.message) < 120, "600-byte nameserver rejected");

    memset(&o, 0, sizeof o);
    o.nameserver = "127.0.0.1";
    o.port = 65536;
    r = trpt_resolver_new(&o, &err);
    ok(!r && err.code == TRPT_E_ARG && !strcmp(err.path, "port"), "port 65536: %s", err.message);
    o.port = 65535;
    r = trpt_resolver_new(&o, &err);
    ok(r != NULL, "port 65535 accepted");
    trpt_resolver_free(r);
    o.port = 0;
    o.timeout_ms = 600001;
    r = trpt_resolver_new(&o, &err);
    ok(!r && err.code == TRPT_E_ARG && !strcmp(err.path, "timeout"), "timeout 600001 ms: %s",
       err.message);
    o.timeout_ms = 600000;
    r = trpt_resolver_new(&o, &err);
    ok(r != NULL, "timeout 600000 ms accepted");
    trpt_resolver_free(r);
    o.timeout_ms = 0;
    o.attempts = 11;
    r = trpt_resolver_new(&o, &err);
    ok(!r && err.code == TRPT_E_ARG && !strcmp(err.path, "attempts"), "attempts 11: %s",
       err.message);
    o.attempts = 10;
    r = trpt_resolver_new(&o, NULL);
    ok(r != NULL, "attempts 10 accepted (err may be NULL)");
    trpt_resolver_free(r);
    o.attempts = 11;
    ok(trpt_resolver_new(&o, NULL) == NULL, "bad options with err NULL: no crash");
    trpt_resolver_free(NULL);
    ok(1, "trpt_resolver_free(NULL) is a no-op");
}

static void test_resolv_conf(void)
{
    trpt_error err;
    trpt_resolver_opts o;
    char path[256];
    memset(&o, 0, sizeof o);
    o.resolv_conf = write_conf(path, sizeof path,
                               "# test\nsearch example.com\nnameserver 127.0.0.1\nnameserver ::1\n");
    trpt_resolver *r = trpt_resolver_new(&o, &err);
    ok(o.resolv_conf && r != NULL, "resolv.conf with two nameservers");
    trpt_resolver_free(r);
    if (o.resolv_conf) unlink(path);

    o.resolv_conf = write_conf(path, sizeof path, "search example.com\noptions ndots:2\n");
    r = trpt_resolver_new(&o, &err);
    ok(o.resolv_conf && !r && err.code == TRPT_E_DNS && has(err.message, "no nameserver"),
       "resolv.conf without nameserver: %s", err.message);
    if (o.resolv_conf) unlink(path);

    o.resolv_conf = "/nonexistent/tlsrpt/resolv.conf";
    r = trpt_resolver_new(&o, &err);
    ok(!r && err.code == TRPT_E_IO && has(err.message, "/nonexistent/tlsrpt/resolv.conf"),
       "missing resolv.conf: %s", err.message);
}

/* Argument errors are found before anything is sent (the server does not exist). */
static void test_resolve_args(void)
{
    trpt_error err;
    trpt_resolver_opts o = { .nameserver = "127.0.0.1", .port = 9, .timeout_ms = 1 };
    trpt_resolver *r = trpt_resolver_new(&o, &err);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_dns_answer a;
    ok(r && ctx, "resolver and ctx");
    is_int(trpt_resolve(NULL, ctx, "example.com", "TXT", &a, &err), TRPT_E_ARG, "NULL resolver");
    is_int(trpt_resolve(r, NULL, "example.com", "TXT", &a, &err), TRPT_E_ARG, "NULL ctx");
    is_int(trpt_resolve(r, ctx, NULL, "TXT", &a, &err), TRPT_E_ARG, "NULL name");
    is_int(trpt_resolve(r, ctx, "example.com", NULL, &a, &err), TRPT_E_ARG, "NULL type");
    is_int(trpt_resolve(r, ctx, "example.com", "TXT", NULL, NULL), TRPT_E_ARG, "NULL answer");
    static const char *const types[] = { "A", "AAAA", "TXTX", "", "CNAME", "T" };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        int rc = trpt_resolve(r, ctx, "example.com", types[i], &a, &err);
        ok(rc == TRPT_E_ARG && !strcmp(err.path, "type"), "type '%s' rejected", types[i]);
    }
    char label64[80], long_name[300], huge[3000];
    memset(label64, 'a', 64);
    strcpy(label64 + 64, ".example");
    for (int i = 0; i < 5; i++) memcpy(long_name + i * 60, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.", 60);
    long_name[299] = 0;   /* 299 bytes: over the 255-byte wire limit */
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = 0;
    const char *names[] = { "", label64, long_name, huge, "a..b", "a\n\x1b[2J..b" };
    const char *why[] = { "empty", "64-byte label", "299-byte name", "3000-byte name", "empty label",
                          "control bytes" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        memset(&err, 0, sizeof err);
        int rc = trpt_resolve(r, ctx, names[i], "TXT", &a, &err);
        ok(rc == TRPT_E_ARG && has(err.message, "not a valid domain name") &&
               strlen(err.message) < 200 && !strchr(err.message, '\n') && !strchr(err.message, 0x1b),
           "%s rejected: %.60s", why[i], err.message);
    }
    trpt_ctx_free(ctx);
    trpt_resolver_free(r);
    ok(!strcmp(trpt_code_name(TRPT_E_DNS), "dns") && !strcmp(trpt_code_name(TRPT_E_NXDOMAIN), "nxdomain"),
       "code names dns / nxdomain");
}

/* ------------------------------------------------ against 127.0.0.1 */

static trpt_resolver *local(unsigned port, unsigned timeout_ms, unsigned attempts)
{
    trpt_resolver_opts o = { .nameserver = "127.0.0.1", .port = port, .timeout_ms = timeout_ms,
                             .attempts = attempts };
    return trpt_resolver_new(&o, NULL);
}

static int str_eq(trpt_str s, const char *want, size_t wlen)
{
    return s.len == wlen && memcmp(s.ptr, want, wlen) == 0;
}

static void test_nsd(unsigned port)
{
    trpt_resolver *r = local(port, 2000, 2);
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_error err;
    trpt_dns_answer a;
    int rc;

    rc = trpt_resolve(r, ctx, "_smtp._tls.example.test", "TXT", &a, &err);
    ok(rc == TRPT_OK && a.ntxt == 1 && a.ad == 0, "TXT split record: one record, no AD");
    if (a.ntxt == 1)
        is_str(a.txt[0].ptr, a.txt[0].len, "v=TLSRPTv1; rua=mailto:tlsrpt@example.test",
               "character-strings joined without separator");

    rc = trpt_resolve(r, ctx, "_SMTP._TLS.Example.Test.", "txt", &a, &err);
    ok(rc == TRPT_OK && a.ntxt == 1, "absolute, mixed-case name and lowercase type");

    rc = trpt_resolve(r, ctx, "_smtp._tls.two.example.test", "TXT", &a, &err);
    ok(rc == TRPT_OK && a.ntxt == 2, "two TXT records returned as two strings");

    rc = trpt_resolve(r, ctx, "bin.example.test", "TXT", &a, &err);
    ok(rc == TRPT_OK && a.ntxt == 1 && str_eq(a.txt[0], "a\0b\xff" "c", 5),
       "TXT bytes NUL and 0xff kept (5 bytes)");

    rc = trpt_resolve(r, ctx, "example.test", "MX", &a, &err);
    ok(rc == TRPT_OK && a.nmx == 3, "three MX");
    if (a.nmx == 3) {
        is_str(a.mx_host[0].ptr, a.mx_host[0].len, "mx1.example.test", "MX 10 first");
        is_int(a.mx_pref[0], 10, "preference 10");
        is_str(a.mx_host[1].ptr, a.mx_host[1].len, "mx2.example.test", "MX 20 second");
        is_str(a.mx_host[2].ptr, a.mx_host[2].len, "mx3.example.net", "out-of-zone MX, no trailing dot");
        is_int(a.mx_pref[2], 30, "preference 30");
    }
    rc = trpt_resolve(r, ctx, "nullmx.example.test", "MX", &a, &err);
    ok(rc == TRPT_OK && a.nmx == 1 && str_eq(a.mx_host[0], ".", 1) && a.mx_pref[0] == 0,
       "null MX (RFC 7505) is \".\" preference 0");

    rc = trpt_resolve(r, ctx, "_25._tcp.mx1.example.test", "TLSA", &a, &err);
    ok(rc == TRPT_OK && a.ntlsa == 2, "two TLSA");
    int seen = 0;
    for (size_t i = 0; i < a.ntlsa; i++) {
        if (str_eq(a.tlsa[i], "3 1 1 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 70))
            seen |= 1;
        if (str_eq(a.tlsa[i], "2 0 1 0123456789abcdef", 22)) seen |= 2;
    }
    is_int(seen, 3, "TLSA presentation form \"u s m hex\"");

    rc = trpt_resolve(r, ctx, "nope.example.test", "TXT", &a, &err);
    ok(rc == TRPT_E_NXDOMAIN && has(err.message, "nope.example.test does not exist"),
       "NXDOMAIN: %s", err.message);
    rc = trpt_resolve(r, ctx, "notxt.example.test", "TXT", &a, &err);
    ok(rc == TRPT_OK && a.ntxt == 0 && a.txt == NULL, "NODATA: empty answer");
    rc = trpt_resolve(r, ctx, "_smtp._tls.alias.example.test", "TXT", &a, &err);
    ok(rc == TRPT_OK && a.ntxt == 1 &&
           str_eq(a.txt[0], "v=TLSRPTv1; rua=mailto:tlsrpt@example.test", 42),
       "CNAME followed");
    rc = trpt_resolve(r, ctx, "example.invalid", "TXT", &a, &err);
    ok(rc == TRPT_E_DNS && has(err.message, "REFUSED for example.invalid TXT"), "REFUSED: %s",
       err.message);

    rc = trpt_resolve(r, ctx, "big.example.test", "TXT", &a, &err);
    ok(rc == TRPT_OK && a.ntxt == 15, "truncated UDP answer retried over TCP: %zu records", a.ntxt);

    trpt_limits lim;
    trpt_limits_default(&lim);
    lim.max_elements = 14;
    trpt_ctx_set_limits(ctx, &lim);
    rc = trpt_resolve(r, ctx, "big.example.test", "TXT", &a, &err);
    ok(rc == TRPT_E_LIMIT && !strcmp(err.path, "max_elements") && a.ntxt == 0,
       "15 records over max_elements 14: %s", err.message);
    lim.max_elements = 15;
    lim.max_string = 41;
    trpt_ctx_set_limits(ctx, &lim);
    rc = trpt_resolve(r, ctx, "_smtp._tls.example.test", "TXT", &a, &err);
    ok(rc == TRPT_E_LIMIT && !strcmp(err.path, "max_string"), "42-byte TXT over max_string 41: %s",
       err.message);
    lim.max_string = 42;
    trpt_ctx_set_limits(ctx, &lim);
    rc = trpt_resolve(r, ctx, "_smtp._tls.example.test", "TXT", &a, &err);
    ok(rc == TRPT_OK && a.ntxt == 1, "42-byte TXT at max_string 42");
    lim.max_string = 20;
    trpt_ctx_set_limits(ctx, &lim);
    rc = trpt_resolve(r, ctx, "_465._tcp.mx1.example.test", "TLSA", &a, &err);
    ok(rc == TRPT_OK && a.ntlsa == 1 && str_eq(a.tlsa[0], "3 0 0 00ff", 10), "short TLSA fits");
    lim.max_string = 30;
    trpt_ctx_set_limits(ctx, &lim);
    rc = trpt_resolve(r, ctx, "_25._tcp.mx1.example.test", "TLSA", &a, &err);
    ok(rc == TRPT_E_LIMIT, "70-byte TLSA over max_string 30: %s", err.message);

    trpt_ctx_free(ctx);
    trpt_resolver_free(r);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_fakes(void)
{
    trpt_ctx *ctx = trpt_ctx_new(NULL, NULL, NULL);
    trpt_error err;
    trpt_dns_answer a;
    trpt_resolver *r;
    int rc;

    r = local(env_port("TLSRPT_FAKE_SERVFAIL"), 2000, 1);
    rc = trpt_resolve(r, ctx, "_smtp._tls.example.test", "TXT", &a, &err);
    ok(rc == TRPT_E_DNS && has(err.message, "SERVFAIL for _smtp._tls.example.test TXT"),
       "SERVFAIL: %s", err.message);
    trpt_resolver_free(r);

    r = local(env_port("TLSRPT_FAKE_AD"), 2000, 1);
    rc = trpt_resolve(r, ctx, "_smtp._tls.example.test", "TXT", &a, &err);
    ok(rc == TRPT_OK && a.ad == 1 && a.ntxt == 1, "AD bit reported");
    rc = trpt_resolve(r, ctx, "example.test", "MX", &a, &err);
    ok(rc == TRPT_OK && a.ad == 1 && a.nmx == 0, "AD on an empty answer");
    trpt_resolver_free(r);

    /* What was asked: recursion, AD (RFC 6840 §5.7), EDNS0 DO (RFC 3225), 1232 bytes. */
    r = local(env_port("TLSRPT_FAKE_ECHO"), 2000, 1);
    rc = trpt_resolve(r, ctx, "q.example.test", "TXT", &a, &err);
    ok(rc == TRPT_OK && a.ntxt == 1 && str_eq(a.txt[0], "rd=1 ad=1 cd=0 edns=1 do=1 udp=1232", 35),
       "query flags: %.*s", a.ntxt ? (int)a.txt[0].len : 0, a.ntxt ? a.txt[0].ptr : "");
    trpt_resolver_free(r);

    r = local(env_port("TLSRPT_FAKE_SILENT"), 200, 1);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = trpt_resolve(r, ctx, "x.example.test", "TXT", &a, &err);
    long took = ms_since(&t0);
    ok(rc == TRPT_E_DNS && has(err.message, "timeout after 200 ms"), "timeout: %s", err.message);
    ok(took >= 190 && took < 1500, "gave up after %ld ms (timeout 200 ms, 1 try)", took);
    trpt_resolver_free(r);
    r = local(env_port("TLSRPT_FAKE_SILENT"), 150, 2);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = trpt_resolve(r, ctx, "x.example.test", "TXT", &a, &err);
    took = ms_since(&t0);
    ok(rc == TRPT_E_DNS && has(err.message, "timeout after 300 ms (2 tries)") && took >= 290,
       "two tries: %s (%ld ms)", err.message, took);
    trpt_resolver_free(r);

    /* Datagrams that answer another query are not taken for the answer. */
    r = local(env_port("TLSRPT_FAKE_BADID"), 300, 1);
    rc = trpt_resolve(r, ctx, "x.example.test", "TXT", &a, &err);
    ok(rc == TRPT_E_DNS && has(err.message, "timeout after 300 ms") &&
           has(err.message, "ignored 1 datagram that answered another query"),
       "wrong ID ignored: %s", err.message);
    trpt_resolver_free(r);
    r = local(env_port("TLSRPT_FAKE_WRONGQ"), 300, 1);
    rc = trpt_resolve(r, ctx, "x.example.test", "TXT", &a, &err);
    ok(rc == TRPT_E_DNS && has(err.message, "ignored 1 datagram"), "wrong question ignored: %s",
       err.message);
    trpt_resolver_free(r);
    r = local(env_port("TLSRPT_FAKE_STRAY"), 2000, 1);
    rc = trpt_resolve(r, ctx, "_smtp._tls.example.test", "TXT", &a, &err);
    ok(rc == TRPT_OK && a.ntxt == 1 && a.ad == 0, "stray datagram skipped, real answer taken");
    trpt_resolver_free(r);

    r = local(env_port("TLSRPT_FAKE_GARBAGE"), 300, 1);
    rc = trpt_resolve(r, ctx, "x.example.test", "TXT", &a, &err);
    ok(rc == TRPT_E_DNS && has(err.message, "malformed answer from 127.0.0.1"), "garbage: %s",
       err.message);
    trpt_resolver_free(r);

    r = local(env_port("TLSRPT_FAKE_TRUNC"), 300, 1);
    rc = trpt_resolve(r, ctx, "x.example.test", "TXT", &a, &err);
    ok(rc == TRPT_E_DNS && has(err.message, "TCP connect to 127.0.0.1") &&
           has(err.message, "truncated") && has(err.message, "refused"),
       "truncated, no TCP: %s", err.message);
    trpt_resolver_free(r);

    r = local(env_port("TLSRPT_FAKE_TCPHANG"), 300, 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = trpt_resolve(r, ctx, "x.example.test", "TXT", &a, &err);
    took = ms_since(&t0);
    ok(rc == TRPT_E_DNS && has(err.message, "timeout after 300 ms over TCP (read)") && took >= 290 &&
           took < 2000,
       "TCP that never answers: %s (%ld ms)", err.message, took);
    trpt_resolver_free(r);

    r = local(env_port("TLSRPT_FAKE_CLOSED"), 5000, 2);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = trpt_resolve(r, ctx, "x.example.test", "TXT", &a, &err);
    took = ms_since(&t0);
    ok(rc == TRPT_E_DNS && has(err.message, "no DNS service at 127.0.0.1") &&
           has(err.message, "refused") && took < 2000,
       "closed port fails at once: %s (%ld ms)", err.message, took);
    trpt_resolver_free(r);

    trpt_ctx_free(ctx);
}

int main(void)
{
    test_options();
    test_resolv_conf();
    test_resolve_args();
    unsigned port = env_port("TLSRPT_DNS_PORT");
    if (port) test_nsd(port);
    else tap_skip("no nsd (network part runs from spec/t/dns.sh)");
    if (env_port("TLSRPT_FAKE_SILENT")) test_fakes();
    else tap_skip("no fake servers (network part runs from spec/t/dns.sh)");
    return done_testing();
}
