/* Shared by the TLS-RPT (RFC 8460 §3) and MTA-STS (RFC 8461 §3.1) TXT
 * record parsers, which use the same tag=value grammar:
 *
 *   record     = version 1*(field-delim field) [field-delim]
 *   field-delim= *WSP ";" *WSP
 *   ext-name   = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   ext-value  = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 * plus the small character-class and UTF-8 helpers the policy parser
 * shares. */
#ifndef TRPT_TAGVALUE_H
#define TRPT_TAGVALUE_H

#include "internal.h"

/* One "name=value" field of a record; offsets are into the record. */
typedef struct trpt_tv_field {
    trpt_str name;
    trpt_str value;
    size_t offset;      /* of the name */
    size_t value_offset;
} trpt_tv_field;

/* Picks the one record starting with prefix ("v=TLSRPTv1", "v=STSv1")
 * followed by a delimiter or the end. Checks the limits (total bytes,
 * number of records). TRPT_E_NO_RECORD / TRPT_E_MULTIPLE as the RFCs
 * require; rfc names the section for the error. */
TRPT_HIDDEN int trpt__tv_select(const trpt_ctx *ctx, const trpt_str *txts, size_t ntxt,
                                const char *prefix, const char *rfc, size_t *index,
                                trpt_error *err);

/* Splits a record into fields at field-delim. Values run to the next ';'
 * (callers check their characters: rua lists contain "," and WSP). An empty
 * field or a field without "=" or with a bad name is TRPT_E_SYNTAX; more
 * than limits.max_elements fields is TRPT_E_LIMIT. *fields (a vec of
 * trpt_tv_field in heap memory) is the caller's to trpt__vec_free. */
TRPT_HIDDEN int trpt__tv_split(trpt_ctx *ctx, trpt_str rec, const char *rfc, trpt_vec *fields,
                               trpt_error *err);

/* ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
TRPT_HIDDEN int trpt__tv_name_ok(const char *s, size_t n);

/* Checks an extension value against ext-value; TRPT_E_SYNTAX naming f. */
TRPT_HIDDEN int trpt__tv_ext_value(const trpt_tv_field *f, const char *rfc, trpt_error *err);

/* Length of the valid UTF-8 prefix of s (== n when all of s is valid).
 * Rejects overlongs, surrogates and code points past U+10FFFF. */
TRPT_HIDDEN size_t trpt__utf8_prefix(const unsigned char *s, size_t n);

static inline int trpt__is_wsp(int c) { return c == ' ' || c == '\t'; }

#endif
