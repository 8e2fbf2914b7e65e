/* tlsrpt.core: DNS lookups (blocking, through ldns).
 *
 *   core._resolver_new([opts]) -> resolver | nil, msg, code, info
 *   core._resolver_methods: the resolvers' method table (__index); holds
 *   resolve(name, type), and tlsrpt.resolver adds txt/mx/tlsa/tlsrpt/sts.
 * The "_" names stay out of the tlsrpt module: its API is tlsrpt.resolver.
 *
 * The resolver is a userdata whose __gc frees the C resolver. */
#include "binding.h"

#include <string.h>

#define TL_RESOLVER_MT "tlsrpt.resolver"

typedef struct tl_resolver {
    trpt_resolver *r;
    trpt_limits lim;        /* answer caps: max_elements, max_string */
    char desc[80];          /* for __tostring */
} tl_resolver;

static tl_resolver *check_resolver(lua_State *L, int idx)
{
    tl_resolver *u = luaL_checkudata(L, idx, TL_RESOLVER_MT);
    return u;
}

/* Optional field of the options table: string, or nil. */
static const char *opt_string(lua_State *L, int idx, const char *field)
{
    lua_getfield(L, idx, field);
    const char *s = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "option '%s' must be a string", field);
        size_t n;
        s = lua_tolstring(L, -1, &n);
        if (strlen(s) != n) luaL_error(L, "option '%s' contains a NUL byte", field);
    }
    /* Left on the stack so the string stays alive; the caller pops. */
    return s;
}

/* Optional whole-number field (0 when absent); wrong type or fraction raises,
 * range is checked by the C core (which says which limit). */
static unsigned opt_uint(lua_State *L, int idx, const char *field)
{
    lua_getfield(L, idx, field);
    unsigned v = 0;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "option '%s' must be a number", field);
        lua_Number n = lua_tonumber(L, -1);
        if (!(n >= 1)) luaL_error(L, "option '%s' must be a positive integer", field);
        if (n > 4000000000.0) {
            v = 4000000000u;   /* out of every range: the core says which */
        } else {
            v = (unsigned)n;
            if ((lua_Number)v != n) luaL_error(L, "option '%s' must be a positive integer", field);
        }
    }
    lua_pop(L, 1);
    return v;
}

static int l_resolver_new(lua_State *L)
{
    trpt_resolver_opts o;
    memset(&o, 0, sizeof o);
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        o.nameserver = opt_string(L, 1, "nameserver");
        o.resolv_conf = opt_string(L, 1, "resolv_conf");
        o.port = opt_uint(L, 1, "port");
        o.timeout_ms = opt_uint(L, 1, "timeout");
        o.attempts = opt_uint(L, 1, "attempts");
    }
    trpt_limits lim;
    tl_limits_opt(L, 1, &lim);
    /* The userdata exists (with __gc) before the resolver does. */
    tl_resolver *u = lua_newuserdata(L, sizeof *u);
    u->r = NULL;
    u->lim = lim;
    luaL_setmetatable(L, TL_RESOLVER_MT);
    trpt_error err;
    u->r = trpt_resolver_new(&o, &err);
    if (!u->r) return tl_fail(L, &err);
    if (o.nameserver)
        lua_pushfstring(L, "tlsrpt.resolver (%s port %d)", o.nameserver, (int)(o.port ? o.port : 53));
    else
        lua_pushfstring(L, "tlsrpt.resolver (%s)", o.resolv_conf ? o.resolv_conf : "/etc/resolv.conf");
    size_t n;
    const char *d = lua_tolstring(L, -1, &n);
    if (n >= sizeof u->desc) n = sizeof u->desc - 1;
    memcpy(u->desc, d, n);
    u->desc[n] = '\0';
    lua_pop(L, 1);
    return 1;   /* the userdata; the option strings below it are dropped */
}

/* 'T', 'M', 'L' for TXT, MX, TLSA in any case; 0 otherwise. */
static int type_kind(const char *t)
{
    char up[5];
    size_t n = strlen(t);
    if (n > 4) return 0;
    for (size_t i = 0; i <= n; i++) up[i] = (t[i] >= 'a' && t[i] <= 'z') ? t[i] - 32 : t[i];
    if (!strcmp(up, "TXT")) return 'T';
    if (!strcmp(up, "MX")) return 'M';
    if (!strcmp(up, "TLSA")) return 'L';
    return 0;
}

static void push_list(lua_State *L, const trpt_str *s, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        tl_pushstr(L, s[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
}

/* answer = {ad=bool, name=, type=, txt={...} | mx={{host=, preference=}} | tlsa={...}} */
static int l_resolve(lua_State *L)
{
    tl_resolver *u = check_resolver(L, 1);
    size_t nlen;
    const char *name = tl_checkbytes(L, 2, &nlen);
    size_t tlen;
    const char *type = luaL_checklstring(L, 3, &tlen);
    int kind = strlen(type) == tlen ? type_kind(type) : 0; /* "TXT\0x" is no type */
    if (!kind) return luaL_argerror(L, 3, "type must be \"TXT\", \"MX\" or \"TLSA\"");
    if (!u->r) return luaL_error(L, "resolver is closed");
    trpt_error err;
    if (strlen(name) != nlen) {
        memset(&err, 0, sizeof err);
        err.code = TRPT_E_ARG;
        err.offset = TRPT_NO_OFFSET;
        strcpy(err.message, "domain name contains a NUL byte");
        return tl_fail(L, &err);
    }
    trpt_ctx *ctx = tl_newctx(L, &u->lim);
    int ci = lua_gettop(L);
    trpt_dns_answer a;
    int rc = trpt_resolve(u->r, ctx, name, type, &a, &err);
    if (rc != TRPT_OK) return tl_ctx_done(L, ci, tl_fail(L, &err));
    lua_createtable(L, 0, 4);
    lua_pushboolean(L, a.ad);
    lua_setfield(L, -2, "ad");
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "name");
    if (kind == 'T') {
        push_list(L, a.txt, a.ntxt);
        lua_setfield(L, -2, "txt");
    } else if (kind == 'M') {
        lua_createtable(L, (int)a.nmx, 0);
        for (size_t i = 0; i < a.nmx; i++) {
            lua_createtable(L, 0, 2);
            tl_setstr(L, "host", a.mx_host[i]);
            tl_setint(L, "preference", a.mx_pref[i]);
            lua_rawseti(L, -2, (int)i + 1);
        }
        lua_setfield(L, -2, "mx");
    } else {
        push_list(L, a.tlsa, a.ntlsa);
        lua_setfield(L, -2, "tlsa");
    }
    return tl_ctx_done(L, ci, 1); /* the answer is copied out */
}

static int resolver_gc(lua_State *L)
{
    tl_resolver *u = luaL_checkudata(L, 1, TL_RESOLVER_MT);
    trpt_resolver_free(u->r);
    u->r = NULL;
    return 0;
}

static int resolver_tostring(lua_State *L)
{
    tl_resolver *u = check_resolver(L, 1);
    lua_pushstring(L, u->desc[0] ? u->desc : "tlsrpt.resolver");
    return 1;
}

void tl_open_dns(lua_State *L)
{
    /* Method table (__index): shared by every resolver of this Lua state,
     * extended by tlsrpt.resolver; reused if the module is loaded again. */
    if (luaL_newmetatable(L, TL_RESOLVER_MT)) {
        lua_pushcfunction(L, resolver_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, resolver_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "tlsrpt.resolver");
        lua_setfield(L, -2, "__name");
        lua_newtable(L);
        lua_pushcfunction(L, l_resolve);
        lua_setfield(L, -2, "resolve");
        lua_setfield(L, -2, "__index");
    }
    lua_getfield(L, -1, "__index");
    lua_remove(L, -2);
    lua_setfield(L, -2, "_resolver_methods");
    lua_pushcfunction(L, l_resolver_new);
    lua_setfield(L, -2, "_resolver_new");
}
