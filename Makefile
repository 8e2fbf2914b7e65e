# tlsrpt — build, test, fuzz and bench.
#
#   make                 libtrpt (static + shared) and tlsrpt.core for every Lua in LUAS
#   make test            C tests + busted specs under every Lua; last line "N passed, N failed"
#   make asan            the same, built with ASan+UBSan
#   make fuzz            libFuzzer targets (clang)    make fuzz-smoke / fuzz-long: see fuzz/README.md
#   make bench           benchmarks against ../shared/bench peers: see bench/README.md
#   make install         PREFIX=/usr/local
#
# BUILD=dir keeps separate build trees (parallel builds, sanitizer builds).

BUILD   ?= build
CC      ?= cc
LUAS    ?= lua5.4 luajit lua5.1
PREFIX  ?= /usr/local
PKG     ?= pkg-config

OPT     ?= -O2
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?=
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) -g -fPIC \
               -fvisibility=hidden $(WARN) -Icore/include -Icore/src
DEP_CFLAGS := $(shell $(PKG) --cflags jansson zlib libldns 2>/dev/null)
DEP_LIBS   := $(shell $(PKG) --libs jansson zlib 2>/dev/null || echo -ljansson -lz) -lldns
# libdeflate (optional): large .gz reports decode 2.5x faster (core/src/gzip.c).
# LIBDEFLATE=0 builds without it where it is installed.
LIBDEFLATE ?= $(shell $(PKG) --exists libdeflate 2>/dev/null && echo 1 || echo 0)
ifeq ($(LIBDEFLATE),1)
DEP_CFLAGS += -DTRPT_HAVE_LIBDEFLATE $(shell $(PKG) --cflags libdeflate)
DEP_LIBS   += $(shell $(PKG) --libs libdeflate)
endif

ALL_CFLAGS = $(BASE_CFLAGS) $(DEP_CFLAGS) $(SAN) $(CFLAGS)

CORE_SRC := $(sort $(wildcard core/src/*.c))
CORE_OBJ := $(CORE_SRC:core/src/%.c=$(BUILD)/core/%.o)
LUA_SRC  := $(sort $(wildcard lua/src/*.c))
TEST_SRC := $(sort $(wildcard core/test/test_*.c))
TESTS    := $(TEST_SRC:core/test/%.c=$(BUILD)/test/%)
HDRS     := core/include/trpt.h $(wildcard core/src/*.h) $(wildcard lua/src/*.h)

LIBA  := $(BUILD)/libtrpt.a
LIBSO := $(BUILD)/libtrpt.so
LUA_MODS := $(foreach v,$(LUAS),$(BUILD)/$(v)/tlsrpt/core.so)

.PHONY: all lib lua test ctest_bins asan fuzz fuzz-smoke fuzz-long bench install uninstall clean
.DEFAULT_GOAL := all

all: lib lua
lib: $(LIBA) $(LIBSO)
lua: $(LUA_MODS)

$(BUILD)/core/%.o: core/src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBA): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

# SONAME libtrpt.so.0: the ABI of a 0.x release is not promised across minor
# versions, but programs linked to it load by that name, not the bare .so.
SONAME := libtrpt.so.0
$(LIBSO): $(CORE_OBJ)
	$(CC) -shared $(SAN) -Wl,-soname,$(SONAME) -o $@ $^ $(DEP_LIBS)

# The module exports luaopen_tlsrpt_core only (--exclude-libs hides libtrpt.a).
# Lua headers per interpreter: pkg-config name, else Debian's include dir.
lua_cflags = $(shell $(PKG) --cflags $(1) 2>/dev/null || echo -I/usr/include/$(1))

$(BUILD)/%/tlsrpt/core.so: $(LUA_SRC) $(LIBA) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call lua_cflags,$*) -Ilua/src -shared -Wl,--exclude-libs,ALL -o $@ $(LUA_SRC) $(LIBA) $(DEP_LIBS)

$(BUILD)/test/%: core/test/%.c $(wildcard core/test/*.h) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icore/test -o $@ $< $(LIBA) $(DEP_LIBS)

ctest_bins: $(TESTS)

# The test runner counts TAP lines of every suite and prints the summary.
test: all $(TESTS)
	@BUILD=$(BUILD) LUAS="$(LUAS)" sh spec/run-all.sh

# C tests and busted specs with ASan+UBSan (the Lua interpreters get the ASan
# runtime preloaded), plus the shell suites listed in spec/run-all.sh as
# sanitizer-safe (they preload it only into our own processes).
ASAN_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SAN="$(ASAN_SAN)" all ctest_bins
	@BUILD=build-asan LUAS="$(LUAS)" SUITES="c busted asan-sh" \
	  PRELOAD="$$($(CC) -print-file-name=libasan.so)" \
	  UBSAN_OPTIONS=print_stacktrace=1 \
	  sh spec/run-all.sh

# The C library, its header and a pkg-config file (the Lua module and the CLI
# install with luarocks). Libs.private: what a static link adds.
TRPT_VERSION := $(shell sed -n 's/^\#define TRPT_VERSION "\(.*\)"/\1/p' core/include/trpt.h)
install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 core/include/trpt.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libtrpt.so
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: trpt' 'Description: SMTP TLS Reporting (RFC 8460) and MTA-STS (RFC 8461) library' \
	  'Version: $(TRPT_VERSION)' 'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -ltrpt' \
	  'Libs.private: $(strip $(DEP_LIBS))' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/trpt.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/trpt.h $(DESTDIR)$(PREFIX)/lib/libtrpt.a \
	  $(DESTDIR)$(PREFIX)/lib/$(SONAME) $(DESTDIR)$(PREFIX)/lib/libtrpt.so \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/trpt.pc

clean:
	rm -rf build build-* fuzz/build

-include fuzz/fuzz.mk
-include bench/bench.mk
ifndef ROCK_MK
include rockspec/rock.mk
endif
