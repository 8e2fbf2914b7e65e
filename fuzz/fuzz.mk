# libFuzzer targets (included by the top Makefile). See fuzz/README.md.
#
#   make fuzz         build every target into fuzz/build/ (clang, ASan+UBSan+libFuzzer)
#   make fuzz-smoke   replay every corpus through every target, then 15 s per target
#   make fuzz-long    FUZZ_TIME s per target (FUZZ_JOBS parallel jobs), merge new inputs
#                     into corpus/<target>/, then print line coverage per target
#
# The project's C sources (core/src, and lua/src for lua_api) are compiled
# with instrumentation; jansson, zlib, ldns and liblua5.4 are Debian's,
# uninstrumented (jansson is only the builder's serializer and the
# differential oracle, never in the parse path).

FUZZ_CC      ?= clang
FUZZ_OUT     := fuzz/build
FUZZ_TARGETS := tlsrpt_record sts_record sts_policy report_json report_gzip report_email \
                lua_api roundtrip json_differential
FUZZ_TIME    ?= 60
FUZZ_JOBS    ?= 1
FUZZ_LUA     ?= lua5.4

FUZZ_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O1 -g \
             -fno-omit-frame-pointer $(WARN) -Icore/include -Icore/src -Icore/test $(DEP_CFLAGS) \
             -DTRPT_WHOLE_INFLATE_MIN=0 -DTRPT_FUZZ_SPLIT # .gz: inflate.c (odd lengths)
# or libdeflate, then zlib
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LUA_CFLAGS := $(call lua_cflags,$(FUZZ_LUA)) -Ilua/src
FUZZ_LUA_LIBS   := $(shell $(PKG) --libs $(FUZZ_LUA) 2>/dev/null || echo -l$(FUZZ_LUA)) -lm
FUZZ_HDRS := $(HDRS) fuzz/common.h

# Instrumented objects: one set for libFuzzer, one for coverage.
FUZZ_CORE_OBJ := $(CORE_SRC:core/src/%.c=$(FUZZ_OUT)/obj/core/%.o)
FUZZ_LUA_OBJ  := $(LUA_SRC:lua/src/%.c=$(FUZZ_OUT)/obj/lua/%.o)
FCOV_CORE_OBJ := $(CORE_SRC:core/src/%.c=$(FUZZ_OUT)/cov-obj/core/%.o)
FCOV_LUA_OBJ  := $(LUA_SRC:lua/src/%.c=$(FUZZ_OUT)/cov-obj/lua/%.o)
# Archives, so a target pulls in only the objects it calls.
FUZZ_LIB  := $(FUZZ_OUT)/obj/libtrpt.a
FCOV_LIB  := $(FUZZ_OUT)/cov-obj/libtrpt.a
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_OUT)/%)
FCOV_BINS := $(FUZZ_TARGETS:%=$(FUZZ_OUT)/cov/%)
FCOV_FLAGS := -fprofile-instr-generate -fcoverage-mapping

.PHONY: fuzz fuzz-smoke fuzz-long fuzz-cov fuzz-seeds

fuzz: $(FUZZ_BINS) fuzz-seeds

$(FUZZ_OUT)/obj/core/%.o: core/src/%.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_BASE) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OUT)/obj/lua/%.o: lua/src/%.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_BASE) $(FUZZ_LUA_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FCOV_LIB): $(FCOV_CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_OUT)/%: fuzz/%.c $(FUZZ_LIB) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_BASE) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(DEP_LIBS)

$(FUZZ_OUT)/lua_api: fuzz/lua_api.c $(FUZZ_LIB) $(FUZZ_LUA_OBJ) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_BASE) $(FUZZ_LUA_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< \
	  $(FUZZ_LUA_OBJ) $(FUZZ_LIB) $(FUZZ_LUA_LIBS) $(DEP_LIBS)

# Seeds from the shared test vectors (spec/vectors/*.txt), regenerated on each build.
fuzz-seeds:
	@rm -rf $(FUZZ_OUT)/vectors
	@$(FUZZ_LUA) fuzz/vectors2seeds.lua spec/vectors $(FUZZ_OUT)/vectors

# Coverage build: the same targets fed by fuzz/standalone.c, no libFuzzer.
$(FUZZ_OUT)/cov-obj/core/%.o: core/src/%.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_BASE) $(FCOV_FLAGS) -c $< -o $@

$(FUZZ_OUT)/cov-obj/lua/%.o: lua/src/%.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_BASE) $(FUZZ_LUA_CFLAGS) $(FCOV_FLAGS) -c $< -o $@

$(FUZZ_OUT)/cov/%: fuzz/%.c fuzz/standalone.c $(FCOV_LIB) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_BASE) $(FCOV_FLAGS) -o $@ $< fuzz/standalone.c $(FCOV_LIB) $(DEP_LIBS)

$(FUZZ_OUT)/cov/lua_api: fuzz/lua_api.c fuzz/standalone.c $(FCOV_LIB) $(FCOV_LUA_OBJ) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_BASE) $(FUZZ_LUA_CFLAGS) $(FCOV_FLAGS) -o $@ $< fuzz/standalone.c \
	  $(FCOV_LUA_OBJ) $(FCOV_LIB) $(FUZZ_LUA_LIBS) $(DEP_LIBS)

fuzz-cov: $(FCOV_BINS)

fuzz-smoke: fuzz
	@FUZZ_TARGETS="$(FUZZ_TARGETS)" sh fuzz/run.sh smoke

fuzz-long: fuzz fuzz-cov
	@FUZZ_TARGETS="$(FUZZ_TARGETS)" FUZZ_TIME=$(FUZZ_TIME) FUZZ_JOBS=$(FUZZ_JOBS) sh fuzz/run.sh long
