/* tlsrpt.core: report generation (tlsrpt.builder, tlsrpt.generate).
 * Wrong argument types raise; bad values return nil, message, code. */
#include "binding.h"
#include "report_internal.h" /* trpt__datetime_parse: one RFC 3339 reader for the project */

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TL_BUILDER_MT "tlsrpt.builder"

typedef struct tl_builder {
    trpt_builder *b;
    tl_alloc alloc;
} tl_builder;

static int builder_gc(lua_State *L)
{
    tl_builder *u = luaL_checkudata(L, 1, TL_BUILDER_MT);
    trpt_builder_free(u->b);
    u->b = NULL;
    return 0;
}

/* Pushes a builder userdata; the builder is owned by it (freed by __gc)
 * before anything below can raise. */
static trpt_builder *push_builder(lua_State *L)
{
    tl_builder *u = lua_newuserdata(L, sizeof *u);
    u->b = NULL;
    luaL_setmetatable(L, TL_BUILDER_MT);
    u->alloc.f = lua_getallocf(L, &u->alloc.ud);
    u->b = trpt_builder_new(tl_alloc_bridge, &u->alloc);
    if (!u->b) luaL_error(L, "not enough memory");
    return u->b;
}

static trpt_builder *check_builder(lua_State *L)
{
    tl_builder *u = luaL_checkudata(L, 1, TL_BUILDER_MT);
    if (!u->b) luaL_error(L, "builder already freed");
    return u->b;
}

/* A value error found by the binding itself, reported like the core's. */
static int bad_value(lua_State *L, int code, const char *path, const char *msg)
{
    trpt_error e;
    memset(&e, 0, sizeof e);
    e.code = code;
    e.offset = TRPT_NO_OFFSET;
    snprintf(e.path, sizeof e.path, "%s", path);
    snprintf(e.message, sizeof e.message, "%s", msg);
    return tl_fail(L, &e);
}

/* ------------------------------------------------------- field readers */

/* Pushes t[key] read raw (t an absolute index): C keeps pointers into the
 * strings read, and only the table anchors them; a value made up by an
 * __index metamethod would be collected while still in use. */
static void rawfield(lua_State *L, int t, const char *key)
{
    lua_pushstring(L, key);
    lua_rawget(L, t);
}

/* t[key] as a string slice, {NULL,0} when nil; anything else raises. */
static trpt_str opt_str(lua_State *L, int t, const char *key)
{
    trpt_str s = { NULL, 0 };
    rawfield(L, t, key);
    if (lua_type(L, -1) == LUA_TSTRING) s.ptr = lua_tolstring(L, -1, &s.len);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "field '%s' must be a string, got %s", key, luaL_typename(L, -1));
    lua_pop(L, 1); /* the string stays alive in the table */
    return s;
}

/* The C API takes NUL-terminated strings: an embedded NUL is a bad value. */
static int has_nul(trpt_str s) { return s.ptr && memchr(s.ptr, '\0', s.len) != NULL; }

/* An integral Lua number as int64; 0 if fractional or out of range. */
static int to_int64(lua_State *L, int idx, int64_t *out)
{
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, idx)) {
        *out = (int64_t)lua_tointeger(L, idx);
        return 1;
    }
#endif
    lua_Number n = lua_tonumber(L, idx);
    if (!(n == floor(n)) || n < -9.2e18 || n > 9.2e18) return 0;
    *out = (int64_t)n;
    return 1;
}

/* t[key] as a count: absent -> dflt; non-number raises; fractional -> 0 with
 * *ok = 0. The core range-checks (negative, over 2^53-1). */
static int64_t opt_count(lua_State *L, int t, const char *key, int64_t dflt, int *ok)
{
    int64_t v = dflt;
    *ok = 1;
    rawfield(L, t, key);
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "field '%s' must be a number, got %s", key, luaL_typename(L, -1));
        *ok = to_int64(L, -1, &v);
    }
    lua_pop(L, 1);
    return v;
}

/* A time: epoch seconds (number) or an RFC 3339 string with a zone. */
static int read_time(lua_State *L, int idx, int64_t *out)
{
    if (lua_type(L, idx) == LUA_TNUMBER) return to_int64(L, idx, out);
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        int k = trpt__datetime_parse(s, n, out); /* a space for "T" is fine: we write T */
        return k >= 0 && !(k & TRPT_DT_NO_ZONE);
    }
    return luaL_error(L, "a time must be epoch seconds or an RFC 3339 string, got %s",
                      luaL_typename(L, idx));
}

/* t[key] via read_time: 1 ok, 0 bad value, -1 absent. */
static int opt_time(lua_State *L, int t, const char *key, int64_t *out)
{
    rawfield(L, t, key);
    int r = lua_isnil(L, -1) ? -1 : read_time(L, -1, out);
    lua_pop(L, 1);
    return r;
}

/* Array of strings at t[key] (nil: empty) copied as slices into arena
 * memory of ctx; elements must be strings (else raises). */
static trpt_str *opt_strs(lua_State *L, trpt_ctx *ctx, int t, const char *key, size_t *n)
{
    *n = 0;
    rawfield(L, t, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "field '%s' must be an array of strings, got %s", key, luaL_typename(L, -1));
    size_t len = lua_rawlen(L, -1);
    trpt_str *a = NULL;
    if (len) {
        if (len > SIZE_MAX / sizeof *a) luaL_error(L, "not enough memory");
        a = trpt_ctx_alloc(ctx, len * sizeof *a);
        if (!a) luaL_error(L, "not enough memory");
    }
    for (size_t i = 0; i < len; i++) {
        lua_rawgeti(L, -1, (int)(i + 1));
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "field '%s[%d]' must be a string, got %s", key, (int)(i + 1),
                       luaL_typename(L, -1));
        a[i].ptr = lua_tolstring(L, -1, &a[i].len);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    *n = len;
    return a;
}

/* ------------------------------------------------------- constructor */

static const struct { const char *key; unsigned bit; size_t off; } failure_fields[] = {
    { "sending_mta_ip", TRPT_HAS_SENDING_MTA_IP, offsetof(trpt_failure, sending_mta_ip) },
    { "receiving_mx_hostname", TRPT_HAS_RECEIVING_MX_HOSTNAME, offsetof(trpt_failure, receiving_mx_hostname) },
    { "receiving_mx_helo", TRPT_HAS_RECEIVING_MX_HELO, offsetof(trpt_failure, receiving_mx_helo) },
    { "receiving_ip", TRPT_HAS_RECEIVING_IP, offsetof(trpt_failure, receiving_ip) },
    { "additional_information", TRPT_HAS_ADDITIONAL_INFORMATION, offsetof(trpt_failure, additional_information) },
    { "failure_reason_code", TRPT_HAS_FAILURE_REASON_CODE, offsetof(trpt_failure, failure_reason_code) },
};

/* Reads a failure-details table at t into f (strings stay in the table). */
static void read_failure(lua_State *L, int t, trpt_failure *f)
{
    memset(f, 0, sizeof *f);
    f->result_type = opt_str(L, t, "result_type");
    for (size_t i = 0; i < sizeof failure_fields / sizeof failure_fields[0]; i++) {
        trpt_str s = opt_str(L, t, failure_fields[i].key);
        if (!s.ptr) continue;
        *(trpt_str *)((char *)f + failure_fields[i].off) = s;
        f->has |= failure_fields[i].bit;
    }
}

/* tlsrpt.builder([meta[, limits]]) */
static int l_builder(lua_State *L)
{
    int has_meta = !lua_isnoneornil(L, 1);
    if (has_meta) luaL_checktype(L, 1, LUA_TTABLE);
    trpt_limits lim;
    tl_limits_opt(L, 2, &lim);
    trpt_builder *b = push_builder(L);
    trpt_builder_set_limits(b, &lim);
    if (!has_meta) return 1;
    trpt_str org = opt_str(L, 1, "organization_name");
    trpt_str contact = opt_str(L, 1, "contact_info");
    trpt_str rid = opt_str(L, 1, "report_id");
    if (has_nul(org) || has_nul(contact) || has_nul(rid))
        return bad_value(L, TRPT_E_UTF8, "", "metadata string contains a NUL byte");
    int64_t start = 0, end = 0;
    int rs = opt_time(L, 1, "start_datetime", &start), re = opt_time(L, 1, "end_datetime", &end);
    if (rs <= 0)
        return bad_value(L, TRPT_E_FIELD, "date-range.start-datetime",
                         rs < 0 ? "start_datetime is required"
                                : "start_datetime must be whole epoch seconds or RFC 3339 with a zone");
    if (re <= 0)
        return bad_value(L, TRPT_E_FIELD, "date-range.end-datetime",
                         re < 0 ? "end_datetime is required"
                                : "end_datetime must be whole epoch seconds or RFC 3339 with a zone");
    trpt_error err;
    if (trpt_builder_set_meta(b, org.ptr, contact.ptr, rid.ptr, start, end, &err)) return tl_fail(L, &err);
    return 1;
}

/* ----------------------------------------------------------- methods */

/* The policy handle at idx (1-based) as a 0-based index; raises if bad. */
static size_t check_handle(lua_State *L, int idx)
{
    luaL_checktype(L, idx, LUA_TNUMBER);
    int64_t h = 0;
    if (!to_int64(L, idx, &h) || h < 1) luaL_argerror(L, idx, "policy handle expected");
    return (size_t)(h - 1);
}

/* Raises for an unknown handle (misuse), else returns true or nil, msg, code. */
static int result(lua_State *L, int rc, const trpt_error *err, int handle_arg)
{
    if (rc == TRPT_E_ARG && handle_arg) return luaL_argerror(L, handle_arg, err->message);
    if (rc) return tl_fail(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

/* b:policy{policy_type=, policy_domain=, policy_string={}, mx_host={}} -> handle */
static int m_policy(lua_State *L)
{
    check_builder(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    trpt_ctx *tmp = tl_newctx(L, NULL); /* index 3: scratch arrays, freed on return */
    trpt_str type = opt_str(L, 2, "policy_type"), dom = opt_str(L, 2, "policy_domain");
    size_t ns, nm;
    trpt_str *ps = opt_strs(L, tmp, 2, "policy_string", &ns);
    trpt_str *mx = opt_strs(L, tmp, 2, "mx_host", &nm);
    int nul = has_nul(type) || has_nul(dom);
    const char **cps = ns ? trpt_ctx_alloc(tmp, ns * sizeof *cps) : NULL;
    const char **cmx = nm ? trpt_ctx_alloc(tmp, nm * sizeof *cmx) : NULL;
    if ((ns && !cps) || (nm && !cmx)) return luaL_error(L, "not enough memory");
    for (size_t i = 0; i < ns; i++) {
        cps[i] = ps[i].ptr;
        nul |= has_nul(ps[i]);
    }
    for (size_t i = 0; i < nm; i++) {
        cmx[i] = mx[i].ptr;
        nul |= has_nul(mx[i]);
    }
    if (nul)
        return tl_ctx_done(L, 3, bad_value(L, TRPT_E_UTF8, "policy", "policy string contains a NUL byte"));
    size_t index;
    trpt_error err;
    trpt_builder *b = check_builder(L);
    int rc = trpt_builder_add_policy(b, type.ptr, dom.ptr, cps, ns, cmx, nm, &index, &err);
    if (rc) return tl_ctx_done(L, 3, tl_fail(L, &err));
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(L, (lua_Integer)index + 1);
#else
    lua_pushnumber(L, (lua_Number)index + 1);
#endif
    return tl_ctx_done(L, 3, 1);
}

/* Count argument at idx (absent: dflt); 0 and a pushed error when fractional. */
static int count_arg(lua_State *L, int idx, int64_t dflt, int64_t *out)
{
    if (lua_isnoneornil(L, idx)) {
        *out = dflt;
        return 1;
    }
    luaL_checktype(L, idx, LUA_TNUMBER);
    return to_int64(L, idx, out);
}

/* b:success(policy[, n]) */
static int m_success(lua_State *L)
{
    trpt_builder *b = check_builder(L);
    size_t p = check_handle(L, 2);
    int64_t n;
    if (!count_arg(L, 3, 1, &n))
        return bad_value(L, TRPT_E_FIELD, "summary.total-successful-session-count",
                         "session count must be a whole number");
    trpt_error err;
    return result(L, trpt_builder_add_success(b, p, n, &err), &err, 2);
}

/* b:failure(policy, {result_type=, ...}[, n]); n defaults to the table's
 * failed_session_count, else 1. */
static int m_failure(lua_State *L)
{
    check_builder(L);
    size_t p = check_handle(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    trpt_failure f;
    read_failure(L, 3, &f);
    int ok;
    int64_t dflt = opt_count(L, 3, "failed_session_count", 1, &ok);
    if (ok) ok = count_arg(L, 4, dflt, &f.failed_session_count);
    if (!ok)
        return bad_value(L, TRPT_E_FIELD, "failure-details.failed-session-count",
                         "session count must be a whole number");
    trpt_error err;
    trpt_builder *b = check_builder(L);
    return result(L, trpt_builder_add_failure(b, p, &f, &err), &err, 2);
}

/* Converts a parse_report-shaped table at t into r (arena: ctx). Returns 0,
 * or pushes nil, msg, code and returns its count. */
static int read_report(lua_State *L, int t, trpt_ctx *ctx, trpt_report *r)
{
    memset(r, 0, sizeof *r);
    r->organization_name = opt_str(L, t, "organization_name");
    r->contact_info = opt_str(L, t, "contact_info");
    r->report_id = opt_str(L, t, "report_id");
    rawfield(L, t, "date_range");
    int dr = lua_gettop(L);
    if (!lua_istable(L, dr)) {
        if (!lua_isnil(L, dr)) luaL_error(L, "field 'date_range' must be a table");
        return bad_value(L, TRPT_E_FIELD, "date-range", "date_range is required");
    }
    int rs = opt_time(L, dr, "start_epoch", &r->start_epoch);
    if (rs < 0) rs = opt_time(L, dr, "start_datetime", &r->start_epoch);
    int re = opt_time(L, dr, "end_epoch", &r->end_epoch);
    if (re < 0) re = opt_time(L, dr, "end_datetime", &r->end_epoch);
    if (rs <= 0 || re <= 0)
        return bad_value(L, TRPT_E_FIELD, rs <= 0 ? "date-range.start-datetime" : "date-range.end-datetime",
                         "date_range needs start/end as epoch seconds or RFC 3339 with a zone");
    lua_pop(L, 1);

    rawfield(L, t, "policies");
    int pt = lua_gettop(L);
    if (!lua_istable(L, pt)) {
        if (!lua_isnil(L, pt)) luaL_error(L, "field 'policies' must be a table");
        lua_pop(L, 1);
        return 0;
    }
    size_t np = lua_rawlen(L, pt);
    trpt_policy_result *pols = np ? trpt_ctx_alloc(ctx, np * sizeof *pols) : NULL;
    if (np && (np > SIZE_MAX / sizeof *pols || !pols)) luaL_error(L, "not enough memory");
    for (size_t i = 0; i < np; i++) {
        trpt_policy_result *p = &pols[i];
        memset(p, 0, sizeof *p);
        lua_rawgeti(L, pt, (int)(i + 1));
        int pi = lua_gettop(L);
        if (!lua_istable(L, pi)) luaL_error(L, "policies[%d] must be a table", (int)(i + 1));
        rawfield(L, pi, "policy");
        int po = lua_gettop(L);
        if (lua_istable(L, po)) {
            p->policy_type = opt_str(L, po, "policy_type");
            p->policy_domain = opt_str(L, po, "policy_domain");
            p->policy_string = opt_strs(L, ctx, po, "policy_string", &p->npolicy_string);
            p->mx_host = opt_strs(L, ctx, po, "mx_host", &p->nmx_host);
        } else if (!lua_isnil(L, po)) {
            luaL_error(L, "policies[%d].policy must be a table", (int)(i + 1));
        }
        lua_pop(L, 1);
        int ok1 = 1, ok2 = 1;
        rawfield(L, pi, "summary");
        if (lua_istable(L, -1)) {
            int su = lua_gettop(L);
            p->total_successful_session_count = opt_count(L, su, "total_successful_session_count", 0, &ok1);
            p->total_failure_session_count = opt_count(L, su, "total_failure_session_count", 0, &ok2);
        } else if (!lua_isnil(L, -1)) {
            luaL_error(L, "policies[%d].summary must be a table", (int)(i + 1));
        }
        lua_pop(L, 1);
        if (!ok1 || !ok2)
            return bad_value(L, TRPT_E_FIELD, "summary", "session counts must be whole numbers");
        rawfield(L, pi, "failure_details");
        int fd = lua_gettop(L);
        if (lua_istable(L, fd)) {
            size_t nf = lua_rawlen(L, fd);
            trpt_failure *fs = nf ? trpt_ctx_alloc(ctx, nf * sizeof *fs) : NULL;
            if (nf && (nf > SIZE_MAX / sizeof *fs || !fs)) luaL_error(L, "not enough memory");
            for (size_t k = 0; k < nf; k++) {
                lua_rawgeti(L, fd, (int)(k + 1));
                if (!lua_istable(L, -1))
                    luaL_error(L, "policies[%d].failure_details[%d] must be a table", (int)(i + 1), (int)(k + 1));
                int fi = lua_gettop(L);
                read_failure(L, fi, &fs[k]);
                int ok;
                fs[k].failed_session_count = opt_count(L, fi, "failed_session_count", 0, &ok);
                if (!ok)
                    return bad_value(L, TRPT_E_FIELD, "failure-details.failed-session-count",
                                     "session count must be a whole number");
                lua_pop(L, 1);
            }
            p->failures = fs;
            p->nfailures = nf;
        } else if (!lua_isnil(L, fd)) {
            luaL_error(L, "policies[%d].failure_details must be a table", (int)(i + 1));
        }
        lua_pop(L, 2); /* failure_details, policies[i] */
    }
    lua_pop(L, 1);
    r->policies = pols;
    r->npolicies = np;
    return 0;
}

/* b:add_report(report_table) */
static int m_add_report(lua_State *L)
{
    check_builder(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    trpt_ctx *tmp = tl_newctx(L, NULL); /* index 3 */
    trpt_report r;
    int n = read_report(L, 2, tmp, &r);
    if (n) return tl_ctx_done(L, 3, n);
    trpt_error err;
    trpt_builder *b = check_builder(L);
    return tl_ctx_done(L, 3, result(L, trpt_builder_add_report(b, &r, &err), &err, 0));
}

static int m_json(lua_State *L)
{
    trpt_builder *b = check_builder(L);
    trpt_str out;
    trpt_error err;
    if (trpt_builder_json(b, &out, &err)) return tl_fail(L, &err);
    tl_pushstr(L, out);
    return 1;
}

static int m_gzip(lua_State *L)
{
    trpt_builder *b = check_builder(L);
    trpt_str out;
    trpt_error err;
    if (trpt_builder_gzip(b, &out, &err)) return tl_fail(L, &err);
    tl_pushstr(L, out);
    return 1;
}

/* opts[key] as a C string (NULL when absent); raises on a non-string. The
 * value stays on the stack until the method returns: a later read may
 * allocate (a key string), run a GC step and a finalizer that drops the
 * field from the table, and the next step would free the string. */
static const char *opt_cstr(lua_State *L, int t, const char *key, int *nul)
{
    if (lua_isnoneornil(L, t)) return NULL;
    luaL_checkstack(L, 2, "options");
    rawfield(L, t, key);
    trpt_str s = { NULL, 0 };
    if (lua_type(L, -1) == LUA_TSTRING) s.ptr = lua_tolstring(L, -1, &s.len);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "field '%s' must be a string, got %s", key, luaL_typename(L, -1));
    if (has_nul(s)) *nul = 1;
    return s.ptr;
}

/* Option reads can run Lua code: tl_optbool's __index, and any allocation
 * a finalizer. So methods read the options that way first, the raw string
 * fields next, and take the builder pointer (check_builder again) last,
 * right before the core call: code that frees the builder or drops an
 * option string then runs before C holds either. */

/* b:filename{submitter=, policy_domain=, unique_id=, gzip=true} */
static int m_filename(lua_State *L)
{
    check_builder(L);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    int gz = tl_optbool(L, 2, "gzip", 1);
    int nul = 0;
    const char *sub = opt_cstr(L, 2, "submitter", &nul);
    const char *dom = opt_cstr(L, 2, "policy_domain", &nul);
    const char *uid = opt_cstr(L, 2, "unique_id", &nul);
    if (nul) return bad_value(L, TRPT_E_FIELD, "filename", "option contains a NUL byte");
    trpt_builder *b = check_builder(L);
    trpt_str out;
    trpt_error err;
    if (trpt_builder_filename(b, sub, dom, uid, gz, &out, &err)) return tl_fail(L, &err);
    tl_pushstr(L, out);
    return 1;
}

/* b:email{from=, to=, submitter=, policy_domain=, message_id=, date=, boundary=} */
static int m_email(lua_State *L)
{
    check_builder(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    int nul = 0;
    trpt_email_opts o;
    memset(&o, 0, sizeof o);
    o.from = opt_cstr(L, 2, "from", &nul);
    o.to = opt_cstr(L, 2, "to", &nul);
    o.submitter = opt_cstr(L, 2, "submitter", &nul);
    o.policy_domain = opt_cstr(L, 2, "policy_domain", &nul);
    o.message_id = opt_cstr(L, 2, "message_id", &nul);
    o.boundary = opt_cstr(L, 2, "boundary", &nul);
    if (nul) return bad_value(L, TRPT_E_FIELD, "email", "option contains a NUL byte");
    int rd = opt_time(L, 2, "date", &o.date);
    if (rd < 0) o.date = (int64_t)time(NULL);
    if (rd == 0)
        return bad_value(L, TRPT_E_FIELD, "date", "date must be whole epoch seconds or RFC 3339 with a zone");
    trpt_builder *b = check_builder(L);
    trpt_str out;
    trpt_error err;
    if (trpt_builder_email(b, &o, &out, &err)) return tl_fail(L, &err);
    tl_pushstr(L, out);
    return 1;
}

/* b:post{gzip=true} -> body, content_type */
static int m_post(lua_State *L)
{
    check_builder(L);
    int gz = tl_optbool(L, 2, "gzip", 1);
    trpt_builder *b = check_builder(L);
    trpt_str out;
    const char *ct;
    trpt_error err;
    if (trpt_builder_post(b, gz, &out, &ct, &err)) return tl_fail(L, &err);
    tl_pushstr(L, out);
    lua_pushstring(L, ct);
    return 2;
}

/* tlsrpt.generate(report_table[, limits]) -> JSON */
static int l_generate(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    trpt_limits lim;
    tl_limits_opt(L, 2, &lim);
    lua_settop(L, 1);
    trpt_builder *b = push_builder(L); /* index 2 */
    trpt_builder_set_limits(b, &lim);
    trpt_ctx *tmp = tl_newctx(L, NULL); /* index 3 */
    trpt_report r;
    int n = read_report(L, 1, tmp, &r);
    if (n) return tl_ctx_done(L, 3, n);
    trpt_error err;
    trpt_str out;
    if (trpt_builder_add_report(b, &r, &err) || trpt_builder_json(b, &out, &err))
        return tl_ctx_done(L, 3, tl_fail(L, &err));
    tl_pushstr(L, out);
    return tl_ctx_done(L, 3, 1);
}

void tl_open_build(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "policy", m_policy },       { "success", m_success }, { "failure", m_failure },
        { "add_report", m_add_report }, { "json", m_json },     { "gzip", m_gzip },
        { "filename", m_filename },   { "email", m_email },     { "post", m_post },
        { NULL, NULL },
    };
    if (luaL_newmetatable(L, TL_BUILDER_MT)) {
        lua_pushcfunction(L, builder_gc);
        lua_setfield(L, -2, "__gc");
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, TL_BUILDER_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, l_builder);
    lua_setfield(L, -2, "builder");
    lua_pushcfunction(L, l_generate);
    lua_setfield(L, -2, "generate");
}
