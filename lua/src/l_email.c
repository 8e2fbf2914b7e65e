/* tlsrpt.core: report e-mails (RFC 8460 §5.3). */
#include "binding.h"

/* t[key] = s, or nothing when the header was absent (NULL slice). */
static void setopt(lua_State *L, const char *key, trpt_str s)
{
    if (s.ptr) tl_setstr(L, key, s);
}

/* parse_report_email(message[, opts]) -> report (with .email) | nil, msg, code, info */
static int l_parse_report_email(lua_State *L)
{
    size_t len;
    const char *msg = tl_checkbytes(L, 1, &len);
    trpt_limits lim;
    tl_limits_opt(L, 2, &lim);
    trpt_parse_opts o = { .strict = tl_optbool(L, 2, "strict", 0) };
    trpt_ctx *ctx = tl_newctx(L, &lim);
    int ci = lua_gettop(L);
    trpt_report_email e;
    trpt_error err;
    if (trpt_parse_report_email(ctx, msg, len, &o, &e, &err) != TRPT_OK)
        return tl_ctx_done(L, ci, tl_fail(L, &err));
    tl_push_report(L, &e.report);
    lua_createtable(L, 0, 8);
    setopt(L, "tls_report_domain", e.tls_report_domain);
    setopt(L, "tls_report_submitter", e.tls_report_submitter);
    setopt(L, "subject", e.subject);
    setopt(L, "from", e.from);
    setopt(L, "date", e.date);
    setopt(L, "message_id", e.message_id);
    setopt(L, "content_type", e.part_content_type);
    if (e.filename.len) tl_setstr(L, "filename", e.filename);
    lua_setfield(L, -2, "email");
    return tl_ctx_done(L, ci, 1);
}

void tl_open_email(lua_State *L)
{
    lua_pushcfunction(L, l_parse_report_email);
    lua_setfield(L, -2, "parse_report_email");
}
