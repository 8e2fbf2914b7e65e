/* Helpers shared by the binding's source files (tlsrpt.core). */
#ifndef TLSRPT_BINDING_H
#define TLSRPT_BINDING_H

#include "compat.h"
#include "trpt.h"

#define TL_HIDDEN __attribute__((visibility("hidden")))
#define TL_CTX_MT "tlsrpt.ctx"

/* The interpreter's allocator, captured once per core object (ctx or
 * builder): the allocator belongs to the Lua state, not to any thread. */
typedef struct tl_alloc {
    lua_Alloc f;
    void *ud;
} tl_alloc;

/* trpt_alloc_fn that forwards to a tl_alloc (its ud); the tl_alloc must
 * not move, so it lives inside the owning userdata. */
TL_HIDDEN void *tl_alloc_bridge(void *ud, void *p, size_t osize, size_t nsize);

/* A userdata that owns a trpt_ctx: pushed before the ctx is created, so the
 * ctx is freed by __gc whatever raises afterwards. */
typedef struct tl_ctx {
    trpt_ctx *ctx;
    tl_alloc alloc;
} tl_ctx;

/* Pushes a new ctx userdata (memory through the Lua allocator) and returns its ctx. */
TL_HIDDEN trpt_ctx *tl_newctx(lua_State *L, const trpt_limits *limits);

/* Frees the ctx of the userdata at idx now, its results copied out, and
 * returns nret: the collector does not see ctx memory (it does not come as
 * userdata), so waiting for __gc let loops hold many calls' worth, and a
 * finalizer's call during lua_close never got its __gc. */
TL_HIDDEN int tl_ctx_done(lua_State *L, int idx, int nret);

/* Reads an options table at idx (may be absent/nil) into limits, starting
 * from the defaults: max_input, max_decompressed, max_ratio, max_depth,
 * max_string, max_elements, max_warnings. Wrong types raise. */
TL_HIDDEN void tl_limits_opt(lua_State *L, int idx, trpt_limits *lim);

/* Reads a boolean field of an options table (absent -> dflt); wrong type raises. */
TL_HIDDEN int tl_optbool(lua_State *L, int idx, const char *field, int dflt);

/* Bytes of argument idx: a string, or anything with __tostring (rspamd's
 * rspamd{text}). Anything else raises (misuse). The bytes stay valid while
 * the value sits on the stack (a converted copy is left at idx). */
TL_HIDDEN const char *tl_checkbytes(lua_State *L, int idx, size_t *len);

/* Pushes nil, message, code, info ({code=, path=, offset=, rfc=}); returns 4. */
TL_HIDDEN int tl_fail(lua_State *L, const trpt_error *e);

/* Pushes a slice as a Lua string. */
static inline void tl_pushstr(lua_State *L, trpt_str s)
{
    lua_pushlstring(L, s.ptr ? s.ptr : "", s.len);
}

/* t[key] = s, with t at the top of the stack. */
static inline void tl_setstr(lua_State *L, const char *key, trpt_str s)
{
    tl_pushstr(L, s);
    lua_setfield(L, -2, key);
}

static inline void tl_setint(lua_State *L, const char *key, int64_t v)
{
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(L, (lua_Integer)v);
#else
    lua_pushnumber(L, (lua_Number)v);
#endif
    lua_setfield(L, -2, key);
}

/* Pushes the Lua table of a parsed report (defined in l_report.c; shared
 * with l_email.c so both return the same shape). */
TL_HIDDEN void tl_push_report(lua_State *L, const trpt_report *r);

/* The same table as parse_report builds it: under LuaJIT, big reports'
 * failure details come from the registered FFI builder (l_report.c), and
 * big tables are built in a protected call. 0, or an error status with the
 * message on top (parse_report, bench/tables.c). */
TL_HIDDEN int tl_push_report_parsed(lua_State *L, const trpt_report *r);

/* Each source file registers its functions into the module table at the top. */
TL_HIDDEN void tl_open_records(lua_State *L);
TL_HIDDEN void tl_open_report(lua_State *L);
TL_HIDDEN void tl_open_email(lua_State *L);
TL_HIDDEN void tl_open_build(lua_State *L);
TL_HIDDEN void tl_open_dns(lua_State *L);

__attribute__((visibility("default"))) int luaopen_tlsrpt_core(lua_State *L);

#endif
