/* tlsrpt.core: parse_report, gunzip and the report -> Lua table conversion
 * (tl_push_report, shared with the e-mail binding).
 *
 * Speed: one ctx per closure (an upvalue), reset after each call so its
 * arena block is reused; result tables are presized; field names are
 * interned once in a registry table and pushed with lua_rawgeti, so the hot
 * loops never hash a C string (lua_setfield would). */
#include "binding.h"
#include "json.h"

#include <stddef.h>
#include <string.h>

/* Registry anchors (their addresses are the keys; never written). */
static const char keys_anchor = 0;

enum {
    K_ORGANIZATION_NAME = 1, K_DATE_RANGE, K_START_DATETIME, K_END_DATETIME, K_START_EPOCH,
    K_END_EPOCH, K_CONTACT_INFO, K_REPORT_ID, K_POLICIES, K_POLICY, K_POLICY_TYPE,
    K_POLICY_STRING, K_POLICY_DOMAIN, K_MX_HOST, K_SUMMARY, K_TOTAL_SUCCESSFUL,
    K_TOTAL_FAILURE, K_FAILURE_DETAILS, K_RESULT_TYPE, K_SENDING_MTA_IP,
    K_RECEIVING_MX_HOSTNAME, K_RECEIVING_MX_HELO, K_RECEIVING_IP, K_FAILED_SESSION_COUNT,
    K_ADDITIONAL_INFORMATION, K_FAILURE_REASON_CODE, K_WARNINGS, K_CODE, K_PATH, K_MESSAGE,
    K_RFC, K_EXTRA, K_WARNINGS_DROPPED, K__COUNT
};

static const char *const key_names[K__COUNT] = {
    NULL, "organization_name", "date_range", "start_datetime", "end_datetime", "start_epoch",
    "end_epoch", "contact_info", "report_id", "policies", "policy", "policy_type",
    "policy_string", "policy_domain", "mx_host", "summary", "total_successful_session_count",
    "total_failure_session_count", "failure_details", "result_type", "sending_mta_ip",
    "receiving_mx_hostname", "receiving_mx_helo", "receiving_ip", "failed_session_count",
    "additional_information", "failure_reason_code", "warnings", "code", "path", "message",
    "rfc", "extra", "warnings_dropped",
};

/* Pushes the interned key table (built on first use). */
static void push_keys(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&keys_anchor);
    lua_rawget(L, LUA_REGISTRYINDEX);
    if (lua_istable(L, -1)) return;
    lua_pop(L, 1);
    lua_createtable(L, K__COUNT, 0);
    for (int i = 1; i < K__COUNT; i++) {
        lua_pushstring(L, key_names[i]);
        lua_rawseti(L, -2, i);
    }
    lua_pushlightuserdata(L, (void *)&keys_anchor);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

static inline void push_int(lua_State *L, int64_t v)
{
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(L, (lua_Integer)v);
#else
    lua_pushnumber(L, (lua_Number)v); /* exact: counts are capped at 2^53-1 */
#endif
}

/* t[key] = value-on-top, t at index t (absolute), keys table at kt. */
#define SETK(kt, t, k)                                                                  \
    do {                                                                                \
        lua_rawgeti(L, (kt), (k));                                                      \
        lua_insert(L, -2);                                                              \
        lua_rawset(L, (t));                                                             \
    } while (0)

static inline void set_str(lua_State *L, int kt, int t, int k, trpt_str s)
{
    lua_rawgeti(L, kt, k);
    lua_pushlstring(L, s.ptr ? s.ptr : "", s.len);
    lua_rawset(L, t);
}

static inline void set_int(lua_State *L, int kt, int t, int k, int64_t v)
{
    lua_rawgeti(L, kt, k);
    push_int(L, v);
    lua_rawset(L, t);
}

static void push_str_list(lua_State *L, const trpt_str *s, size_t n)
{
    lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushlstring(L, s[i].ptr ? s[i].ptr : "", s[i].len);
        lua_rawseti(L, -2, (int)(i + 1));
    }
}

/* ------------------------------------------------ raw JSON -> Lua values */

/* The sentinel for JSON null inside extra tables (tlsrpt.null). */
#define TL_NULL_UD ((void *)0)

/* Decodes one validated JSON value at *pp (see trpt__json_validate) and
 * pushes it. The text was checked by the core's skipper (syntax, UTF-8,
 * depth, duplicates), so this walk only converts. */
static void push_json(lua_State *L, const char **pp, const char *e)
{
    const char *p = *pp;
    luaL_checkstack(L, 3, "JSON value too deeply nested");
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    if (p >= e) {
        lua_pushnil(L);
        *pp = p;
        return;
    }
    switch (*p) {
    case '{': {
        lua_newtable(L);
        p++;
        for (;;) {
            while (p < e && *p != '"' && *p != '}') p++;
            if (p >= e || *p == '}') break;
            push_json(L, &p, e); /* key */
            while (p < e && *p != ':') p++;
            p++;
            push_json(L, &p, e);
            lua_rawset(L, -3);
            while (p < e && *p != ',' && *p != '}') p++;
            if (p < e && *p == ',') p++;
        }
        *pp = p < e ? p + 1 : p;
        return;
    }
    case '[': {
        lua_newtable(L);
        int i = 0;
        p++;
        for (;;) {
            while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
            if (p >= e || *p == ']') break;
            push_json(L, &p, e);
            lua_rawseti(L, -2, ++i);
            while (p < e && *p != ',' && *p != ']') p++;
            if (p < e && *p == ',') p++;
        }
        *pp = p < e ? p + 1 : p;
        return;
    }
    case '"': {
        const char *s = ++p;
        int esc = 0;
        while (p < e && *p != '"') {
            if (*p == '\\') {
                esc = 1;
                p++;
            }
            p++;
        }
        size_t n = (size_t)((p < e ? p : e) - s);
        if (!esc) {
            lua_pushlstring(L, s, n);
        } else {
            char *tmp = lua_newuserdata(L, n ? n : 1);
            size_t m = trpt__json_unescape(s, n, tmp);
            lua_pushlstring(L, tmp, m);
            lua_remove(L, -2);
        }
        *pp = p < e ? p + 1 : p;
        return;
    }
    case 't': lua_pushboolean(L, 1); *pp = p + 4; return;
    case 'f': lua_pushboolean(L, 0); *pp = p + 5; return;
    case 'n': lua_pushlightuserdata(L, TL_NULL_UD); *pp = p + 4; return;
    default: {
        const char *s = p;
        int frac = 0;
        while (p < e && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' ||
                         *p == 'e' || *p == 'E')) {
            if (*p == '.' || *p == 'e' || *p == 'E') frac = 1;
            p++;
        }
        size_t n = (size_t)(p - s);
        if (!frac && n - (*s == '-') < 17) { /* validated: within ±(2^53-1) */
            int64_t v = 0;
            int neg = *s == '-';
            for (const char *q = s + neg; q < p; q++) v = v * 10 + (*q - '0');
            push_int(L, neg ? -v : v);
        } else {
            /* Lua's own conversion: locale-independent, any length. */
            lua_pushlstring(L, s, n);
            lua_Number d = lua_tonumber(L, -1);
            lua_pop(L, 1);
            lua_pushnumber(L, d);
        }
        *pp = p;
        return;
    }
    }
}

static void set_extra(lua_State *L, int kt, int t, const trpt_kv *kv, size_t n)
{
    if (!n) return;
    lua_rawgeti(L, kt, K_EXTRA);
    lua_createtable(L, 0, n > INT32_MAX ? 0 : (int)n);
    for (size_t i = 0; i < n; i++) {
        lua_pushlstring(L, kv[i].key.ptr, kv[i].key.len);
        const char *p = kv[i].value.ptr;
        push_json(L, &p, kv[i].value.ptr + kv[i].value.len);
        lua_rawset(L, -3);
    }
    lua_rawset(L, t);
}

/* ------------------------------------------------------ report -> table */

/* Values that repeat across failure details (result-type, MX host names,
 * reason codes) are pushed from a small direct-mapped cache of Lua strings
 * kept in stack slots: a hit costs a hash and a memcmp instead of Lua's
 * string interning, whose table walk misses the CPU cache on big reports. */
#define VC_SLOTS 256 /* 64 slots missed 18% on the bench's large report, 256 3% */
_Static_assert(VC_SLOTS <= 256 && (VC_SLOTS & (VC_SLOTS - 1)) == 0, "slot = top 8 hash bits");

/* The failure-detail member names, K_RESULT_TYPE .. K_FAILURE_REASON_CODE,
 * are also copied to stack slots: lua_pushvalue is cheaper than a
 * lua_rawgeti on the key table, on the loop that runs per detail. */
#define FK_FIRST K_RESULT_TYPE
#define FK_COUNT (K_FAILURE_REASON_CODE - K_RESULT_TYPE + 1)

typedef struct vcache {
    int base;                      /* stack index of slot 0 */
    int kbase;                     /* stack index of key FK_FIRST */
    const char *ptr[VC_SLOTS];     /* bytes of the cached string (arena) */
    size_t len[VC_SLOTS];
} vcache;

static void vc_init(lua_State *L, vcache *c, int kt)
{
    luaL_checkstack(L, VC_SLOTS + FK_COUNT + 8, "report");
    c->kbase = lua_gettop(L) + 1;
    for (int k = 0; k < FK_COUNT; k++) lua_rawgeti(L, kt, FK_FIRST + k);
    c->base = lua_gettop(L) + 1;
    for (int i = 0; i < VC_SLOTS; i++) lua_pushnil(L);
    memset(c->ptr, 0, sizeof c->ptr);
}

static inline void vc_push(lua_State *L, vcache *c, trpt_str s)
{
    if (s.len == 0) { /* also keeps a NULL ptr away from memcmp */
        lua_pushliteral(L, "");
        return;
    }
    /* Hash of the first and last 8 bytes and the length (the values here
     * differ at one end or the other: "mx3.d0...", "...-expired"); a
     * collision only costs a miss. */
    uint64_t a = 0, b = 0;
    if (s.len >= 8) {
        memcpy(&a, s.ptr, 8);
        memcpy(&b, s.ptr + s.len - 8, 8);
    } else {
        for (size_t i = 0; i < s.len; i++) a = a << 8 | (unsigned char)s.ptr[i];
    }
    uint64_t h = (a ^ (b << 29 | b >> 35) ^ s.len) * UINT64_C(0x9E3779B97F4A7C15);
    unsigned slot = (unsigned)(h >> 56) & (VC_SLOTS - 1);
    if (c->ptr[slot] && c->len[slot] == s.len && trpt__eq(c->ptr[slot], s.ptr, s.len)) {
        lua_pushvalue(L, c->base + (int)slot);
        return;
    }
    lua_pushlstring(L, s.ptr ? s.ptr : "", s.len);
    lua_pushvalue(L, -1);
    lua_replace(L, c->base + (int)slot);
    c->ptr[slot] = s.ptr;
    c->len[slot] = s.len;
}

/* Pushes failure-detail key k from its stack slot. */
#define FKEY(c, k) lua_pushvalue(L, (c)->kbase + ((k) - FK_FIRST))

static inline void fset_cached(lua_State *L, vcache *c, int t, int k, trpt_str s)
{
    FKEY(c, k);
    vc_push(L, c, s);
    lua_rawset(L, t);
}

static inline void fset_str(lua_State *L, vcache *c, int t, int k, trpt_str s)
{
    FKEY(c, k);
    lua_pushlstring(L, s.ptr ? s.ptr : "", s.len);
    lua_rawset(L, t);
}

static size_t count_details(const trpt_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->npolicies; i++) n += r->policies[i].nfailures;
    return n;
}

static int popcount(unsigned v)
{
    int n = 0;
    for (; v; v &= v - 1) n++;
    return n;
}

static void push_failure(lua_State *L, vcache *c, int kt, const trpt_failure *f)
{
    unsigned h = f->has;
    /* Exact size: result_type, failed_session_count, the optional members
     * present, extra. */
    int nfields = 2 + (f->nextra ? 1 : 0) +
                  popcount(h & (TRPT_HAS_SENDING_MTA_IP | TRPT_HAS_RECEIVING_MX_HOSTNAME |
                                TRPT_HAS_RECEIVING_MX_HELO | TRPT_HAS_RECEIVING_IP |
                                TRPT_HAS_ADDITIONAL_INFORMATION |
                                TRPT_HAS_FAILURE_REASON_CODE));
    lua_createtable(L, 0, nfields);
    int t = lua_gettop(L);
    fset_cached(L, c, t, K_RESULT_TYPE, f->result_type);
    if (h & TRPT_HAS_SENDING_MTA_IP) fset_str(L, c, t, K_SENDING_MTA_IP, f->sending_mta_ip);
    if (h & TRPT_HAS_RECEIVING_MX_HOSTNAME)
        fset_cached(L, c, t, K_RECEIVING_MX_HOSTNAME, f->receiving_mx_hostname);
    if (h & TRPT_HAS_RECEIVING_MX_HELO)
        fset_str(L, c, t, K_RECEIVING_MX_HELO, f->receiving_mx_helo);
    if (h & TRPT_HAS_RECEIVING_IP) fset_str(L, c, t, K_RECEIVING_IP, f->receiving_ip);
    FKEY(c, K_FAILED_SESSION_COUNT);
    push_int(L, f->failed_session_count);
    lua_rawset(L, t);
    if (h & TRPT_HAS_ADDITIONAL_INFORMATION)
        fset_str(L, c, t, K_ADDITIONAL_INFORMATION, f->additional_information);
    if (h & TRPT_HAS_FAILURE_REASON_CODE)
        fset_cached(L, c, t, K_FAILURE_REASON_CODE, f->failure_reason_code);
    set_extra(L, kt, t, f->extra, f->nextra);
}

static void push_policy(lua_State *L, vcache *c, int kt, const trpt_policy_result *p, int ffi)
{
    lua_createtable(L, 0, 4);
    int t = lua_gettop(L);

    lua_createtable(L, 0, 4);
    int pt = lua_gettop(L);
    set_str(L, kt, pt, K_POLICY_TYPE, p->policy_type);
    if (p->has & TRPT_HAS_POLICY_STRING) {
        push_str_list(L, p->policy_string, p->npolicy_string);
        SETK(kt, pt, K_POLICY_STRING);
    }
    if (p->has & TRPT_HAS_POLICY_DOMAIN) set_str(L, kt, pt, K_POLICY_DOMAIN, p->policy_domain);
    if (p->has & TRPT_HAS_MX_HOST) {
        push_str_list(L, p->mx_host, p->nmx_host);
        SETK(kt, pt, K_MX_HOST);
    }
    SETK(kt, t, K_POLICY);

    lua_createtable(L, 0, 2);
    int st = lua_gettop(L);
    set_int(L, kt, st, K_TOTAL_SUCCESSFUL, p->total_successful_session_count);
    set_int(L, kt, st, K_TOTAL_FAILURE, p->total_failure_session_count);
    SETK(kt, t, K_SUMMARY);

    lua_createtable(L, p->nfailures > INT32_MAX ? 0 : (int)p->nfailures, 0);
    for (size_t i = 0; i < p->nfailures; i++) {
        if (ffi && !p->failures[i].nextra) continue; /* ffi_report.lua builds it */
        push_failure(L, c, kt, &p->failures[i]);
        lua_rawseti(L, -2, (int)(i + 1));
    }
    SETK(kt, t, K_FAILURE_DETAILS);
    set_extra(L, kt, t, p->extra, p->nextra);
}

/* The report table; with ffi set, failure details without unknown members
 * are left out (nil), for the detail builder of lua/tlsrpt/ffi_report.lua. */
static void push_report_table(lua_State *L, const trpt_report *r, int ffi)
{
    luaL_checkstack(L, 16, "report");
    int top = lua_gettop(L);
    push_keys(L);
    int kt = lua_gettop(L);
    vcache vc;
    vc.base = 0;
    if (count_details(r)) vc_init(L, &vc, kt); /* only details use it */
    lua_createtable(L, 0, 8);
    int t = lua_gettop(L);
    if (r->has & TRPT_HAS_ORGANIZATION_NAME)
        set_str(L, kt, t, K_ORGANIZATION_NAME, r->organization_name);

    lua_createtable(L, 0, 4);
    int dt = lua_gettop(L);
    set_str(L, kt, dt, K_START_DATETIME, r->start_datetime);
    set_str(L, kt, dt, K_END_DATETIME, r->end_datetime);
    set_int(L, kt, dt, K_START_EPOCH, r->start_epoch);
    set_int(L, kt, dt, K_END_EPOCH, r->end_epoch);
    SETK(kt, t, K_DATE_RANGE);

    if (r->has & TRPT_HAS_CONTACT_INFO) set_str(L, kt, t, K_CONTACT_INFO, r->contact_info);
    if (r->has & TRPT_HAS_REPORT_ID) set_str(L, kt, t, K_REPORT_ID, r->report_id);

    lua_createtable(L, r->npolicies > INT32_MAX ? 0 : (int)r->npolicies, 0);
    for (size_t i = 0; i < r->npolicies; i++) {
        push_policy(L, &vc, kt, &r->policies[i], ffi);
        lua_rawseti(L, -2, (int)(i + 1));
    }
    SETK(kt, t, K_POLICIES);

    lua_createtable(L, r->nwarnings > INT32_MAX ? 0 : (int)r->nwarnings, 0);
    for (size_t i = 0; i < r->nwarnings; i++) {
        const trpt_warning *w = &r->warnings[i];
        lua_createtable(L, 0, 4);
        int wt = lua_gettop(L);
        lua_pushstring(L, w->code);
        SETK(kt, wt, K_CODE);
        lua_pushstring(L, w->path ? w->path : "");
        SETK(kt, wt, K_PATH);
        lua_pushstring(L, w->message ? w->message : "");
        SETK(kt, wt, K_MESSAGE);
        if (w->rfc) {
            lua_pushstring(L, w->rfc);
            SETK(kt, wt, K_RFC);
        }
        lua_rawseti(L, -2, (int)(i + 1));
    }
    SETK(kt, t, K_WARNINGS);
    if (r->nwarnings_dropped) set_int(L, kt, t, K_WARNINGS_DROPPED, (int64_t)r->nwarnings_dropped);
    set_extra(L, kt, t, r->extra, r->nextra);
    /* Keep the result, drop the key table and the cache slots below it. */
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
}

void tl_push_report(lua_State *L, const trpt_report *r)
{
    push_report_table(L, r, 0);
}

/* ------------------------------------------------- LuaJIT FFI builder */

/* LuaJIT builds failure-detail tables faster in compiled Lua, one table
 * constructor each (lua/tlsrpt/ffi_report.lua), than through the C API
 * (1.2-1.4x on big reports, bench/README.md). That file registers its
 * builder here; parse_report then leaves those details out of the table
 * and calls builder(report, views) with a pointer to the C views, valid
 * during the call (the input and the ctx are held by parse_report). */
static const char builder_anchor = 0; /* registry: { fn, min_details } */

/* Below this many failure details the C builder does the whole table: the
 * round trip cost more than it saved on the bench's small report. */
#define TL_FFI_DETAILS 64

/* _set_detail_builder(fn[, min_details]) | _set_detail_builder(nil) */
static int l_set_detail_builder(lua_State *L)
{
    if (!lua_isnil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_Integer min = luaL_optinteger(L, 2, TL_FFI_DETAILS);
    lua_pushlightuserdata(L, (void *)&builder_anchor);
    if (lua_isnil(L, 1)) {
        lua_pushnil(L);
    } else {
        lua_createtable(L, 2, 0);
        lua_pushvalue(L, 1);
        lua_rawseti(L, -2, 1);
        lua_pushnumber(L, (lua_Number)(min < 0 ? 0 : min));
        lua_rawseti(L, -2, 2);
    }
    lua_rawset(L, LUA_REGISTRYINDEX);
    return 0;
}

/* Pushes the registered builder and returns 1 if r has enough details for
 * it; pushes nothing and returns 0 otherwise. */
static int push_detail_builder(lua_State *L, const trpt_report *r)
{
    lua_pushlightuserdata(L, (void *)&builder_anchor);
    lua_rawget(L, LUA_REGISTRYINDEX);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_rawgeti(L, -1, 2);
    lua_Number min = lua_tonumber(L, -1);
    lua_pop(L, 1);
    size_t n = count_details(r);
    if (!n || (lua_Number)n < min) {
        lua_pop(L, 1);
        return 0;
    }
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
    return 1;
}

/* ------------------------------------------------------------ functions */

/* The closure's ctx keeps its largest arena block between calls (the block
 * trpt_parse_report reserved for the last report's results, with its
 * decompressed buffer up to 16 MiB, or a bigger buffer) up to this size:
 * reports of similar size then reuse warm memory instead of faulting in
 * fresh pages each time (+30% on a 25 MB report). A bigger block is
 * dropped with its ctx so a long-running host does not hold it. */
#define TL_KEEP_BYTES ((size_t)32 << 20)

/* The closure's ctx (upvalue 1), taken out of the upvalue while in use
 * and left on the stack at *slot: a __gc metamethod run while a result
 * table is being built may call us again and then finds none, and an error
 * between acquire and release (out of memory while building) only costs the
 * next call a fresh ctx, which release then keeps. */
static trpt_ctx *acquire_ctx(lua_State *L, const trpt_limits *lim, int *slot)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    /* Our own upvalue: a tl_ctx or nil, no metatable check needed. */
    tl_ctx *u = lua_touserdata(L, -1);
    if (u && u->ctx) {
        lua_pushnil(L);
        lua_replace(L, lua_upvalueindex(1));
        trpt_ctx_reset(u->ctx);
        trpt_ctx_set_limits(u->ctx, lim);
        *slot = lua_gettop(L);
        return u->ctx;
    }
    lua_pop(L, 1);
    trpt_ctx *ctx = tl_newctx(L, lim); /* left on the stack */
    *slot = lua_gettop(L);
    return ctx;
}

/* Keeps the ctx at slot for the next call unless it holds more than
 * TL_KEEP_BYTES or a re-entrant call already left one; then it is freed. */
static void release_ctx(lua_State *L, trpt_ctx *ctx, int slot)
{
    trpt_ctx_reset(ctx);
    if (trpt_ctx_bytes(ctx) > TL_KEEP_BYTES || !lua_isnil(L, lua_upvalueindex(1))) {
        tl_ctx_done(L, slot, 0);
        return;
    }
    lua_pushvalue(L, slot);
    lua_replace(L, lua_upvalueindex(1));
}

/* The collector is left alone while the table is built. Pausing it for big
 * reports (an earlier version) looked 20-30% faster only because
 * LUA_GCRESTART forgives the debt: every allocation of a big report
 * happened in the pause, so a host parsing such reports in a loop never
 * collected the old results (+25 MB per call on a 25 MB report). Paying the
 * debt back afterwards with LUA_GCSTEP was no faster than not pausing (and
 * slower on LuaJIT), and PUC Lua 5.1 could not pause safely anyway: it has
 * no LUA_GCISRUNNING to tell whether the host had stopped the collector.
 * An out-of-memory error while building raises: parse_report's ctx is out
 * of its closure's upvalue then (acquire_ctx), so nothing stays busy. */
int tl_push_report_parsed(lua_State *L, const trpt_report *r)
{
    int builder = push_detail_builder(L, r); /* the function, below the table */
    push_report_table(L, r, builder);
    if (!builder) return 0;
    lua_pushvalue(L, -1);
    lua_insert(L, -3); /* report, builder, report */
    lua_pushlightuserdata(L, (void *)r);
    return lua_pcall(L, 2, 0, 0);
}

/* tlsrpt.parse_report(bytes[, opts]) -> report | nil, message, code, info */
static int l_parse_report(lua_State *L)
{
    size_t len;
    const char *s = tl_checkbytes(L, 1, &len);
    trpt_limits lim;
    tl_limits_opt(L, 2, &lim);
    trpt_parse_opts opts = { tl_optbool(L, 2, "strict", 0) };
    int slot;
    trpt_ctx *ctx = acquire_ctx(L, &lim, &slot);
    trpt_report r;
    trpt_error e;
    int rc = trpt_parse_report(ctx, s, len, &opts, &r, &e);
    int nret = 1;
    if (rc) {
        nret = tl_fail(L, &e);
    } else if (tl_push_report_parsed(L, &r)) {
        release_ctx(L, ctx, slot);
        return lua_error(L); /* out of memory, or the detail builder raised */
    }
    release_ctx(L, ctx, slot);
    return nret;
}

/* tlsrpt.gunzip(bytes[, opts]) -> string | nil, message, code, info */
static int l_gunzip(lua_State *L)
{
    size_t len;
    const char *s = tl_checkbytes(L, 1, &len);
    trpt_limits lim;
    tl_limits_opt(L, 2, &lim);
    int slot;
    trpt_ctx *ctx = acquire_ctx(L, &lim, &slot);
    trpt_str out;
    trpt_error e;
    int rc = trpt_gunzip(ctx, s, len, &out, &e);
    int nret;
    if (rc) {
        nret = tl_fail(L, &e);
    } else {
        lua_pushlstring(L, out.ptr, out.len);
        nret = 1;
    }
    release_ctx(L, ctx, slot);
    return nret;
}

/* Sizes and offsets of what ffi_report.lua reads, checked against its
 * ffi.cdef before it is used (a mismatch keeps the C builder). */
static void push_views_layout(lua_State *L)
{
#define LAYOUT(name, v) (lua_pushinteger(L, (lua_Integer)(v)), lua_setfield(L, -2, name))
    lua_createtable(L, 0, 20);
    LAYOUT("trpt_str", sizeof(trpt_str));
    LAYOUT("trpt_str.len", offsetof(trpt_str, len));
    LAYOUT("trpt_report", sizeof(trpt_report));
    LAYOUT("trpt_report.policies", offsetof(trpt_report, policies));
    LAYOUT("trpt_report.npolicies", offsetof(trpt_report, npolicies));
    LAYOUT("trpt_policy_result", sizeof(trpt_policy_result));
    LAYOUT("trpt_policy_result.failures", offsetof(trpt_policy_result, failures));
    LAYOUT("trpt_policy_result.nfailures", offsetof(trpt_policy_result, nfailures));
    LAYOUT("trpt_failure", sizeof(trpt_failure));
    LAYOUT("trpt_failure.result_type", offsetof(trpt_failure, result_type));
    LAYOUT("trpt_failure.sending_mta_ip", offsetof(trpt_failure, sending_mta_ip));
    LAYOUT("trpt_failure.receiving_mx_hostname", offsetof(trpt_failure, receiving_mx_hostname));
    LAYOUT("trpt_failure.receiving_mx_helo", offsetof(trpt_failure, receiving_mx_helo));
    LAYOUT("trpt_failure.receiving_ip", offsetof(trpt_failure, receiving_ip));
    LAYOUT("trpt_failure.additional_information", offsetof(trpt_failure, additional_information));
    LAYOUT("trpt_failure.failure_reason_code", offsetof(trpt_failure, failure_reason_code));
    LAYOUT("trpt_failure.failed_session_count", offsetof(trpt_failure, failed_session_count));
    LAYOUT("trpt_failure.has", offsetof(trpt_failure, has));
    LAYOUT("trpt_failure.nextra", offsetof(trpt_failure, nextra));
    LAYOUT("TRPT_HAS_SENDING_MTA_IP", TRPT_HAS_SENDING_MTA_IP);
    LAYOUT("TRPT_HAS_RECEIVING_MX_HOSTNAME", TRPT_HAS_RECEIVING_MX_HOSTNAME);
    LAYOUT("TRPT_HAS_RECEIVING_MX_HELO", TRPT_HAS_RECEIVING_MX_HELO);
    LAYOUT("TRPT_HAS_RECEIVING_IP", TRPT_HAS_RECEIVING_IP);
    LAYOUT("TRPT_HAS_ADDITIONAL_INFORMATION", TRPT_HAS_ADDITIONAL_INFORMATION);
    LAYOUT("TRPT_HAS_FAILURE_REASON_CODE", TRPT_HAS_FAILURE_REASON_CODE);
#undef LAYOUT
}

static void open_builder(lua_State *L)
{
    lua_pushcfunction(L, l_set_detail_builder);
    lua_setfield(L, -2, "_set_detail_builder");
    push_views_layout(L);
    lua_setfield(L, -2, "_report_views_layout");
}

void tl_open_report(lua_State *L)
{
    push_keys(L);
    lua_pop(L, 1);
    static const struct { const char *name; lua_CFunction f; } fns[] = {
        { "parse_report", l_parse_report },
        { "gunzip", l_gunzip },
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        tl_newctx(L, NULL);
        lua_pushcclosure(L, fns[i].f, 1);
        lua_setfield(L, -2, fns[i].name);
    }
    lua_pushlightuserdata(L, TL_NULL_UD);
    lua_setfield(L, -2, "null");
    open_builder(L);
}
