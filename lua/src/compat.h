/* Lua 5.1 (LuaJIT) / 5.2 / 5.3 / 5.4 compatibility shims: the few 5.2+ API
 * calls the binding uses, defined in terms of 5.1 where missing. Renamed
 * (compat_*) because LuaJIT already declares some of them, PUC 5.1 none. */
#ifndef TLSRPT_COMPAT_H
#define TLSRPT_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
#define lua_rawlen(L, i) lua_objlen((L), (i))
#ifndef luaL_newlib
#define luaL_newlib(L, l) (lua_newtable(L), luaL_setfuncs((L), (l), 0))
#endif

#define lua_absindex compat_lua_absindex
static inline int compat_lua_absindex(lua_State *L, int i)
{
    return (i > 0 || i <= LUA_REGISTRYINDEX) ? i : lua_gettop(L) + i + 1;
}

#define luaL_setfuncs compat_luaL_setfuncs
static inline void compat_luaL_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name; l++) {
        for (int i = 0; i < nup; i++) lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}

#define luaL_testudata compat_luaL_testudata
static inline void *compat_luaL_testudata(lua_State *L, int i, const char *tname)
{
    void *p = lua_touserdata(L, i);
    if (!p || !lua_getmetatable(L, i)) return NULL;
    luaL_getmetatable(L, tname);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? p : NULL;
}

#define luaL_setmetatable compat_luaL_setmetatable
static inline void compat_luaL_setmetatable(lua_State *L, const char *tname)
{
    luaL_getmetatable(L, tname);
    lua_setmetatable(L, -2);
}

/* Converts any value to a string the way tostring() does (honours __tostring). */
#define luaL_tolstring compat_luaL_tolstring
static inline const char *compat_luaL_tolstring(lua_State *L, int i, size_t *len)
{
    i = lua_absindex(L, i);
    if (luaL_callmeta(L, i, "__tostring")) {
        if (!lua_isstring(L, -1)) luaL_error(L, "'__tostring' must return a string");
    } else {
        lua_getglobal(L, "tostring");
        lua_pushvalue(L, i);
        lua_call(L, 1, 1);
    }
    return lua_tolstring(L, -1, len);
}
#endif

#if LUA_VERSION_NUM < 503
#define lua_isinteger(L, i) 0
#endif

#endif
