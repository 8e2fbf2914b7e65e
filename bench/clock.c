/* benchclock: a monotonic wall clock for bench/bench.lua (Lua has only
 * os.clock, CPU time, and os.time, whole seconds; the peers time wall
 * clock, so the Lua rows must too). Built by bench/bench.mk only. */
#include <lauxlib.h>
#include <lua.h>
#include <time.h>

static int now(lua_State *L)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    lua_pushnumber(L, (lua_Number)t.tv_sec + (lua_Number)t.tv_nsec * 1e-9);
    return 1;
}

__attribute__((visibility("default"))) int luaopen_benchclock(lua_State *L);
int luaopen_benchclock(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, now);
    lua_setfield(L, -2, "now");
    return 1;
}
