/* RFC 8460 §4.4 policy types and §4.3 result types: names <-> enums. */
#include "internal.h"

static const char *const result_names[] = {
    [TRPT_RESULT_OTHER] = NULL,
    [TRPT_RESULT_STARTTLS_NOT_SUPPORTED] = "starttls-not-supported",
    [TRPT_RESULT_CERTIFICATE_HOST_MISMATCH] = "certificate-host-mismatch",
    [TRPT_RESULT_CERTIFICATE_EXPIRED] = "certificate-expired",
    [TRPT_RESULT_CERTIFICATE_NOT_TRUSTED] = "certificate-not-trusted",
    [TRPT_RESULT_VALIDATION_FAILURE] = "validation-failure",
    [TRPT_RESULT_TLSA_INVALID] = "tlsa-invalid",
    [TRPT_RESULT_DNSSEC_INVALID] = "dnssec-invalid",
    [TRPT_RESULT_DANE_REQUIRED] = "dane-required",
    [TRPT_RESULT_STS_POLICY_FETCH_ERROR] = "sts-policy-fetch-error",
    [TRPT_RESULT_STS_POLICY_INVALID] = "sts-policy-invalid",
    [TRPT_RESULT_STS_WEBPKI_INVALID] = "sts-webpki-invalid",
};

static const char *const policy_names[] = {
    [TRPT_POLICY_OTHER] = NULL,
    [TRPT_POLICY_STS] = "sts",
    [TRPT_POLICY_TLSA] = "tlsa",
    [TRPT_POLICY_NO_POLICY_FOUND] = "no-policy-found",
};

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

const char *trpt_result_type_name(int t)
{
    return (t > 0 && t < COUNT(result_names)) ? result_names[t] : NULL;
}

const char *trpt_policy_type_name(int t)
{
    return (t > 0 && t < COUNT(policy_names)) ? policy_names[t] : NULL;
}

/* Exact, case-sensitive match: the RFC registry names are lowercase and a
 * report that writes "Testing" deserves to be kept verbatim and flagged. */
static int lookup(const char *const *names, int n, const char *s, size_t len)
{
    for (int i = 1; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) return i;
    return 0;
}

int trpt_result_type_from(const char *s, size_t len)
{
    return lookup(result_names, COUNT(result_names), s, len);
}

int trpt_policy_type_from(const char *s, size_t len)
{
    return lookup(policy_names, COUNT(policy_names), s, len);
}
