# rockspec/rock.mk — LuaRocks glue (build type "make") and the release tarball.
#
# The rockspecs run, from the source root:
#   make -f rockspec/rock.mk rock-build   CC=.. CFLAGS=.. LIBFLAG=.. LUA_INCDIR=.. <DEP>_INCDIR/LIBDIR=..
#   make -f rockspec/rock.mk rock-install (same variables) INST_LIBDIR=.. INST_LUADIR=..
# Used standalone it includes the top Makefile, so the source globs, warning
# flags and the libtrpt.a rule are the project's own: files added to core/src,
# lua/src or lua/tlsrpt need no rockspec edit (a "builtin" rockspec would have
# to list every .c file). The top Makefile may also `include rockspec/rock.mk`.
#
#   make rock-dist     $(BUILD)/tlsrpt-<version>.tar.gz, the tarball the versioned
#                      rockspec's source.url names (tracked + untracked, non-ignored files)
#   make rock-build LUA_INCDIR=/usr/include/luajit-2.1 ; make rock-install INST_LIBDIR=.. INST_LUADIR=..

ROCK_MK := 1 # read once: the top Makefile includes this file unless set
ifndef CORE_SRC
# Standalone: one build tree per Lua header set, so a 5.4 and a 5.1 build of
# the same checkout never mix objects.
BUILD := build/rock/$(or $(notdir $(LUA_INCDIR)),default)
include Makefile
endif

LIBFLAG ?= -shared
ROCK_VERSION := $(TRPT_VERSION)
ROCK_MOD = $(BUILD)/luarocks/$(notdir $(LUA_INCDIR))/tlsrpt/core.so

# libdeflate is optional and found by the top Makefile's pkg-config check
# (LIBDEFLATE=0 to build without), so the rockspecs do not name it.
# Include/library dirs LuaRocks resolved for JANSSON, ZLIB and LDNS (the
# system ones add nothing and would only reorder the search path).
ROCK_SYSDIRS := /usr/include /usr/lib /usr/lib64 /usr/local/include /usr/local/lib
ROCK_DEP_INC := $(filter-out $(ROCK_SYSDIRS),$(JANSSON_INCDIR) $(ZLIB_INCDIR) $(LDNS_INCDIR))
ROCK_DEP_LIB := $(filter-out $(ROCK_SYSDIRS),$(JANSSON_LIBDIR) $(ZLIB_LIBDIR) $(LDNS_LIBDIR))
DEP_CFLAGS += $(addprefix -I,$(ROCK_DEP_INC))
DEP_LIBS   := $(addprefix -L,$(ROCK_DEP_LIB)) $(DEP_LIBS)

.PHONY: rock-build rock-install rock-dist rock-check-incdir

rock-check-incdir:
	@test -n "$(LUA_INCDIR)" && test -f "$(LUA_INCDIR)/lua.h" || \
	  { echo "rock.mk: set LUA_INCDIR to the directory holding lua.h (got '$(LUA_INCDIR)')" >&2; exit 1; }

rock-build: rock-check-incdir $(ROCK_MOD)

# Same link as the top Makefile's tlsrpt.core, with LuaRocks' Lua headers.
$(ROCK_MOD): $(LUA_SRC) $(LIBA) $(HDRS)
	@mkdir -p $(@D)
	$(CC) -I$(LUA_INCDIR) $(ALL_CFLAGS) -Ilua/src $(LIBFLAG) -Wl,--exclude-libs,ALL \
	  -o $@ $(LUA_SRC) $(LIBA) $(DEP_LIBS)

# Pure-Lua modules keep their layout under lua/ (lua/tlsrpt/x.lua -> tlsrpt.x).
rock-install: rock-check-incdir
	@test -f $(ROCK_MOD) || { echo "rock.mk: $(ROCK_MOD) missing, run rock-build first" >&2; exit 1; }
	@test -n "$(INST_LIBDIR)" && test -n "$(INST_LUADIR)" || \
	  { echo "rock.mk: INST_LIBDIR and INST_LUADIR are required" >&2; exit 1; }
	install -d "$(INST_LIBDIR)/tlsrpt"
	install -m 755 $(ROCK_MOD) "$(INST_LIBDIR)/tlsrpt/core.so"
	cd lua && find tlsrpt -name '*.lua' | sort | while read -r f; do \
	  install -d "$(INST_LUADIR)/$${f%/*}" && install -m 644 "$$f" "$(INST_LUADIR)/$$f" || exit 1; \
	done

# What a clean checkout would hold plus work not yet committed; deleted
# tracked files are left out.
rock-dist:
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
	  { echo "rock.mk: rock-dist needs a git checkout" >&2; exit 1; }
	@mkdir -p $(BUILD)
	git ls-files -co --exclude-standard | while read -r f; do [ -f "$$f" ] && echo "$$f"; done | \
	  LC_ALL=C sort | tar --no-recursion --owner=0 --group=0 --numeric-owner \
	  --transform 's,^,tlsrpt-$(ROCK_VERSION)/,' -T - -czf $(BUILD)/tlsrpt-$(ROCK_VERSION).tar.gz
	@echo $(BUILD)/tlsrpt-$(ROCK_VERSION).tar.gz
