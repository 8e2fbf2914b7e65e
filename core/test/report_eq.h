/* Exact equality of two parsed reports, field by field (every view, the
 * warnings and the unknown members): what a parse that met an allocation
 * failure and still succeeded must give. Shared by core/test and fuzz/. */
#ifndef TRPT_REPORT_EQ_H
#define TRPT_REPORT_EQ_H

#include <stdio.h>
#include <string.h>

#include "trpt.h"

static inline int tu_str_eq(trpt_str a, trpt_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline int tu_cstr_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static inline int tu_strs_eq(const trpt_str *a, size_t na, const trpt_str *b, size_t nb)
{
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (!tu_str_eq(a[i], b[i])) return 0;
    return 1;
}

static inline int tu_kvs_eq(const trpt_kv *a, size_t na, const trpt_kv *b, size_t nb)
{
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (!tu_str_eq(a[i].key, b[i].key) || !tu_str_eq(a[i].value, b[i].value)) return 0;
    return 1;
}

static inline int tu_failure_eq(const trpt_failure *a, const trpt_failure *b)
{
    return a->has == b->has && a->result == b->result &&
           a->failed_session_count == b->failed_session_count &&
           tu_str_eq(a->result_type, b->result_type) &&
           tu_str_eq(a->sending_mta_ip, b->sending_mta_ip) &&
           tu_str_eq(a->receiving_mx_hostname, b->receiving_mx_hostname) &&
           tu_str_eq(a->receiving_mx_helo, b->receiving_mx_helo) &&
           tu_str_eq(a->receiving_ip, b->receiving_ip) &&
           tu_str_eq(a->additional_information, b->additional_information) &&
           tu_str_eq(a->failure_reason_code, b->failure_reason_code) &&
           tu_kvs_eq(a->extra, a->nextra, b->extra, b->nextra);
}

static inline int tu_policy_eq(const trpt_policy_result *a, const trpt_policy_result *b)
{
    if (a->has != b->has || a->type != b->type ||
        a->total_successful_session_count != b->total_successful_session_count ||
        a->total_failure_session_count != b->total_failure_session_count ||
        !tu_str_eq(a->policy_type, b->policy_type) ||
        !tu_str_eq(a->policy_domain, b->policy_domain) ||
        !tu_strs_eq(a->policy_string, a->npolicy_string, b->policy_string, b->npolicy_string) ||
        !tu_strs_eq(a->mx_host, a->nmx_host, b->mx_host, b->nmx_host) ||
        !tu_kvs_eq(a->extra, a->nextra, b->extra, b->nextra) || a->nfailures != b->nfailures)
        return 0;
    for (size_t i = 0; i < a->nfailures; i++)
        if (!tu_failure_eq(&a->failures[i], &b->failures[i])) return 0;
    return 1;
}

/* 1 if a and b hold the same report; else 0 and what differs first in why. */
static inline int tu_report_eq(const trpt_report *a, const trpt_report *b, char *why, size_t n)
{
    if (a->has != b->has || a->start_epoch != b->start_epoch || a->end_epoch != b->end_epoch ||
        !tu_str_eq(a->organization_name, b->organization_name) ||
        !tu_str_eq(a->start_datetime, b->start_datetime) ||
        !tu_str_eq(a->end_datetime, b->end_datetime) ||
        !tu_str_eq(a->contact_info, b->contact_info) || !tu_str_eq(a->report_id, b->report_id))
        return snprintf(why, n, "report fields"), 0;
    if (!tu_kvs_eq(a->extra, a->nextra, b->extra, b->nextra))
        return snprintf(why, n, "report extra (%zu vs %zu)", a->nextra, b->nextra), 0;
    if (a->npolicies != b->npolicies)
        return snprintf(why, n, "%zu vs %zu policies", a->npolicies, b->npolicies), 0;
    for (size_t i = 0; i < a->npolicies; i++)
        if (!tu_policy_eq(&a->policies[i], &b->policies[i]))
            return snprintf(why, n, "policies[%zu]", i), 0;
    if (a->nwarnings != b->nwarnings || a->nwarnings_dropped != b->nwarnings_dropped)
        return snprintf(why, n, "%zu+%zu vs %zu+%zu warnings", a->nwarnings,
                        a->nwarnings_dropped, b->nwarnings, b->nwarnings_dropped), 0;
    for (size_t i = 0; i < a->nwarnings; i++) {
        const trpt_warning *x = &a->warnings[i], *y = &b->warnings[i];
        if (!tu_cstr_eq(x->code, y->code) || !tu_cstr_eq(x->path, y->path) ||
            !tu_cstr_eq(x->rfc, y->rfc) || !tu_cstr_eq(x->message, y->message))
            return snprintf(why, n, "warnings[%zu] (%s vs %s)", i, x->code ? x->code : "-",
                            y->code ? y->code : "-"), 0;
    }
    return 1;
}

#endif
