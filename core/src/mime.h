/* mime.h — a small hardened MIME reader for report e-mails (RFC 5322 header
 * fields, RFC 2045/2046 bodies, RFC 2047 encoded words, RFC 2231 parameters).
 * Internal: used by email.c and its tests, not installed.
 *
 * Everything returned lives in the ctx arena or points into the caller's
 * message, like the public views. Every cap is a TRPT_E_LIMIT error. */
#ifndef TRPT_MIME_H
#define TRPT_MIME_H

#include "internal.h"

/* Recursion is bounded by min(limits.max_depth, this): the limit can be
 * raised from Lua, the C stack cannot. */
#define TRPT_MIME_HARD_DEPTH 64
/* RFC 2046 §5.1.1 allows 70 characters; longer ones are refused outright. */
#define TRPT_MIME_MAX_BOUNDARY 200
/* Parameters per header and RFC 2231 continuation sections per parameter. */
#define TRPT_MIME_MAX_PARAMS 64
#define TRPT_MIME_MAX_SECTIONS 64

/* One header field: name as written, value unfolded and trimmed. */
typedef struct trpt_mime_hdr {
    trpt_str name;
    trpt_str value;
} trpt_mime_hdr;

typedef struct trpt_mime_hdrs {
    const trpt_mime_hdr *h;
    size_t n;
} trpt_mime_hdrs;

/* Parses the header block at p. Lines end in LF or CRLF; a line starting
 * with SP/HT continues the previous field. Lines that are not fields (an
 * mbox "From " line) are skipped. *body_off is where the body starts (after
 * the empty line; len when there is none). base is p's offset in the whole
 * message, for error offsets. Caps: max_elements fields, max_string bytes
 * per unfolded value. */
TRPT_HIDDEN int trpt__mime_headers(trpt_ctx *ctx, const char *p, size_t len, size_t base,
                                   trpt_mime_hdrs *out, size_t *body_off, trpt_error *err);

/* First field named name (case-insensitive), or NULL. */
TRPT_HIDDEN const trpt_str *trpt__mime_get(const trpt_mime_hdrs *h, const char *name);

/* A structured value: "type/subtype" or a disposition, lowercased, and its
 * parameters (names lowercased, values unquoted; RFC 2231 continuations
 * joined and percent-decoding applied, charset kept as bytes). */
typedef struct trpt_mime_params {
    trpt_str value;
    const trpt_kv *params;
    size_t nparams;
} trpt_mime_params;

/* Parses a Content-Type / Content-Disposition value. Comments, quoted
 * strings, trailing ";" and empty parameters are accepted; the first of two
 * equal names wins. Never fails on syntax (a broken value yields what could
 * be read); fails only on memory or TRPT_MIME_MAX_PARAMS. */
TRPT_HIDDEN int trpt__mime_params(trpt_ctx *ctx, trpt_str value, trpt_mime_params *out,
                                  trpt_error *err);

/* Value of parameter name (lowercase), or NULL. */
TRPT_HIDDEN const trpt_str *trpt__mime_param(const trpt_mime_params *p, const char *name);

/* Content-Transfer-Encoding decoders (output in the arena). base64 skips
 * whitespace and line breaks; any other character outside the alphabet,
 * misplaced padding or a dangling 6-bit group is TRPT_E_SYNTAX. Quoted-
 * printable follows RFC 2045 §6.7 with its robustness advice: soft breaks
 * removed, trailing whitespace dropped, a "=" not followed by two hex digits
 * kept literally. */
TRPT_HIDDEN int trpt__base64_decode(trpt_ctx *ctx, const char *p, size_t len, trpt_str *out,
                                    trpt_error *err);
TRPT_HIDDEN int trpt__qp_decode(trpt_ctx *ctx, const char *p, size_t len, trpt_str *out,
                                trpt_error *err);

/* Decodes RFC 2047 encoded words (B and Q; utf-8, us-ascii, iso-8859-1 and
 * its aliases) into UTF-8; whitespace between adjacent encoded words goes.
 * Words in other charsets, malformed words, and words that do not decode to
 * valid text in their charset are kept as written. Output capped by
 * max_string. */
TRPT_HIDDEN int trpt__rfc2047_decode(trpt_ctx *ctx, trpt_str in, trpt_str *out, trpt_error *err);

/* How a candidate report part was recognised, best first. */
enum {
    TRPT_MIME_NONE = 0,
    TRPT_MIME_BY_FILENAME,    /* generic type, TLS-RPT file name (RFC 8460 §5.1) */
    TRPT_MIME_BY_TYPE,        /* application/tlsrpt* outside multipart/report */
    TRPT_MIME_IN_REPORT       /* application/tlsrpt* inside multipart/report; report-type=tlsrpt */
};

/* The report part of a message and the header fields around it. */
typedef struct trpt_mime_report {
    trpt_mime_hdrs headers;   /* the message holding the part (top level, or an
                                 attached message/rfc822 when the report sits there) */
    trpt_str top_type;        /* media type of that message, lowercased */
    int top_is_report;        /* it is multipart/report; report-type=tlsrpt */
    int how;                  /* TRPT_MIME_* */
    trpt_str content_type;    /* media type of the part, lowercased */
    trpt_str filename;        /* Content-Disposition filename, else Content-Type name */
    trpt_str encoding;        /* Content-Transfer-Encoding, lowercased ("" if none) */
    trpt_str payload;         /* decoded body */
    size_t offset;            /* of the part's body in the message */
    size_t nparts;            /* MIME entities seen */
} trpt_mime_report;

/* Walks the message and decodes the best report part. No candidate:
 * TRPT_E_NO_REPORT. Caps: max_input bytes, min(max_depth, HARD_DEPTH)
 * nesting, max_elements entities in all. */
TRPT_HIDDEN int trpt__mime_find_report(trpt_ctx *ctx, const char *msg, size_t len,
                                       trpt_mime_report *out, trpt_error *err);

/* Splits a RFC 8460 §5.1 file name
 * "submitter!policy-domain!begin!end[!unique-id].json[.gz]". Returns 1 and
 * fills the slices and epochs when it has that shape, else 0. */
typedef struct trpt_mime_rptname {
    trpt_str submitter, domain, unique_id;
    int64_t begin, end;
    int gz;
} trpt_mime_rptname;

TRPT_HIDDEN int trpt__mime_rptname(trpt_str name, trpt_mime_rptname *out);

#endif
