-- Development rock: `luarocks make rockspec/tlsrpt-scm-1.rockspec` from a checkout,
-- or `luarocks install` of this file from the git repository.
rockspec_format = "3.0"
package = "tlsrpt"
version = "scm-1"
source = {
   url = "git+https://github.com/tlsrpt/tlsrpt.git",
   branch = "main",
}
description = {
   summary = "SMTP TLS Reporting (RFC 8460) and MTA-STS (RFC 8461) for Lua and LuaJIT",
   detailed = [[
Parses and generates TLS-RPT reports (JSON, gzip, report e-mails), parses
TLS-RPT and MTA-STS TXT records and MTA-STS policy files, and looks them up
in the DNS. A hardened C core (caps on size, depth and counts) with a Lua
binding for Lua 5.1-5.4 and LuaJIT (rspamd), plus the `tlsrpt` command.
]],
   homepage = "https://github.com/tlsrpt/tlsrpt",
   license = "MIT",
   labels = { "email", "smtp", "tls", "mta-sts", "rspamd" },
}
dependencies = {
   "lua >= 5.1, < 5.5",
}
-- libdeflate (optional) is used where pkg-config finds it: see rockspec/rock.mk.
external_dependencies = {
   JANSSON = { header = "jansson.h" },
   ZLIB = { header = "zlib.h" },
   LDNS = { header = "ldns/ldns.h" },
}
build = {
   -- "make" drives the project's own Makefile (source globs), see rockspec/rock.mk.
   type = "make",
   makefile = "rockspec/rock.mk",
   build_target = "rock-build",
   install_target = "rock-install",
   variables = {
      CC = "$(CC)",
      CFLAGS = "$(CFLAGS)",
      LIBFLAG = "$(LIBFLAG)",
      LUA_INCDIR = "$(LUA_INCDIR)",
      JANSSON_INCDIR = "$(JANSSON_INCDIR)",
      JANSSON_LIBDIR = "$(JANSSON_LIBDIR)",
      ZLIB_INCDIR = "$(ZLIB_INCDIR)",
      ZLIB_LIBDIR = "$(ZLIB_LIBDIR)",
      LDNS_INCDIR = "$(LDNS_INCDIR)",
      LDNS_LIBDIR = "$(LDNS_LIBDIR)",
   },
   install_variables = {
      INST_LIBDIR = "$(LIBDIR)",
      INST_LUADIR = "$(LUADIR)",
   },
   install = {
      bin = { tlsrpt = "bin/tlsrpt" },
   },
}
