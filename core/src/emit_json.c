/* Canonical report JSON (RFC 8460 §4.4): keys in the order of the RFC's
 * schema and example (Appendix B), compact, exact integers, no nulls, absent optional fields and
 * empty arrays left out. jansson encodes every value; the skeleton around
 * them is written here so memory stays proportional to one failure row,
 * not to the whole report (a jansson tree of 1M rows would be ~GBs). */
#include "builder.h"

#include <jansson.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)

typedef struct sink {
    trpt_ctx *ctx;
    bld_buf *buf;
    int failed; /* sticky: jansson ignores a failed write of an object key */
} sink;

static int sink_cb(const char *d, size_t n, void *ud)
{
    sink *s = ud;
    if (s->failed || trpt__buf_add(s->ctx, s->buf, d, n)) {
        s->failed = 1;
        return -1;
    }
    return 0;
}

static int lit(sink *s, const char *text) { return sink_cb(text, strlen(text), s); }

/* Dumps v (consumed) into the sink; NULL v means jansson ran out of memory. */
static int dump(sink *s, json_t *v)
{
    if (!v) return -1;
    int rc = json_dump_callback(v, sink_cb, s, DUMP_FLAGS);
    json_decref(v);
    return rc || s->failed ? -1 : 0;
}

static json_t *jstr(trpt_str v) { return json_stringn(v.ptr, v.len); }

/* o[key] = v, v consumed; -1 when either allocation failed. */
static int set(json_t *o, const char *key, json_t *v)
{
    return (o && v) ? json_object_set_new(o, key, v) : (json_decref(v), -1);
}

static json_t *str_array(const trpt_str *a, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, jstr(a[i]))) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

static json_t *policy_obj(const bld_policy *p)
{
    json_t *o = json_object();
    int bad = set(o, "policy-type", json_string(p->type));
    if (p->nstrings) bad |= set(o, "policy-string", str_array(p->strings, p->nstrings));
    bad |= set(o, "policy-domain", jstr(p->domain));
    if (p->nmx) bad |= set(o, "mx-host", str_array(p->mx, p->nmx));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *summary_obj(const bld_policy *p)
{
    json_t *o = json_object();
    int bad = set(o, "total-successful-session-count", json_integer(p->success));
    bad |= set(o, "total-failure-session-count", json_integer(p->failure));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* RFC 8460 §4.4 schema order: result-type, sending-mta-ip,
 * receiving-mx-hostname, (receiving-mx-helo), receiving-ip,
 * failed-session-count, additional-information, failure-reason-code. */
static json_t *row_obj(const bld_row *r)
{
    static const struct { int opt; const char *key; } before[] = {
        { BLD_SENDING_MTA_IP, "sending-mta-ip" },
        { BLD_RECEIVING_MX_HOSTNAME, "receiving-mx-hostname" },
        { BLD_RECEIVING_MX_HELO, "receiving-mx-helo" },
        { BLD_RECEIVING_IP, "receiving-ip" },
    }, after[] = {
        { BLD_ADDITIONAL_INFORMATION, "additional-information" },
        { BLD_FAILURE_REASON_CODE, "failure-reason-code" },
    };
    json_t *o = json_object();
    int bad = set(o, "result-type", json_string(r->result_type));
    for (size_t i = 0; i < sizeof before / sizeof before[0]; i++)
        if (r->has & (1u << before[i].opt)) bad |= set(o, before[i].key, jstr(r->opt[before[i].opt]));
    bad |= set(o, "failed-session-count", json_integer(r->count));
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++)
        if (r->has & (1u << after[i].opt)) bad |= set(o, after[i].key, jstr(r->opt[after[i].opt]));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int trpt__bld_render_json(trpt_builder *b, bld_buf *buf, trpt_error *err)
{
    int rc = trpt__bld_check_ready(b, err);
    if (rc) return rc;
    sink s = { b->arena, buf, 0 };
    char start[21], end[21];
    trpt__bld_rfc3339(b->start, start);
    trpt__bld_rfc3339(b->end, end);
    int bad = lit(&s, "{\"organization-name\":") || dump(&s, jstr(b->org)) ||
              lit(&s, ",\"date-range\":{\"start-datetime\":\"") || lit(&s, start) ||
              lit(&s, "\",\"end-datetime\":\"") || lit(&s, end) ||
              lit(&s, "\"},\"contact-info\":") || dump(&s, jstr(b->contact)) ||
              lit(&s, ",\"report-id\":") || dump(&s, jstr(b->report_id)) ||
              lit(&s, ",\"policies\":[");
    const bld_policy *p = (const bld_policy *)b->policies.data;
    for (size_t i = 0; !bad && i < b->policies.len; i++) {
        bad = lit(&s, i ? ",{\"policy\":" : "{\"policy\":") || dump(&s, policy_obj(&p[i])) ||
              lit(&s, ",\"summary\":") || dump(&s, summary_obj(&p[i]));
        const bld_row *r = (const bld_row *)p[i].rows.data;
        if (!bad && p[i].rows.len) bad = lit(&s, ",\"failure-details\":[");
        for (size_t k = 0; !bad && k < p[i].rows.len; k++)
            bad = (k && lit(&s, ",")) || dump(&s, row_obj(&r[k]));
        if (!bad && p[i].rows.len) bad = lit(&s, "]");
        if (!bad) bad = lit(&s, "}");
    }
    if (!bad) bad = lit(&s, "]}");
    if (bad) return trpt__nomem(err);
    return TRPT_OK;
}

int trpt_builder_json(trpt_builder *b, trpt_str *out, trpt_error *err)
{
    if (!b || !out) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL argument");
    bld_buf buf = { 0 };
    int rc = trpt__bld_render_json(b, &buf, err);
    if (rc) {
        trpt__buf_free(b->arena, &buf);
        return rc;
    }
    trpt__bld_set_out(b, &buf, out);
    return TRPT_OK;
}

int trpt_builder_post(trpt_builder *b, int gzip, trpt_str *body, const char **content_type,
                      trpt_error *err)
{
    if (!content_type)
        return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL content_type");
    int rc = gzip ? trpt_builder_gzip(b, body, err) : trpt_builder_json(b, body, err);
    /* RFC 8460 §5.4 / §6.4-6.5 media types */
    *content_type = rc ? NULL : gzip ? "application/tlsrpt+gzip" : "application/tlsrpt+json";
    return rc;
}
