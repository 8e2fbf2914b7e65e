/* Host syntax shared by the report builder (policy-domain, mx-host,
 * receiving-mx-hostname, e-mail domains, IP addresses) and the report
 * parser, so that a report the parser takes without a warning is one the
 * builder accepts. */
#ifndef TRPT_HOSTNAME_H
#define TRPT_HOSTNAME_H

#include "internal.h"

/* RFC 1035 §2.3.1 preferred syntax as RFC 5321 §4.1.2 Domain uses it: LDH
 * labels of 1-63 bytes that neither start nor end with '-', at most 253
 * bytes, one trailing dot allowed (absolute form). IDNs must be in xn--
 * form. wildcard: a leading "*." is allowed too (MTA-STS mx patterns). */
TRPT_HIDDEN int trpt__domain_ok(const char *s, size_t n, int wildcard);

/* The byte-at-a-time definition of the same check on s[0..n) (no "*."
 * prefix, no trailing dot, 1 <= n <= 253), which trpt__domain_ok uses past
 * 64 bytes; exposed for the test that compares the two. */
TRPT_HIDDEN int trpt__domain_ok_bytes(const char *s, size_t n);

/* The domain of a contact-info that is an address (local@domain, the
 * domain valid as above; RFC 8460 §5.3 ties the submitter to it); empty
 * otherwise (a URL, a bare word). Shared by the e-mail parser and builder. */
TRPT_HIDDEN trpt_str trpt__contact_domain(trpt_str contact);

/* sending-mta-ip / receiving-ip: an IPv4 dotted quad without leading-zero
 * octets, or IPv6 text as inet_pton(AF_INET6) reads it; no NUL byte. */
TRPT_HIDDEN int trpt__ip_ok(const char *s, size_t n);

/* The IPv4 part one octet at a time, which trpt__ip_ok uses without SSE2;
 * exposed for the test that compares the two. */
TRPT_HIDDEN int trpt__ipv4_ok_bytes(const char *s, size_t n);

#endif
