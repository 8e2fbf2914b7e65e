/* benchtables: the result tables of tlsrpt.parse_report without the
 * parsing, for bench/bench.lua's "tables" mode. prepare() parses a report
 * once with the C core; build() then runs only the binding's table
 * building (tl_push_report_parsed, the code parse_report runs after
 * parsing, FFI detail builder included under LuaJIT) on those views: Lua's
 * string interning, table inserts, allocator and collector. Under Lua 5.4
 * that bounds what parse_report can reach with any parser; LuaJIT's FFI
 * builder runs as fast inside parse_report, which hands it views still in
 * the CPU cache (bench/README.md). Built by bench/bench.mk only, with the
 * binding's sources. */
#include "binding.h"

#include <lauxlib.h>
#include <stdlib.h>

typedef struct prepared {
    trpt_ctx *ctx;
    trpt_report r;
} prepared;

static int prepared_gc(lua_State *L)
{
    prepared *p = lua_touserdata(L, 1);
    trpt_ctx_free(p->ctx);
    p->ctx = NULL;
    return 0;
}

/* benchtables.prepare(bytes) -> handle, or raises */
static int prepare(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    prepared *p = lua_newuserdata(L, sizeof *p);
    p->ctx = NULL;
    lua_newtable(L);
    lua_pushcfunction(L, prepared_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    p->ctx = trpt_ctx_new(NULL, NULL, NULL);
    if (!p->ctx) return luaL_error(L, "out of memory");
    trpt_error e;
    if (trpt_parse_report(p->ctx, s, len, NULL, &p->r, &e))
        return luaL_error(L, "parse failed: %s", e.message);
    lua_pushvalue(L, 1); /* the views point into the input: keep it */
    lua_setfield(L, LUA_REGISTRYINDEX, "benchtables.input");
    return 1;
}

/* benchtables.build(handle) -> the report table parse_report would return */
static int build(lua_State *L)
{
    prepared *p = lua_touserdata(L, 1);
    luaL_argcheck(L, p && p->ctx, 1, "handle expected");
    if (tl_push_report_parsed(L, &p->r)) return lua_error(L);
    return 1;
}

__attribute__((visibility("default"))) int luaopen_benchtables(lua_State *L);
int luaopen_benchtables(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, prepare);
    lua_setfield(L, -2, "prepare");
    lua_pushcfunction(L, build);
    lua_setfield(L, -2, "build");
    return 1;
}
