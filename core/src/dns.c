/* DNS lookups (TXT, MX, TLSA) with ldns.
 *
 * ldns reads resolv.conf, parses names, builds the query and parses the
 * answer. The socket I/O is ours rather than ldns_resolver_send's, because
 * that one select()s (undefined past descriptor 1023, common in a mail
 * server), may raise SIGPIPE over TCP, takes the first datagram that
 * arrives, and marks a server that timed out once as dead for the
 * resolver's lifetime. Here:
 *  - UDP sockets are connected and answers must match ID and question;
 *    stray datagrams are ignored, not taken as the answer;
 *  - TCP (after TC) runs under a single deadline;
 *  - SERVFAIL / REFUSED move on to the next server, as stub resolvers do;
 *  - errors say what happened ("timeout after 500 ms", "SERVFAIL for ...").
 * Everything ldns allocates is freed before returning; results are copied
 * into the caller's ctx. */
#include "internal.h"
#include "utf8.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS_MAX 8               /* resolv.conf allows 3; a few more do no harm */
#define TIMEOUT_DEFAULT 5000u
#define TIMEOUT_MAX 600000u
#define ATTEMPTS_DEFAULT 2u
#define ATTEMPTS_MAX 10u
#define EDNS_UDP_SIZE 1232     /* DNS flag day 2020: avoids IP fragmentation */
#define CNAME_HOPS 16

struct trpt_resolver {
    struct sockaddr_storage ns[NS_MAX];
    socklen_t nslen[NS_MAX];
    char nsname[NS_MAX][INET6_ADDRSTRLEN];
    size_t nns;
    unsigned port, timeout_ms, attempts;
};

static int add_server(trpt_resolver *r, int af, const void *addr)
{
    if (r->nns == NS_MAX) return 0;
    size_t i = r->nns;
    memset(&r->ns[i], 0, sizeof r->ns[i]);
    if (af == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&r->ns[i];
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)r->port);
        memcpy(&s4->sin_addr, addr, sizeof s4->sin_addr);
        r->nslen[i] = sizeof *s4;
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&r->ns[i];
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)r->port);
        memcpy(&s6->sin6_addr, addr, sizeof s6->sin6_addr);
        r->nslen[i] = sizeof *s6;
    }
    if (!inet_ntop(af, addr, r->nsname[i], sizeof r->nsname[i])) r->nsname[i][0] = '\0';
    r->nns++;
    return 1;
}

/* An address literal only: resolving a nameserver's name would need DNS. */
static int parse_nameserver(trpt_resolver *r, const char *s, trpt_error *err)
{
    char buf[INET6_ADDRSTRLEN + 2];
    const char *lit = s;
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') { lit++; n -= 2; }
    unsigned char addr[sizeof(struct in6_addr)];
    if (n > 0 && n < sizeof buf) {
        memcpy(buf, lit, n);
        buf[n] = '\0';
        if (inet_pton(AF_INET, buf, addr) == 1) return add_server(r, AF_INET, addr), TRPT_OK;
        if (inet_pton(AF_INET6, buf, addr) == 1) return add_server(r, AF_INET6, addr), TRPT_OK;
    }
    for (size_t i = 0; s[i] && i < 64; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, "nameserver",
                              "nameserver is not an IPv4 or IPv6 address");
    return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, "nameserver",
                      "nameserver '%.64s' is not an IPv4 or IPv6 address", s);
}

/* Nameservers of resolv.conf, parsed by ldns. */
static int load_system(trpt_resolver *r, const char *path, trpt_error *err)
{
    const char *shown = path ? path : "/etc/resolv.conf";
    ldns_resolver *res = NULL;
    ldns_status st = ldns_resolver_new_frm_file(&res, path);
    if (st != LDNS_STATUS_OK) {
        if (res) ldns_resolver_deep_free(res);
        if (st == LDNS_STATUS_FILE_ERR)
            return trpt__fail(err, TRPT_E_IO, TRPT_NO_OFFSET, NULL, "resolv_conf",
                              "cannot read %.160s", shown);
        return trpt__fail(err, TRPT_E_DNS, TRPT_NO_OFFSET, NULL, "resolv_conf",
                          "cannot parse %.160s: %s", shown, ldns_get_errorstr_by_id(st));
    }
    ldns_rdf **ns = ldns_resolver_nameservers(res);
    size_t count = ldns_resolver_nameserver_count(res);
    for (size_t i = 0; i < count; i++) {
        const ldns_rdf *a = ns[i];
        if (ldns_rdf_get_type(a) == LDNS_RDF_TYPE_A && ldns_rdf_size(a) == 4)
            add_server(r, AF_INET, ldns_rdf_data(a));
        else if (ldns_rdf_get_type(a) == LDNS_RDF_TYPE_AAAA && ldns_rdf_size(a) == 16)
            add_server(r, AF_INET6, ldns_rdf_data(a));
    }
    ldns_resolver_deep_free(res);
    if (r->nns == 0)
        return trpt__fail(err, TRPT_E_DNS, TRPT_NO_OFFSET, NULL, "resolv_conf",
                          "no nameserver in %.160s", shown);
    return TRPT_OK;
}

trpt_resolver *trpt_resolver_new(const trpt_resolver_opts *o, trpt_error *err)
{
    trpt_resolver_opts d = { 0 };
    if (!o) o = &d;
    if (o->port > 65535) {
        trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, "port",
                   "port %u is out of range (1-65535)", o->port);
        return NULL;
    }
    if (o->timeout_ms > TIMEOUT_MAX) {
        trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, "timeout",
                   "timeout of %u ms is more than %u ms", o->timeout_ms, TIMEOUT_MAX);
        return NULL;
    }
    if (o->attempts > ATTEMPTS_MAX) {
        trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, "attempts",
                   "attempts %u is more than %u", o->attempts, ATTEMPTS_MAX);
        return NULL;
    }
    trpt_resolver *r = calloc(1, sizeof *r);
    if (!r) {
        trpt__nomem(err);
        return NULL;
    }
    r->port = o->port ? o->port : 53;
    r->timeout_ms = o->timeout_ms ? o->timeout_ms : TIMEOUT_DEFAULT;
    r->attempts = o->attempts ? o->attempts : ATTEMPTS_DEFAULT;
    int rc = o->nameserver ? parse_nameserver(r, o->nameserver, err)
                           : load_system(r, o->resolv_conf, err);
    if (rc != TRPT_OK) {
        free(r);
        return NULL;
    }
    return r;
}

void trpt_resolver_free(trpt_resolver *r) { free(r); }

/* ------------------------------------------------------------ query */

#define MSG_MAX 65535          /* largest DNS message (TCP length prefix) */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everything one lookup holds, so that one cleanup frees it on every path. */
typedef struct query {
    trpt_resolver *r;
    ldns_rdf *qname;
    ldns_rr_type qtype;
    const char *tname;      /* "TXT" */
    char shown[300];        /* qname in presentation form, no trailing dot */
    uint16_t id;
    ldns_buffer *wire;      /* the query */
    uint8_t *buf;           /* MSG_MAX bytes for one message */
    ldns_pkt *reply;
    unsigned ignored;       /* UDP datagrams that answered something else */
    int last_code;          /* error of the last server tried */
    char last[256];
} query;

static void query_free(query *q)
{
    if (q->qname) ldns_rdf_deep_free(q->qname);
    if (q->wire) ldns_buffer_free(q->wire);
    if (q->reply) ldns_pkt_free(q->reply);
    free(q->buf);
}

static void note(query *q, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(query *q, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->last, sizeof q->last, fmt, ap);
    va_end(ap);
    trpt__text_clean(q->last);
    q->last_code = code;
}

/* Builds the query once: RD, AD (RFC 6840 §5.7) and EDNS0 with DO so that a
 * validating resolver sets AD in its answer. */
static int build_query(query *q, trpt_error *err)
{
    ldns_rdf *name = ldns_rdf_clone(q->qname);
    ldns_pkt *pkt = name ? ldns_pkt_query_new(name, q->qtype, LDNS_RR_CLASS_IN, LDNS_RD) : NULL;
    if (!pkt) {
        if (name) ldns_rdf_deep_free(name);
        return trpt__nomem(err);
    }
    ldns_pkt_set_random_id(pkt);
    ldns_pkt_set_ad(pkt, true);
    ldns_pkt_set_edns_udp_size(pkt, EDNS_UDP_SIZE);
    ldns_pkt_set_edns_do(pkt, true);
    q->id = ldns_pkt_id(pkt);
    q->wire = ldns_buffer_new(LDNS_MIN_BUFLEN);
    ldns_status st = q->wire ? ldns_pkt2buffer_wire(q->wire, pkt) : LDNS_STATUS_MEM_ERR;
    ldns_pkt_free(pkt);
    if (st != LDNS_STATUS_OK)
        return trpt__fail(err, TRPT_E_NOMEM, TRPT_NO_OFFSET, NULL, NULL,
                          "cannot build the query: %s", ldns_get_errorstr_by_id(st));
    q->buf = malloc(MSG_MAX);
    if (!q->buf) return trpt__nomem(err);
    return TRPT_OK;
}

/* 1 when fd is ready, 0 at the deadline, -1 on error. */
static int wait_fd(int fd, short events, long deadline)
{
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd p = { .fd = fd, .events = events };
        int n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n > 0) return 1;   /* POLLERR / POLLHUP: the next call reports it */
        if (n < 0 && errno != EINTR) return -1;
    }
}

enum { REPLY_OK, REPLY_OTHER, REPLY_BAD };

/* Checks that the n bytes in q->buf answer our query (ID, QR, question).
 * REPLY_OTHER: a stray or forged message, REPLY_BAD: our ID but
 * unparseable (noted). */
static int parse_reply(query *q, size_t i, size_t n, ldns_pkt **out)
{
    *out = NULL;
    if (n < 12 || ldns_read_uint16(q->buf) != q->id) return REPLY_OTHER;
    ldns_pkt *p = NULL;
    ldns_status st = ldns_wire2pkt(&p, q->buf, n);
    if (st != LDNS_STATUS_OK) {
        if (p) ldns_pkt_free(p);
        note(q, TRPT_E_DNS, "malformed answer from %s port %u for %s %s: %s", q->r->nsname[i],
             q->r->port, q->shown, q->tname, ldns_get_errorstr_by_id(st));
        return REPLY_BAD;
    }
    ldns_rr_list *qs = ldns_pkt_question(p);
    const ldns_rr *qr = ldns_rr_list_rr_count(qs) == 1 ? ldns_rr_list_rr(qs, 0) : NULL;
    if (!ldns_pkt_qr(p) || !qr || ldns_rr_get_type(qr) != q->qtype ||
        ldns_dname_compare(ldns_rr_owner(qr), q->qname) != 0) {
        ldns_pkt_free(p);
        return REPLY_OTHER;
    }
    *out = p;
    return REPLY_OK;
}

/* One UDP try. The socket is connected, so the kernel drops datagrams from
 * other addresses and reports an ICMP "port unreachable" as ECONNREFUSED;
 * poll() rather than select() works with any descriptor number.
 * 1: answer in *out, 0: timeout, -1: error (noted). */
static int udp_try(query *q, size_t i, ldns_pkt **out)
{
    trpt_resolver *r = q->r;
    *out = NULL;
    int fd = socket(r->ns[i].ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        note(q, TRPT_E_DNS, "cannot open a UDP socket: %s", strerror(errno));
        return -1;
    }
    int rc = -1;
    if (connect(fd, (const struct sockaddr *)&r->ns[i], r->nslen[i]) != 0 ||
        send(fd, ldns_buffer_begin(q->wire), ldns_buffer_position(q->wire), 0) < 0) {
        note(q, TRPT_E_DNS, "cannot send to %s port %u: %s", r->nsname[i], r->port,
             strerror(errno));
        goto done;
    }
    long deadline = now_ms() + (long)r->timeout_ms;
    for (;;) {
        int w = wait_fd(fd, POLLIN, deadline);
        if (w == 0) { rc = 0; break; }
        if (w < 0) {
            note(q, TRPT_E_DNS, "poll: %s", strerror(errno));
            break;
        }
        ssize_t n = recv(fd, q->buf, MSG_MAX, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            note(q, TRPT_E_DNS, "no DNS service at %s port %u: %s", r->nsname[i], r->port,
                 strerror(errno));
            break;
        }
        int k = parse_reply(q, i, (size_t)n, out);
        if (k == REPLY_OK) { rc = 1; break; }
        if (k == REPLY_BAD) break;
        q->ignored++;   /* keep waiting for the real answer */
    }
done:
    close(fd);
    return rc;
}

/* Reads or writes exactly n bytes before the deadline: 1, 0 timeout, -1 error (errno, 0 = EOF). */
static int tcp_io(int fd, uint8_t *p, size_t n, int writing, long deadline)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = writing ? send(fd, p + done, n - done, MSG_NOSIGNAL)
                            : recv(fd, p + done, n - done, 0);
        if (k > 0) {
            done += (size_t)k;
            continue;
        }
        if (k == 0) {
            errno = 0;
            return -1;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
        int w = wait_fd(fd, writing ? POLLOUT : POLLIN, deadline);
        if (w <= 0) return w;
    }
    return 1;
}

/* The query over TCP (RFC 7766) after a truncated UDP answer. Connecting,
 * sending and reading share one deadline, so a server that dribbles bytes
 * cannot hold the caller longer than timeout_ms. 1: answer, -1: error (noted). */
static int tcp_query(query *q, size_t i, ldns_pkt **out)
{
    trpt_resolver *r = q->r;
    *out = NULL;
    int fd = socket(r->ns[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        note(q, TRPT_E_DNS, "cannot open a TCP socket: %s", strerror(errno));
        return -1;
    }
    long deadline = now_ms() + (long)r->timeout_ms;
    const char *step = "connect";
    int rc = -1, w = 1, e = 0;
    if (connect(fd, (const struct sockaddr *)&r->ns[i], r->nslen[i]) != 0) {
        if (errno != EINPROGRESS) {
            e = errno;
            goto fail;
        }
        if ((w = wait_fd(fd, POLLOUT, deadline)) <= 0) goto io_fail;
        socklen_t el = sizeof e;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0) e = errno;
        if (e) goto fail;
    }
    size_t qlen = ldns_buffer_position(q->wire);
    q->buf[0] = (uint8_t)(qlen >> 8);
    q->buf[1] = (uint8_t)qlen;
    memcpy(q->buf + 2, ldns_buffer_begin(q->wire), qlen);
    step = "send";
    if ((w = tcp_io(fd, q->buf, qlen + 2, 1, deadline)) <= 0) goto io_fail;
    step = "read";
    if ((w = tcp_io(fd, q->buf, 2, 0, deadline)) <= 0) goto io_fail;
    size_t len = ldns_read_uint16(q->buf);
    if ((w = tcp_io(fd, q->buf, len, 0, deadline)) <= 0) goto io_fail;
    int k = parse_reply(q, i, len, out);
    if (k == REPLY_OK) rc = 1;
    else if (k == REPLY_OTHER)
        note(q, TRPT_E_DNS, "TCP answer from %s port %u does not match the query for %s %s",
             r->nsname[i], r->port, q->shown, q->tname);
    close(fd);
    return rc;
io_fail:
    e = errno;
fail:
    if (w == 0)
        note(q, TRPT_E_DNS, "timeout after %u ms over TCP (%s) from %s port %u for %s %s "
             "(the UDP answer was truncated)", r->timeout_ms, step, r->nsname[i], r->port,
             q->shown, q->tname);
    else
        note(q, TRPT_E_DNS, "TCP %s to %s port %u failed (the UDP answer was truncated): %s",
             step, r->nsname[i], r->port, e ? strerror(e) : "connection closed");
    close(fd);
    return -1;
}

/* Asks server i: UDP (attempts times), then TCP if the answer was truncated. */
static ldns_pkt *ask(query *q, size_t i)
{
    trpt_resolver *r = q->r;
    q->ignored = 0;
    for (unsigned a = 0; a < r->attempts; a++) {
        ldns_pkt *p = NULL;
        int k = udp_try(q, i, &p);
        if (k < 0) return NULL;
        if (k == 0) {
            char extra[80] = "";
            if (q->ignored)
                snprintf(extra, sizeof extra, "; ignored %u datagram%s that answered another query",
                         q->ignored, q->ignored == 1 ? "" : "s");
            note(q, TRPT_E_DNS, "timeout after %u ms (%u %s): no answer from %s port %u for %s %s%s",
                 r->timeout_ms * (a + 1), a + 1, a ? "tries" : "try", r->nsname[i], r->port,
                 q->shown, q->tname, extra);
            continue;
        }
        if (!ldns_pkt_tc(p)) return p;
        ldns_pkt_free(p);
        return tcp_query(q, i, &p) > 0 ? p : NULL;
    }
    return NULL;
}

/* The owner whose records answer the question: qname, or the end of the
 * CNAME chain the resolver put in the answer section. */
static const ldns_rdf *answer_owner(const query *q, const ldns_rr_list *an)
{
    const ldns_rdf *cur = q->qname;
    size_t n = ldns_rr_list_rr_count(an);
    for (int hop = 0; hop < CNAME_HOPS; hop++) {
        const ldns_rdf *next = NULL;
        for (size_t k = 0; k < n && !next; k++) {
            const ldns_rr *rr = ldns_rr_list_rr(an, k);
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) == 1 &&
                ldns_dname_compare(ldns_rr_owner(rr), cur) == 0)
                next = ldns_rr_rdf(rr, 0);
        }
        if (!next) break;
        cur = next;
    }
    return cur;
}

static int too_long(const query *q, trpt_error *err, size_t len, size_t max)
{
    return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, "max_string",
                      "%s record of %s is %zu bytes, more than max_string (%zu)", q->tname,
                      q->shown, len, max);
}

/* TXT: the character-strings of each record, concatenated (RFC 8460 §3). */
static int take_txt(trpt_ctx *ctx, const query *q, const ldns_rr *const *rrs, size_t n,
                    trpt_str *out, trpt_error *err)
{
    size_t max = ctx->limits.max_string;
    for (size_t k = 0; k < n; k++) {
        size_t len = 0;
        for (size_t j = 0; j < ldns_rr_rd_count(rrs[k]); j++) {
            const ldns_rdf *f = ldns_rr_rdf(rrs[k], j);
            if (ldns_rdf_size(f) >= 1) len += ldns_rdf_size(f) - 1;  /* length octet */
        }
        if (len > max) return too_long(q, err, len, max);
        char *s = trpt_ctx_alloc(ctx, len + 1), *w = s;
        if (!s) return trpt__nomem(err);
        for (size_t j = 0; j < ldns_rr_rd_count(rrs[k]); j++) {
            const ldns_rdf *f = ldns_rr_rdf(rrs[k], j);
            size_t fl = ldns_rdf_size(f);
            if (fl >= 1) {
                memcpy(w, ldns_rdf_data(f) + 1, fl - 1);
                w += fl - 1;
            }
        }
        *w = '\0';
        out[k] = (trpt_str){ s, len };
    }
    return TRPT_OK;
}

typedef struct mx_item { unsigned pref; size_t pos; const ldns_rr *rr; } mx_item;

static int mx_cmp(const void *a, const void *b)
{
    const mx_item *x = a, *y = b;
    if (x->pref != y->pref) return x->pref < y->pref ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;   /* stable: answer order */
}

/* MX: sorted by preference (RFC 5321 §5.1), exchange without trailing dot. */
static int take_mx(trpt_ctx *ctx, const ldns_rr *const *rrs, size_t n, trpt_str *host,
                   unsigned *pref, size_t *kept, trpt_error *err)
{
    mx_item *items = trpt_ctx_alloc(ctx, n * sizeof *items);
    if (!items) return trpt__nomem(err);
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        const ldns_rr *rr = rrs[k];
        if (ldns_rr_rd_count(rr) != 2 || ldns_rdf_size(ldns_rr_rdf(rr, 0)) != 2) continue;
        items[m++] = (mx_item){ ldns_read_uint16(ldns_rdf_data(ldns_rr_rdf(rr, 0))), k, rr };
    }
    qsort(items, m, sizeof *items, mx_cmp);
    for (size_t k = 0; k < m; k++) {
        char *s = ldns_rdf2str(ldns_rr_rdf(items[k].rr, 1));
        if (!s) return trpt__nomem(err);
        size_t len = strlen(s);
        if (len > 1 && s[len - 1] == '.') len--;
        char *c = trpt__strdup(ctx, s, len);
        free(s);
        if (!c) return trpt__nomem(err);
        host[k] = (trpt_str){ c, len };
        pref[k] = items[k].pref;
    }
    *kept = m;
    return TRPT_OK;
}

/* TLSA: "usage selector matching-type hex" (RFC 6698 §2.2). The rdata is
 * taken whole, whatever fields ldns split it into. */
static int take_tlsa(trpt_ctx *ctx, const query *q, const ldns_rr *const *rrs, size_t n,
                     trpt_str *out, trpt_error *err)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t k = 0; k < n; k++) {
        size_t len = 0;
        for (size_t j = 0; j < ldns_rr_rd_count(rrs[k]); j++) len += ldns_rdf_size(ldns_rr_rdf(rrs[k], j));
        if (len < 4)
            return trpt__fail(err, TRPT_E_DNS, TRPT_NO_OFFSET, NULL, NULL,
                              "malformed TLSA record of %s: %zu bytes of rdata", q->shown, len);
        uint8_t *raw = trpt_ctx_alloc(ctx, len), *p = raw;
        if (!raw) return trpt__nomem(err);
        for (size_t j = 0; j < ldns_rr_rd_count(rrs[k]); j++) {
            const ldns_rdf *f = ldns_rr_rdf(rrs[k], j);
            memcpy(p, ldns_rdf_data(f), ldns_rdf_size(f));
            p += ldns_rdf_size(f);
        }
        char head[16];
        int w = snprintf(head, sizeof head, "%u %u %u ", raw[0], raw[1], raw[2]);
        size_t slen = (size_t)w + 2 * (len - 3);
        if (slen > ctx->limits.max_string) return too_long(q, err, slen, ctx->limits.max_string);
        char *s = trpt_ctx_alloc(ctx, slen + 1);
        if (!s) return trpt__nomem(err);
        memcpy(s, head, (size_t)w);
        for (size_t b = 3; b < len; b++) {
            s[w++] = hex[raw[b] >> 4];
            s[w++] = hex[raw[b] & 15];
        }
        s[w] = '\0';
        out[k] = (trpt_str){ s, (size_t)w };
    }
    return TRPT_OK;
}

static int extract(trpt_ctx *ctx, const query *q, trpt_dns_answer *out, trpt_error *err)
{
    const ldns_rr_list *an = ldns_pkt_answer(q->reply);
    const ldns_rdf *owner = answer_owner(q, an);
    size_t total = ldns_rr_list_rr_count(an), n = 0;
    for (size_t k = 0; k < total; k++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, k);
        if (ldns_rr_get_type(rr) == q->qtype && ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
            ldns_dname_compare(ldns_rr_owner(rr), owner) == 0)
            n++;
    }
    if (n > ctx->limits.max_elements)
        return trpt__fail(err, TRPT_E_LIMIT, TRPT_NO_OFFSET, NULL, "max_elements",
                          "%zu %s records for %s, more than max_elements (%zu)", n, q->tname,
                          q->shown, ctx->limits.max_elements);
    if (n == 0) return TRPT_OK;
    const ldns_rr **rrs = trpt_ctx_alloc(ctx, n * sizeof *rrs);
    if (!rrs) return trpt__nomem(err);
    n = 0;
    for (size_t k = 0; k < total; k++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, k);
        if (ldns_rr_get_type(rr) == q->qtype && ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
            ldns_dname_compare(ldns_rr_owner(rr), owner) == 0)
            rrs[n++] = rr;
    }
    /* Arrays are sized n up front: n * elem cannot overflow, the DNS
     * message that held n records was at most 64 KiB. */
    trpt_str *strs = trpt_ctx_alloc(ctx, n * sizeof *strs);
    if (!strs) return trpt__nomem(err);
    int rc;
    switch (q->qtype) {
    case LDNS_RR_TYPE_TXT:
        if ((rc = take_txt(ctx, q, rrs, n, strs, err)) != TRPT_OK) return rc;
        out->txt = strs;
        out->ntxt = n;
        break;
    case LDNS_RR_TYPE_MX: {
        unsigned *pref = trpt_ctx_alloc(ctx, n * sizeof *pref);
        if (!pref) return trpt__nomem(err);
        size_t kept = 0;
        if ((rc = take_mx(ctx, rrs, n, strs, pref, &kept, err)) != TRPT_OK) return rc;
        out->mx_host = strs;
        out->mx_pref = pref;
        out->nmx = kept;
        break;
    }
    default:
        if ((rc = take_tlsa(ctx, q, rrs, n, strs, err)) != TRPT_OK) return rc;
        out->tlsa = strs;
        out->ntlsa = n;
        break;
    }
    return TRPT_OK;
}

/* A NOERROR reply without answers that only points elsewhere: not
 * authoritative, NS records in the authority section and no SOA (which a
 * NODATA answer carries). A server that does not recurse answers so. */
static int is_referral(const ldns_pkt *p)
{
    if (ldns_pkt_ancount(p) != 0 || ldns_pkt_aa(p)) return 0;
    const ldns_rr_list *auth = ldns_pkt_authority(p);
    size_t n = auth ? ldns_rr_list_rr_count(auth) : 0, ns = 0;
    for (size_t i = 0; i < n; i++) {
        ldns_rr_type t = ldns_rr_get_type(ldns_rr_list_rr(auth, i));
        if (t == LDNS_RR_TYPE_SOA) return 0;
        ns += t == LDNS_RR_TYPE_NS;
    }
    return ns > 0;
}

static const char *rcode_name(ldns_pkt_rcode rc, char *buf, size_t n)
{
    ldns_lookup_table *t = ldns_lookup_by_id(ldns_rcodes, (int)rc);
    if (t && t->name) return t->name;
    snprintf(buf, n, "RCODE%d", (int)rc);
    return buf;
}

int trpt_resolve(trpt_resolver *r, trpt_ctx *ctx, const char *name, const char *type,
                 trpt_dns_answer *out, trpt_error *err)
{
    if (!r || !ctx || !name || !type || !out)
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL,
                          "trpt_resolve: NULL argument");
    memset(out, 0, sizeof *out);
    query q;
    memset(&q, 0, sizeof q);
    q.r = r;
    if (trpt__ieq(type, strlen(type), "TXT", 3)) q.qtype = LDNS_RR_TYPE_TXT, q.tname = "TXT";
    else if (trpt__ieq(type, strlen(type), "MX", 2)) q.qtype = LDNS_RR_TYPE_MX, q.tname = "MX";
    else if (trpt__ieq(type, strlen(type), "TLSA", 4)) q.qtype = LDNS_RR_TYPE_TLSA, q.tname = "TLSA";
    else
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, "type",
                          "record type must be TXT, MX or TLSA");
    /* ldns checks label (63) and name (255) lengths; bound the text first. */
    size_t nlen = strlen(name);
    q.qname = (nlen > 0 && nlen <= 1024) ? ldns_dname_new_frm_str(name) : NULL;
    if (!q.qname) {
        /* Echo at most 80 bytes, control bytes and non-ASCII as '?'. */
        char echo[81];
        size_t k = 0;
        for (; name[k] && k < sizeof echo - 1; k++)
            echo[k] = (name[k] >= 0x20 && name[k] < 0x7f) ? name[k] : '?';
        echo[k] = '\0';
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, "name",
                          "'%s' is not a valid domain name", echo);
    }
    char *shown = ldns_rdf2str(q.qname);
    if (!shown) {
        query_free(&q);
        return trpt__nomem(err);
    }
    size_t sl = strlen(shown);
    if (sl > 1 && shown[sl - 1] == '.') shown[--sl] = '\0';
    snprintf(q.shown, sizeof q.shown, "%s", shown);
    free(shown);

    int rc = build_query(&q, err);
    if (rc != TRPT_OK) {
        query_free(&q);
        return rc;
    }
    note(&q, TRPT_E_DNS, "no nameserver to ask for %s %s", q.shown, q.tname);
    for (size_t i = 0; i < r->nns; i++) {
        ldns_pkt *p = ask(&q, i);
        if (!p) continue;
        ldns_pkt_rcode rcode = ldns_pkt_get_rcode(p);
        /* An extended RCODE (EDNS, RFC 6891 §6.1.3: BADVERS...) is no answer. */
        int ext = ldns_pkt_edns_extended_rcode(p) != 0;
        if (!ext && rcode == LDNS_RCODE_NOERROR && is_referral(p)) {
            note(&q, TRPT_E_DNS, "%s %s: %s port %u sent a referral, not an answer (a server "
                 "that does not recurse?)", q.shown, q.tname, r->nsname[i], r->port);
            ldns_pkt_free(p);
            continue;
        }
        if (!ext && (rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN)) {
            q.reply = p;
            break;
        }
        /* SERVFAIL, REFUSED, ...: another server may do better. */
        char buf[16];
        if (ext)
            snprintf(buf, sizeof buf, "RCODE %u",
                     (unsigned)ldns_pkt_edns_extended_rcode(p) << 4 | (unsigned)rcode);
        note(&q, TRPT_E_DNS, "%s for %s %s from %s port %u",
             ext ? buf : rcode_name(rcode, buf, sizeof buf), q.shown, q.tname, r->nsname[i],
             r->port);
        ldns_pkt_free(p);
    }
    if (!q.reply) {
        rc = trpt__fail(err, q.last_code, TRPT_NO_OFFSET, NULL, NULL, "%s", q.last);
    } else if (ldns_pkt_get_rcode(q.reply) == LDNS_RCODE_NXDOMAIN) {
        rc = trpt__fail(err, TRPT_E_NXDOMAIN, TRPT_NO_OFFSET, NULL, NULL,
                        "%s does not exist (NXDOMAIN)", q.shown);
    } else {
        out->ad = ldns_pkt_ad(q.reply) ? 1 : 0;
        rc = extract(ctx, &q, out, err);
        if (rc != TRPT_OK) {
            int ad = out->ad;
            memset(out, 0, sizeof *out);
            out->ad = ad;
        }
    }
    query_free(&q);
    return rc;
}
