/*
 * trpt.h — SMTP TLS Reporting (RFC 8460) and MTA-STS (RFC 8461) core library.
 *
 * The one public header. Conventions:
 *  - Prefix trpt_ / TRPT_ (sys4's libtlsrpt owns tlsrpt_).
 *  - Every fallible call returns TRPT_OK (0) or a trpt_code, and fills a
 *    caller-owned trpt_error when one is passed (NULL is allowed).
 *  - All memory of a parse result belongs to a trpt_ctx (an arena). Results are
 *    plain const views; they stay valid until the ctx is reset or freed.
 *    Strings in views may point into the caller's input buffer (no copy when
 *    nothing needed decoding), so keep the input alive as long as the view.
 *  - No global state: allocator, limits and caches hang off trpt_ctx.
 *  - Strings are (ptr, len) slices, not NUL-terminated unless stated.
 */
#ifndef TRPT_H
#define TRPT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(TRPT_STATIC_NO_VISIBILITY)
#define TRPT_API __attribute__((visibility("default")))
#else
#define TRPT_API
#endif

#define TRPT_VERSION "0.1.0"

/* ------------------------------------------------------------------ errors */

typedef enum trpt_code {
    TRPT_OK = 0,
    TRPT_E_NOMEM,       /* allocation failed */
    TRPT_E_ARG,         /* API misuse: NULL where not allowed, bad option */
    TRPT_E_SYNTAX,      /* malformed record, policy, JSON or MIME */
    TRPT_E_NO_RECORD,   /* no TXT record with the expected version */
    TRPT_E_MULTIPLE,    /* more than one matching TXT record (RFC 8460 §3, RFC 8461 §3.1) */
    TRPT_E_VERSION,     /* wrong or missing v= / version: */
    TRPT_E_FIELD,       /* required field missing, or a field with a bad value */
    TRPT_E_LIMIT,       /* a size / depth / count / ratio cap was hit */
    TRPT_E_UTF8,        /* invalid UTF-8 */
    TRPT_E_DUPLICATE,   /* duplicate JSON key or record tag */
    TRPT_E_GZIP,        /* corrupt or truncated gzip */
    TRPT_E_NO_REPORT,   /* an e-mail with no TLS report in it */
    TRPT_E_STRICT,      /* a deviation from the RFC, rejected in strict mode */
    TRPT_E_DNS,         /* resolver failure (SERVFAIL, timeout, network) */
    TRPT_E_NXDOMAIN,    /* the name does not exist */
    TRPT_E_IO,          /* file or socket error */
    TRPT_E__COUNT
} trpt_code;

/* Caller-owned error: fill-in only, never allocated by the library. */
typedef struct trpt_error {
    int code;           /* trpt_code */
    size_t offset;      /* byte offset into the input, or TRPT_NO_OFFSET */
    const char *rfc;    /* static "RFC 8460 §4.4" style section, or NULL */
    char path[160];     /* JSON path ("policies[0].policy.policy-type") or tag, "" if none */
    char message[256];  /* human-readable, NUL-terminated */
} trpt_error;

#define TRPT_NO_OFFSET ((size_t)-1)

/* Stable lowercase name of a code ("syntax", "limit", ...), used as the Lua error code. */
TRPT_API const char *trpt_code_name(int code);

/* ------------------------------------------------------------ allocation */

/* Same contract as lua_Alloc: nsize == 0 frees and returns NULL, otherwise
 * behaves as realloc(ptr, nsize). osize is the old size (0 for a new block).
 * Lets the Lua binding route all memory through the interpreter's allocator.
 * One exception: built with libdeflate, a ctx that inflated a .gz member of
 * 64 KiB or more holds libdeflate's decompressor (11.3 KiB), which that
 * library allocates with malloc (its API has no per-object allocator). */
typedef void *(*trpt_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

/* --------------------------------------------------------------- limits */

/* Caps applied to untrusted input; each violation is a TRPT_E_LIMIT error
 * naming the cap. trpt_limits_default() fills conservative defaults. */
typedef struct trpt_limits {
    size_t max_input;         /* bytes of input accepted (default 64 MiB) */
    size_t max_decompressed;  /* bytes after gunzip (default 256 MiB) */
    unsigned max_ratio;       /* decompressed/compressed, checked past 1 MiB (default 200) */
    unsigned max_depth;       /* JSON / MIME nesting (default 32) */
    size_t max_string;        /* bytes of one decoded string (default 1 MiB) */
    size_t max_elements;      /* elements of one array or members of one object (default 1,000,000) */
    size_t max_warnings;      /* warnings kept; more are counted, not stored (default 1000) */
} trpt_limits;

TRPT_API void trpt_limits_default(trpt_limits *lim);

/* ------------------------------------------------------------- context */

/* A parse context: an arena that owns every result parsed with it, plus
 * cached working state (inflater, scratch buffers) so repeated parses do
 * not re-allocate. Not thread-safe; use one per thread. */
typedef struct trpt_ctx trpt_ctx;

/* alloc may be NULL (malloc/realloc/free); limits may be NULL (defaults). */
TRPT_API trpt_ctx *trpt_ctx_new(trpt_alloc_fn alloc, void *ud, const trpt_limits *limits);
TRPT_API void trpt_ctx_free(trpt_ctx *ctx);
/* Frees every result made with ctx; keeps caches and limits. */
TRPT_API void trpt_ctx_reset(trpt_ctx *ctx);
TRPT_API const trpt_limits *trpt_ctx_limits(const trpt_ctx *ctx);
TRPT_API void trpt_ctx_set_limits(trpt_ctx *ctx, const trpt_limits *limits);
/* Bytes currently held by the arena (for memory accounting in tests/bench). */
TRPT_API size_t trpt_ctx_bytes(const trpt_ctx *ctx);
/* Arena allocation, 16-byte aligned; NULL on failure. For bindings and extensions. */
TRPT_API void *trpt_ctx_alloc(trpt_ctx *ctx, size_t n);

typedef struct trpt_str {
    const char *ptr;
    size_t len;
} trpt_str;

typedef struct trpt_kv {
    trpt_str key;
    trpt_str value;
} trpt_kv;

/* ------------------------------------------- TLS-RPT TXT (RFC 8460 §3) */

typedef enum trpt_rua_scheme { TRPT_RUA_MAILTO = 1, TRPT_RUA_HTTPS = 2 } trpt_rua_scheme;

typedef struct trpt_rua {
    trpt_str uri;          /* as written in the record */
    trpt_str target;       /* mailto: the percent-decoded address (no "?hfields");
                              https: the URL as written (decoding would change it) */
    int scheme;            /* trpt_rua_scheme */
} trpt_rua;

typedef struct trpt_tlsrpt_record {
    trpt_str version;      /* "TLSRPTv1" */
    const trpt_rua *rua;
    size_t nrua;
    const trpt_kv *ext;    /* extension fields, in record order */
    size_t next;
    trpt_str raw;          /* the TXT record that matched */
} trpt_tlsrpt_record;

/* txts: every TXT record of _smtp._tls.<domain>, one entry per record (the
 * character-strings of a record already concatenated). Records that do not
 * start with "v=TLSRPTv1" are ignored (RFC 8460 §3); none left is
 * TRPT_E_NO_RECORD, several is TRPT_E_MULTIPLE. */
TRPT_API int trpt_parse_tlsrpt_record(trpt_ctx *ctx, const trpt_str *txts, size_t ntxt,
                                      trpt_tlsrpt_record *out, trpt_error *err);

/* --------------------------------------- MTA-STS TXT (RFC 8461 §3.1) */

typedef struct trpt_sts_record {
    trpt_str version;      /* "STSv1" */
    trpt_str id;           /* 1-32 alphanumerics */
    const trpt_kv *ext;
    size_t next;
    trpt_str raw;
} trpt_sts_record;

TRPT_API int trpt_parse_sts_record(trpt_ctx *ctx, const trpt_str *txts, size_t ntxt,
                                   trpt_sts_record *out, trpt_error *err);

/* ----------------------------------- MTA-STS policy file (RFC 8461 §3.2) */

typedef enum trpt_sts_mode {
    TRPT_MODE_ENFORCE = 1, TRPT_MODE_TESTING = 2, TRPT_MODE_NONE = 3
} trpt_sts_mode;

typedef struct trpt_sts_policy {
    trpt_str version;      /* "STSv1" */
    int mode;              /* trpt_sts_mode */
    int64_t max_age;       /* seconds, 0..31557600 */
    const trpt_str *mx;    /* mx patterns in file order ("*.example.net" allowed) */
    size_t nmx;
    const trpt_kv *ext;    /* unknown keys, kept in order */
    size_t next;
    const trpt_kv *ignored; /* repeated version / mode / max_age lines, unchecked */
    size_t nignored;
} trpt_sts_policy;

/* A repeated version, mode or max_age keeps its first value (RFC 8461 §3.2);
 * the repeats are listed in ignored. Blank lines are skipped. Caps: max_input, max_elements (lines), max_string
 * (one value). */
TRPT_API int trpt_parse_sts_policy(trpt_ctx *ctx, const char *text, size_t len,
                                   trpt_sts_policy *out, trpt_error *err);

/* 1 if host matches one of the policy's mx patterns (RFC 8461 §4.1:
 * case-insensitive, trailing dot ignored, "*." stands for exactly one
 * label), else 0. */
TRPT_API int trpt_sts_mx_match(const trpt_sts_policy *policy, const char *host, size_t len);
/* The same test against a single pattern. */
TRPT_API int trpt_mx_pattern_match(const char *pattern, size_t plen, const char *host, size_t hlen);

/* ------------------------------------------- reports (RFC 8460 §4) */

typedef enum trpt_policy_type {
    TRPT_POLICY_OTHER = 0,     /* unknown type, kept verbatim in policy_type */
    TRPT_POLICY_STS,
    TRPT_POLICY_TLSA,
    TRPT_POLICY_NO_POLICY_FOUND
} trpt_policy_type;

typedef enum trpt_result_type {
    TRPT_RESULT_OTHER = 0,     /* unknown result type, kept verbatim in result_type */
    TRPT_RESULT_STARTTLS_NOT_SUPPORTED,
    TRPT_RESULT_CERTIFICATE_HOST_MISMATCH,
    TRPT_RESULT_CERTIFICATE_EXPIRED,
    TRPT_RESULT_CERTIFICATE_NOT_TRUSTED,
    TRPT_RESULT_VALIDATION_FAILURE,
    TRPT_RESULT_TLSA_INVALID,
    TRPT_RESULT_DNSSEC_INVALID,
    TRPT_RESULT_DANE_REQUIRED,
    TRPT_RESULT_STS_POLICY_FETCH_ERROR,
    TRPT_RESULT_STS_POLICY_INVALID,
    TRPT_RESULT_STS_WEBPKI_INVALID
} trpt_result_type;

/* RFC name of a result / policy type ("starttls-not-supported"), NULL for OTHER. */
TRPT_API const char *trpt_result_type_name(int result_type);
TRPT_API const char *trpt_policy_type_name(int policy_type);
/* Inverse: TRPT_RESULT_OTHER / TRPT_POLICY_OTHER when unknown. */
TRPT_API int trpt_result_type_from(const char *s, size_t len);
TRPT_API int trpt_policy_type_from(const char *s, size_t len);

/* Presence bits: which optional / lenient fields were in the input. */
enum {
    TRPT_HAS_SENDING_MTA_IP        = 1u << 0,
    TRPT_HAS_RECEIVING_MX_HOSTNAME = 1u << 1,
    TRPT_HAS_RECEIVING_MX_HELO     = 1u << 2,
    TRPT_HAS_RECEIVING_IP          = 1u << 3,
    TRPT_HAS_ADDITIONAL_INFORMATION= 1u << 4,
    TRPT_HAS_FAILURE_REASON_CODE   = 1u << 5,
    TRPT_HAS_POLICY_STRING         = 1u << 8,
    TRPT_HAS_POLICY_DOMAIN         = 1u << 9,
    TRPT_HAS_MX_HOST               = 1u << 10,
    TRPT_HAS_CONTACT_INFO          = 1u << 12,
    TRPT_HAS_REPORT_ID             = 1u << 13,
    TRPT_HAS_ORGANIZATION_NAME     = 1u << 14
};

typedef struct trpt_failure {
    trpt_str result_type;          /* verbatim */
    int result;                    /* trpt_result_type */
    trpt_str sending_mta_ip;
    trpt_str receiving_mx_hostname;
    trpt_str receiving_mx_helo;
    trpt_str receiving_ip;
    trpt_str additional_information;
    trpt_str failure_reason_code;
    int64_t failed_session_count;
    unsigned has;                  /* TRPT_HAS_* bits */
    const trpt_kv *extra;          /* unknown keys: value is the raw JSON text */
    size_t nextra;
} trpt_failure;

typedef struct trpt_policy_result {
    trpt_str policy_type;          /* verbatim */
    int type;                      /* trpt_policy_type */
    const trpt_str *policy_string;
    size_t npolicy_string;
    trpt_str policy_domain;
    const trpt_str *mx_host;
    size_t nmx_host;
    int64_t total_successful_session_count;
    int64_t total_failure_session_count;
    const trpt_failure *failures;
    size_t nfailures;
    unsigned has;
    const trpt_kv *extra;          /* also "policy/<name>", "summary/<name>" */
    size_t nextra;
} trpt_policy_result;

/* A deviation accepted in lenient mode. code is a stable machine-readable
 * token ("datetime-no-timezone", "contact-info-null", ...), path the JSON
 * path, rfc the section it breaks. All NUL-terminated, owned by the ctx. */
typedef struct trpt_warning {
    const char *code;
    const char *path;
    const char *rfc;
    const char *message;
} trpt_warning;

typedef struct trpt_report {
    trpt_str organization_name;
    trpt_str start_datetime;       /* verbatim */
    trpt_str end_datetime;
    int64_t start_epoch;           /* seconds since 1970, UTC */
    int64_t end_epoch;
    trpt_str contact_info;
    trpt_str report_id;
    const trpt_policy_result *policies;
    size_t npolicies;
    unsigned has;
    const trpt_kv *extra;          /* also "date-range/<name>" */
    size_t nextra;
    const trpt_warning *warnings;
    size_t nwarnings;
    size_t nwarnings_dropped;      /* past limits.max_warnings */
} trpt_report;

typedef struct trpt_parse_opts {
    int strict;                    /* reject every deviation with TRPT_E_STRICT */
} trpt_parse_opts;

/* Parses a report from JSON or gzip (detected by the 1f 8b magic). opts may be NULL. */
TRPT_API int trpt_parse_report(trpt_ctx *ctx, const void *data, size_t len,
                               const trpt_parse_opts *opts, trpt_report *out, trpt_error *err);

/* Inflates a gzip member (all members, concatenated) under the ctx limits
 * (max_decompressed, max_ratio); the output lives in the ctx. One member
 * whose trailer gives its size decodes in one call: under 64 KiB with the
 * library's own decoder (no heap state), from 64 KiB with libdeflate where
 * built in; anything else, and every error, with zlib (its inflater then
 * cached in the ctx). All give the same output and errors. */
TRPT_API int trpt_gunzip(trpt_ctx *ctx, const void *data, size_t len, trpt_str *out, trpt_error *err);

/* --------------------------------- report e-mail (RFC 8460 §5.3) */

typedef struct trpt_report_email {
    trpt_report report;
    trpt_str tls_report_domain;    /* header values, unfolded; absent: ptr NULL, len 0 */
    trpt_str tls_report_submitter;
    trpt_str subject;              /* decoded (RFC 2047) and unfolded */
    trpt_str from;
    trpt_str date;
    trpt_str message_id;
    trpt_str part_content_type;    /* media type of the part the report came from */
    trpt_str filename;             /* filename / name parameter of that part; NULL if none */
} trpt_report_email;

/* Finds the report in a MIME message (multipart/report; report-type=tlsrpt,
 * or any part typed application/tlsrpt+gzip, application/tlsrpt+json or
 * application/tlsrpt, else a generic gzip/octet-stream/json part named like
 * a §5.1 report file; none: TRPT_E_NO_REPORT), decodes it and parses it.
 * Disagreements between the headers and the JSON are added as "email-*"
 * warnings (errors in strict mode), listed in doc/warnings-email.md. */
TRPT_API int trpt_parse_report_email(trpt_ctx *ctx, const void *msg, size_t len,
                                     const trpt_parse_opts *opts, trpt_report_email *out,
                                     trpt_error *err);

/* ------------------------------------ report generation (RFC 8460 §4, §5) */

typedef struct trpt_builder trpt_builder;

TRPT_API trpt_builder *trpt_builder_new(trpt_alloc_fn alloc, void *ud);
TRPT_API void trpt_builder_free(trpt_builder *b);
/* Caps on what a builder holds (NULL: defaults): max_elements bounds the
 * policies, the failure rows (all policies together) and each policy's
 * policy-string / mx-host entries; max_string one string's bytes;
 * max_decompressed the bytes of all strings copied in. Past a cap:
 * TRPT_E_LIMIT. */
TRPT_API void trpt_builder_set_limits(trpt_builder *b, const trpt_limits *limits);

/* Report metadata. Strings are copied. contact_info / report_id may be NULL. */
TRPT_API int trpt_builder_set_meta(trpt_builder *b, const char *organization_name,
                                   const char *contact_info, const char *report_id,
                                   int64_t start_epoch, int64_t end_epoch, trpt_error *err);

/* Adds a policy (type: "sts", "tlsa", "no-policy-found"); returns its index in
 * *index. Adding a policy equal to an existing one returns that one's index. */
TRPT_API int trpt_builder_add_policy(trpt_builder *b, const char *policy_type,
                                     const char *policy_domain,
                                     const char *const *policy_strings, size_t npolicy_strings,
                                     const char *const *mx_hosts, size_t nmx_hosts,
                                     size_t *index, trpt_error *err);

TRPT_API int trpt_builder_add_success(trpt_builder *b, size_t policy, int64_t count, trpt_error *err);

/* Adds failed sessions: f->result_type (or f->result) names the type, the
 * optional fields whose TRPT_HAS_* bit is set in f->has are used, and
 * f->failed_session_count is the count. Failures whose fields are all equal
 * merge their counts. */
TRPT_API int trpt_builder_add_failure(trpt_builder *b, size_t policy, const trpt_failure *f,
                                      trpt_error *err);

/* Adds every policy, count and failure of a parsed report; a summary's
 * failures beyond its failure-details are kept as failures without detail.
 * Takes the report's metadata when none is set yet. Unknown ("extra") keys
 * are dropped. The whole report is validated before anything is added, so
 * a bad value leaves the builder as it was. A cap (a total past 2^53-1
 * once merged, max_elements) or an allocation failure can still stop it
 * part-way; the builder then fails every later call with TRPT_E_ARG. */
TRPT_API int trpt_builder_add_report(trpt_builder *b, const trpt_report *r, trpt_error *err);

/* Canonical JSON (RFC key names, no nulls, RFC 3339 UTC dates). The output
 * is owned by the builder and valid until the next output call or free. */
TRPT_API int trpt_builder_json(trpt_builder *b, trpt_str *out, trpt_error *err);
/* The same JSON, gzip-compressed (application/tlsrpt+gzip). */
TRPT_API int trpt_builder_gzip(trpt_builder *b, trpt_str *out, trpt_error *err);
/* RFC 8460 §5.1 file name: submitter!policy-domain!begin!end[!unique-id].json[.gz].
 * submitter may be NULL when contact-info is an address: its domain; given,
 * it must be that domain (§5.3). Domains lose a trailing dot. */
TRPT_API int trpt_builder_filename(trpt_builder *b, const char *submitter,
                                   const char *policy_domain, const char *unique_id,
                                   int gzip, trpt_str *out, trpt_error *err);

typedef struct trpt_email_opts {
    const char *from;              /* required */
    const char *to;                /* required (rua mailto target) */
    const char *submitter;         /* TLS-Report-Submitter; NULL: contact-info's domain */
    const char *policy_domain;     /* TLS-Report-Domain; NULL: the policies' one */
    const char *message_id;        /* optional; <id-left@submitter> from report-id if NULL */
    int64_t date;                  /* Date: header, epoch seconds */
    const char *boundary;          /* optional, for reproducible output */
} trpt_email_opts;

/* The §5.3 report e-mail with the gzip report attached. A file or e-mail
 * is for one policy domain: every policy must have the same policy-domain
 * (case and a trailing dot aside), and policy_domain, if not NULL, must be
 * it (also for trpt_builder_filename). The Subject's Report-ID is <id-left@submitter>,
 * id-left the report-id with every character a dot-atom-text cannot hold
 * made '-'. */
TRPT_API int trpt_builder_email(trpt_builder *b, const trpt_email_opts *o, trpt_str *out,
                                trpt_error *err);

/* RFC 8460 §5.4 HTTPS POST body: the gzip report ("application/tlsrpt+gzip")
 * or, with gzip == 0, the JSON ("application/tlsrpt+json"). *content_type
 * is a static string. */
TRPT_API int trpt_builder_post(trpt_builder *b, int gzip, trpt_str *body,
                               const char **content_type, trpt_error *err);

/* ------------------------------------------------------ DNS (ldns) */

typedef struct trpt_resolver trpt_resolver;

typedef struct trpt_resolver_opts {
    const char *nameserver;        /* IPv4/IPv6 literal ("[::1]" too); NULL: system resolver */
    const char *resolv_conf;       /* system resolver's file; NULL: /etc/resolv.conf */
    unsigned port;                 /* 0: 53 (also applies to the system resolver's servers) */
    unsigned timeout_ms;           /* wait per UDP try, 0: 5000, at most 600000 */
    unsigned attempts;             /* UDP tries per server, 0: 2, at most 10 */
} trpt_resolver_opts;

/* Validates the options; sends nothing. Queries ask for recursion (RD) and
 * DNSSEC (AD, EDNS0 DO) so a validating upstream's AD bit is reported; a
 * truncated UDP answer is retried over TCP. The AD bit is only as good as
 * the path to the resolver: trust it for a validating resolver on
 * localhost, not across a network. */
TRPT_API trpt_resolver *trpt_resolver_new(const trpt_resolver_opts *o, trpt_error *err);
TRPT_API void trpt_resolver_free(trpt_resolver *r);

typedef struct trpt_dns_answer {
    const trpt_str *txt;           /* TXT: one joined string per record */
    size_t ntxt;
    const trpt_str *mx_host;       /* MX: exchanges sorted by preference, no trailing
                                      dot; a null MX (RFC 7505) is "." */
    const unsigned *mx_pref;
    size_t nmx;
    const trpt_str *tlsa;          /* TLSA: presentation form "3 1 1 abcd..." */
    size_t ntlsa;
    int ad;                        /* DNSSEC AD bit of the answer */
} trpt_dns_answer;

/* type: "TXT", "MX" or "TLSA" (any case); name: absolute domain name, for
 * TLSA the full "_25._tcp.mx.example.com". CNAMEs in the answer are
 * followed. A name with no data of that type gives an empty answer
 * (TRPT_OK); NXDOMAIN gives TRPT_E_NXDOMAIN; SERVFAIL, REFUSED, timeouts and
 * network errors TRPT_E_DNS (after trying every server); more records than
 * limits.max_elements or a TXT / TLSA longer than limits.max_string
 * TRPT_E_LIMIT. The answer lives in ctx. */
TRPT_API int trpt_resolve(trpt_resolver *r, trpt_ctx *ctx, const char *name, const char *type,
                          trpt_dns_answer *out, trpt_error *err);

#ifdef __cplusplus
}
#endif
#endif /* TRPT_H */
