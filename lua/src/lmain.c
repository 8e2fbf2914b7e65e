/* tlsrpt.core: the C half of the Lua module (lua/tlsrpt/init.lua wraps it). */
#include "binding.h"

#include <stdlib.h>
#include <string.h>

/* Routes core allocations (ctx and builder) through the Lua allocator. */
void *tl_alloc_bridge(void *ud, void *p, size_t osize, size_t nsize)
{
    tl_alloc *a = ud;
    return a->f(a->ud, p, osize, nsize);
}

static int ctx_gc(lua_State *L)
{
    tl_ctx *u = luaL_checkudata(L, 1, TL_CTX_MT);
    trpt_ctx_free(u->ctx);
    u->ctx = NULL;
    return 0;
}

int tl_ctx_done(lua_State *L, int idx, int nret)
{
    tl_ctx *u = lua_touserdata(L, idx);
    if (u) {
        trpt_ctx_free(u->ctx);
        u->ctx = NULL;
    }
    return nret;
}

trpt_ctx *tl_newctx(lua_State *L, const trpt_limits *limits)
{
    tl_ctx *u = lua_newuserdata(L, sizeof *u);
    u->ctx = NULL;
    luaL_setmetatable(L, TL_CTX_MT);
    u->alloc.f = lua_getallocf(L, &u->alloc.ud);
    /* The userdata does not move, so it can hold the allocator's ud. */
    u->ctx = trpt_ctx_new(tl_alloc_bridge, &u->alloc, limits);
    if (!u->ctx) luaL_error(L, "not enough memory");
    return u->ctx;
}

static const struct { const char *name; size_t off; int is_size; } limit_fields[] = {
    { "max_input", offsetof(trpt_limits, max_input), 1 },
    { "max_decompressed", offsetof(trpt_limits, max_decompressed), 1 },
    { "max_ratio", offsetof(trpt_limits, max_ratio), 0 },
    { "max_depth", offsetof(trpt_limits, max_depth), 0 },
    { "max_string", offsetof(trpt_limits, max_string), 1 },
    { "max_elements", offsetof(trpt_limits, max_elements), 1 },
    { "max_warnings", offsetof(trpt_limits, max_warnings), 1 },
};

void tl_limits_opt(lua_State *L, int idx, trpt_limits *lim)
{
    trpt_limits_default(lim);
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    for (size_t i = 0; i < sizeof limit_fields / sizeof limit_fields[0]; i++) {
        lua_getfield(L, idx, limit_fields[i].name);
        if (!lua_isnil(L, -1)) {
            if (lua_type(L, -1) != LUA_TNUMBER)
                luaL_error(L, "option '%s' must be a number", limit_fields[i].name);
            lua_Number n = lua_tonumber(L, -1);
            if (!(n >= 0) || n > 4294967295.0 * (limit_fields[i].is_size ? 4096.0 : 1.0))
                luaL_error(L, "option '%s' out of range", limit_fields[i].name);
            if (n != (lua_Number)(unsigned long long)n)
                luaL_error(L, "option '%s' must be a whole number", limit_fields[i].name);
            char *field = (char *)lim + limit_fields[i].off;
            if (limit_fields[i].is_size) *(size_t *)field = (size_t)n;
            else *(unsigned *)field = (unsigned)n;
        }
        lua_pop(L, 1);
    }
}

int tl_optbool(lua_State *L, int idx, const char *field, int dflt)
{
    if (lua_isnoneornil(L, idx)) return dflt;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_getfield(L, idx, field);
    int v = dflt;
    if (!lua_isnil(L, -1)) {
        if (!lua_isboolean(L, -1)) luaL_error(L, "option '%s' must be a boolean", field);
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

const char *tl_checkbytes(lua_State *L, int idx, size_t *len)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) return lua_tolstring(L, idx, len);
    if (luaL_getmetafield(L, idx, "__tostring")) {
        lua_pop(L, 1);
        luaL_tolstring(L, idx, len);
        lua_replace(L, idx);
        return lua_tolstring(L, idx, len);
    }
    luaL_argerror(L, idx, lua_pushfstring(L, "string expected, got %s", luaL_typename(L, idx)));
    return NULL;
}

int tl_fail(lua_State *L, const trpt_error *e)
{
    lua_pushnil(L);
    if (e->path[0])
        lua_pushfstring(L, "%s: %s", e->path, e->message);
    else
        lua_pushstring(L, e->message);
    if (e->rfc) {
        lua_pushfstring(L, " (%s)", e->rfc);
        lua_concat(L, 2);
    }
    lua_pushstring(L, trpt_code_name(e->code));
    lua_createtable(L, 0, 4);
    lua_pushstring(L, trpt_code_name(e->code));
    lua_setfield(L, -2, "code");
    lua_pushstring(L, e->path);
    lua_setfield(L, -2, "path");
    if (e->offset != TRPT_NO_OFFSET) {
        lua_pushinteger(L, (lua_Integer)e->offset);
        lua_setfield(L, -2, "offset");
    }
    if (e->rfc) {
        lua_pushstring(L, e->rfc);
        lua_setfield(L, -2, "rfc");
    }
    lua_pushstring(L, e->message);
    lua_setfield(L, -2, "message");
    return 4;
}

__attribute__((visibility("default"))) int luaopen_tlsrpt_core(lua_State *L)
{
    if (luaL_newmetatable(L, TL_CTX_MT)) {
        lua_pushcfunction(L, ctx_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushstring(L, TRPT_VERSION);
    lua_setfield(L, -2, "version");
    tl_open_records(L);
    tl_open_report(L);
    tl_open_email(L);
    tl_open_build(L);
    tl_open_dns(L);
    return 1;
}
