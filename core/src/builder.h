/* Report builder internals shared by builder.c (model, validation, merging),
 * emit_json.c, emit_mail.c and deflate.c. Not installed. */
#ifndef TRPT_BUILDER_H
#define TRPT_BUILDER_H

#include "internal.h"

/* Counts stay exact in every JSON consumer (IEEE doubles): RFC 8259 §6. */
#define BLD_MAX_COUNT (((int64_t)1 << 53) - 1) /* what the parser reads back exactly (RFC 7493 §2.2) */

/* Optional failure-detail fields, in RFC 8460 §4.4 output order. */
enum { BLD_SENDING_MTA_IP, BLD_RECEIVING_MX_HOSTNAME, BLD_RECEIVING_MX_HELO, BLD_RECEIVING_IP,
       BLD_ADDITIONAL_INFORMATION, BLD_FAILURE_REASON_CODE, BLD_NOPT };

/* One failure-details row: all strings are arena copies. */
typedef struct bld_row {
    const char *result_type;          /* RFC registry name (static) */
    trpt_str opt[BLD_NOPT];
    unsigned has;                      /* bit i set: opt[i] present */
    int64_t count;
    uint64_t hash;
} bld_row;

typedef struct bld_policy {
    const char *type;                  /* RFC name (static) */
    trpt_str domain;
    trpt_str *strings;
    size_t nstrings;
    trpt_str *mx;
    size_t nmx;
    int64_t success;
    int64_t failure;                   /* rows' counts plus failures without detail */
    trpt_vec rows;                     /* bld_row, in insertion order */
    uint64_t hash;
} bld_policy;

/* Open-addressing hash slot for a failure row; row == SIZE_MAX is empty. */
typedef struct bld_slot {
    size_t policy, row;
} bld_slot;

/* Growable output buffer in the builder's allocator. */
typedef struct bld_buf {
    char *p;
    size_t len, cap;
} bld_buf;

struct trpt_builder {
    trpt_ctx *arena;                   /* allocator, limits, copies of every string */
    uint64_t key[2];                   /* hash key of the tables below */
    int has_meta;
    trpt_str org, contact, report_id;  /* contact / report_id: ptr NULL when unset */
    int64_t start, end;
    trpt_vec policies;                 /* bld_policy */
    size_t nrows;                      /* failure rows over all policies */
    size_t stored;                     /* bytes of strings copied in */
    size_t *ptab;                      /* policy index + 1, 0 = empty */
    size_t pcap;
    bld_slot *rtab;
    size_t rcap;
    bld_buf out;                       /* the last output handed out */
    int broken;                        /* an add_report stopped part-way: unusable */
};

/* Buffer helpers: 0 on success, -1 when out of memory. */
TRPT_HIDDEN int trpt__buf_add(trpt_ctx *c, bld_buf *b, const void *d, size_t n);
TRPT_HIDDEN int trpt__buf_printf(trpt_ctx *c, bld_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
TRPT_HIDDEN void trpt__buf_free(trpt_ctx *c, bld_buf *b);
/* Replaces the builder's output with buf (taken over) and points out at it. */
TRPT_HIDDEN void trpt__bld_set_out(trpt_builder *b, bld_buf *buf, trpt_str *out);

/* Printable excerpt of untrusted input for error messages: at most
 * BLD_SHOW - 4 bytes, non-printables as '?', "..." when cut. */
#define BLD_SHOW 68
TRPT_HIDDEN void trpt__bld_show(const char *s, size_t n, char out[BLD_SHOW]);
/* Fails once an add_report has stopped part-way (its report half added:
 * counting on would count sessions twice or lose some). */
TRPT_HIDDEN int trpt__bld_usable(const trpt_builder *b, trpt_error *err);
/* Fails unless usable, metadata was set and at least one policy was added. */
TRPT_HIDDEN int trpt__bld_check_ready(const trpt_builder *b, trpt_error *err);
/* The policy-domain shared by every policy, or NULL when they differ / none. */
TRPT_HIDDEN const trpt_str *trpt__bld_common_domain(const trpt_builder *b);
/* "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with NUL) for 0 <= t <= TRPT_MAX_EPOCH. */
TRPT_HIDDEN void trpt__bld_rfc3339(int64_t t, char out[21]);
/* Civil time of an epoch: fields as in struct tm (year full, mon 1-12), wday 0 = Sunday. */
TRPT_HIDDEN void trpt__bld_civil(int64_t t, int *year, int *mon, int *day, int *hh, int *mm,
                                 int *ss, int *wday);

/* JSON report (emit_json.c) into buf. */
TRPT_HIDDEN int trpt__bld_render_json(trpt_builder *b, bld_buf *buf, trpt_error *err);
/* gzip (RFC 1952) of in, deterministic: mtime 0, no name (deflate.c). */
TRPT_HIDDEN int trpt__bld_gzip(trpt_ctx *c, const char *in, size_t len, bld_buf *out,
                               trpt_error *err);

#endif
