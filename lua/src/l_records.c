/* tlsrpt.core: TXT records (RFC 8460 §3, RFC 8461 §3.1), MTA-STS policy
 * files (RFC 8461 §3.2) and MX matching (RFC 8461 §4.1). */
#include "binding.h"

#include <string.h>

/* Appends the bytes of the value at the top of the stack to b and pops it:
 * a string, or anything with __tostring (rspamd{text}). Returns 0 for any
 * other type, leaving the value in place. */
static int add_bytes(lua_State *L, luaL_Buffer *b)
{
    if (lua_type(L, -1) != LUA_TSTRING) {
        if (!luaL_getmetafield(L, -1, "__tostring")) return 0;
        lua_pop(L, 1);
        luaL_tolstring(L, -1, NULL);
        lua_remove(L, -2);
    }
    luaL_addvalue(b);
    return 1;
}

static int is_list(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE) return 0;
    if (luaL_getmetafield(L, idx, "__tostring")) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

/* Argument 1 of the TXT parsers: one record as a string, or a list whose
 * elements are records, each a string or a list of character-strings to
 * join (a TXT record as DNS libraries return it). The joined records are
 * kept alive in a table pushed on the stack; *out is a ctx array. Wrong
 * types raise: they are programming errors, not bad DNS data. */
static void check_txts(lua_State *L, trpt_ctx *ctx, trpt_str **out, size_t *n)
{
    if (!is_list(L, 1)) {
        size_t len;
        const char *s = tl_checkbytes(L, 1, &len);
        trpt_str *t = trpt_ctx_alloc(ctx, sizeof *t);
        if (!t) luaL_error(L, "not enough memory");
        *t = (trpt_str){ s, len };
        *out = t;
        *n = 1;
        return;
    }
    size_t count = lua_rawlen(L, 1);
    lua_createtable(L, (int)(count < 1024 ? count : 1024), 0);
    int holder = lua_gettop(L);
    if (count > ((size_t)-1) / sizeof(trpt_str)) luaL_error(L, "not enough memory");
    trpt_str *t = trpt_ctx_alloc(ctx, (count ? count : 1) * sizeof *t);
    if (!t) luaL_error(L, "not enough memory");
    for (size_t i = 1; i <= count; i++) {
        lua_rawgeti(L, 1, (int)i);
        int ok = 1;
        if (is_list(L, -1)) {
            int inner = lua_gettop(L);
            size_t parts = lua_rawlen(L, inner);
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (size_t j = 1; j <= parts; j++) {
                lua_rawgeti(L, inner, (int)j);
                if (!add_bytes(L, &b))
                    luaL_argerror(L, 1, lua_pushfstring(L, "record %d, string %d: string "
                                                        "expected, got %s", (int)i, (int)j,
                                                        luaL_typename(L, -1)));
            }
            luaL_pushresult(&b);
            lua_remove(L, inner);
        } else if (lua_type(L, -1) != LUA_TSTRING) {
            if (luaL_getmetafield(L, -1, "__tostring")) {
                lua_pop(L, 1);
                luaL_tolstring(L, -1, NULL);
                lua_remove(L, -2);
            } else {
                ok = 0;
            }
        }
        if (!ok)
            luaL_argerror(L, 1, lua_pushfstring(L, "record %d: string or list of strings "
                                                "expected, got %s", (int)i, luaL_typename(L, -1)));
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        t[i - 1] = (trpt_str){ s, len };
        lua_rawseti(L, holder, (int)i); /* anchors s for the parse */
    }
    *out = t;
    *n = count;
}

static void push_kvs(lua_State *L, const trpt_kv *ext, size_t n, const char *field)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 2);
        tl_setstr(L, "key", ext[i].key);
        tl_setstr(L, "value", ext[i].value);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, field);
}

/* The arguments both TXT parsers take, (txt_or_list [, limits]): returns a
 * ctx owned by a userdata on the stack at *ci, and the records in *txts. */
static trpt_ctx *txt_args(lua_State *L, trpt_str **txts, size_t *n, int *ci)
{
    trpt_limits lim;
    tl_limits_opt(L, 2, &lim);
    trpt_ctx *ctx = tl_newctx(L, &lim);
    *ci = lua_gettop(L);
    check_txts(L, ctx, txts, n);
    return ctx;
}

/* tlsrpt.parse_record(txt_or_list [, limits]) -> {version, rua, extensions, raw} */
static int l_parse_record(lua_State *L)
{
    trpt_str *txts;
    size_t n;
    int ci;
    trpt_ctx *ctx = txt_args(L, &txts, &n, &ci);
    trpt_tlsrpt_record r;
    trpt_error e;
    if (trpt_parse_tlsrpt_record(ctx, txts, n, &r, &e)) return tl_ctx_done(L, ci, tl_fail(L, &e));
    lua_createtable(L, 0, 4);
    tl_setstr(L, "version", r.version);
    lua_createtable(L, (int)r.nrua, 0);
    for (size_t i = 0; i < r.nrua; i++) {
        lua_createtable(L, 0, 3);
        tl_setstr(L, "uri", r.rua[i].uri);
        tl_setstr(L, "target", r.rua[i].target);
        lua_pushstring(L, r.rua[i].scheme == TRPT_RUA_MAILTO ? "mailto" : "https");
        lua_setfield(L, -2, "scheme");
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "rua");
    push_kvs(L, r.ext, r.next, "extensions");
    tl_setstr(L, "raw", r.raw);
    return tl_ctx_done(L, ci, 1);
}

/* tlsrpt.parse_sts_record(txt_or_list [, limits]) -> {version, id, extensions, raw} */
static int l_parse_sts_record(lua_State *L)
{
    trpt_str *txts;
    size_t n;
    int ci;
    trpt_ctx *ctx = txt_args(L, &txts, &n, &ci);
    trpt_sts_record r;
    trpt_error e;
    if (trpt_parse_sts_record(ctx, txts, n, &r, &e)) return tl_ctx_done(L, ci, tl_fail(L, &e));
    lua_createtable(L, 0, 4);
    tl_setstr(L, "version", r.version);
    tl_setstr(L, "id", r.id);
    push_kvs(L, r.ext, r.next, "extensions");
    tl_setstr(L, "raw", r.raw);
    return tl_ctx_done(L, ci, 1);
}

static const char *mode_name(int mode)
{
    switch (mode) {
    case TRPT_MODE_ENFORCE: return "enforce";
    case TRPT_MODE_TESTING: return "testing";
    default: return "none";
    }
}

/* tlsrpt.parse_sts_policy(text [, limits]) -> {version, mode, max_age, mx, extensions,
 * ignored} */
static int l_parse_sts_policy(lua_State *L)
{
    size_t len;
    const char *text = tl_checkbytes(L, 1, &len);
    trpt_limits lim;
    tl_limits_opt(L, 2, &lim);
    trpt_ctx *ctx = tl_newctx(L, &lim);
    int ci = lua_gettop(L);
    trpt_sts_policy p;
    trpt_error e;
    if (trpt_parse_sts_policy(ctx, text, len, &p, &e)) return tl_ctx_done(L, ci, tl_fail(L, &e));
    lua_createtable(L, 0, 6);
    tl_setstr(L, "version", p.version);
    lua_pushstring(L, mode_name(p.mode));
    lua_setfield(L, -2, "mode");
    tl_setint(L, "max_age", p.max_age);
    lua_createtable(L, (int)p.nmx, 0);
    for (size_t i = 0; i < p.nmx; i++) {
        tl_pushstr(L, p.mx[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "mx");
    push_kvs(L, p.ext, p.next, "extensions");
    push_kvs(L, p.ignored, p.nignored, "ignored");
    return tl_ctx_done(L, ci, 1);
}

/* tlsrpt.sts_mx_match(policy, host [, limits]) -> boolean. policy is a
 * table from parse_sts_policy (its mx list is used) or the policy text; a
 * text that does not parse gives nil, message, code, info. */
static int l_sts_mx_match(lua_State *L)
{
    size_t hlen;
    const char *host = tl_checkbytes(L, 2, &hlen);
    trpt_limits lim;
    tl_limits_opt(L, 3, &lim); /* checked for a policy table too */
    if (is_list(L, 1)) {
        lua_getfield(L, 1, "mx");
        if (lua_type(L, -1) != LUA_TTABLE)
            return luaL_argerror(L, 1, "policy table without an mx list");
        int mx = lua_gettop(L);
        size_t n = lua_rawlen(L, mx);
        int match = 0;
        for (size_t i = 1; i <= n && !match; i++) {
            lua_rawgeti(L, mx, (int)i);
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_argerror(L, 1, lua_pushfstring(L, "mx[%d] is a %s, not a string",
                                                           (int)i, luaL_typename(L, -1)));
            size_t plen;
            const char *pat = lua_tolstring(L, -1, &plen);
            match = trpt_mx_pattern_match(pat, plen, host, hlen);
            lua_pop(L, 1);
        }
        lua_pushboolean(L, match);
        return 1;
    }
    size_t len;
    const char *text = tl_checkbytes(L, 1, &len);
    trpt_ctx *ctx = tl_newctx(L, &lim);
    int ci = lua_gettop(L);
    trpt_sts_policy p;
    trpt_error e;
    if (trpt_parse_sts_policy(ctx, text, len, &p, &e)) return tl_ctx_done(L, ci, tl_fail(L, &e));
    lua_pushboolean(L, trpt_sts_mx_match(&p, host, hlen));
    return tl_ctx_done(L, ci, 1);
}

/* tlsrpt.mx_pattern_match(pattern, host) -> boolean */
static int l_mx_pattern_match(lua_State *L)
{
    size_t plen, hlen;
    const char *pat = tl_checkbytes(L, 1, &plen);
    const char *host = tl_checkbytes(L, 2, &hlen);
    lua_pushboolean(L, trpt_mx_pattern_match(pat, plen, host, hlen));
    return 1;
}

void tl_open_records(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "parse_record", l_parse_record },
        { "parse_sts_record", l_parse_sts_record },
        { "parse_sts_policy", l_parse_sts_policy },
        { "sts_mx_match", l_sts_mx_match },
        { "mx_pattern_match", l_mx_pattern_match },
        { NULL, NULL },
    };
    luaL_setfuncs(L, fns, 0);
}
