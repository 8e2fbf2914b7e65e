/* Report internals shared with the e-mail parser (report_email work). */
#ifndef TRPT_REPORT_INTERNAL_H
#define TRPT_REPORT_INTERNAL_H

#include "internal.h"

/* Appends a warning (code, path, rfc, printf message; all copied into the
 * ctx arena) to an already-parsed report r. In strict mode (opts->strict)
 * nothing is appended: err is filled with TRPT_E_STRICT, the same path and
 * rfc, and TRPT_E_STRICT is returned. Past limits.max_warnings the warning
 * is only counted in r->nwarnings_dropped. Returns TRPT_OK, TRPT_E_STRICT
 * or TRPT_E_NOMEM. code/rfc should be static strings (they are kept as is). */
TRPT_HIDDEN int trpt__report_warn(trpt_ctx *ctx, trpt_report *r, const trpt_parse_opts *opts,
                                  const char *code, const char *path, const char *rfc,
                                  trpt_error *err, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Parses RFC 3339 date-time s into epoch seconds (UTC). Returns 0 on a full
 * RFC 3339 date-time, -1 when malformed, else the deviations it read past:
 * TRPT_DT_NO_ZONE (no time-offset: read as UTC), TRPT_DT_SPACE (a space
 * instead of "T", which only the RFC's NOTE mentions). A leap second
 * (":60") is valid only as 23:59:60 UTC on the last day of a month. */
#define TRPT_DT_NO_ZONE 1
#define TRPT_DT_SPACE 2
TRPT_HIDDEN int trpt__datetime_parse(const char *s, size_t len, int64_t *epoch);

#endif
