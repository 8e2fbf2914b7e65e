# make bench: the C core and tlsrpt.parse_report (every Lua in LUAS) side by
# side with ../shared/bench/peers.sh on the same six files; see bench/README.md.
#   BENCH_RUNS=3        runs per cell (median)       BENCH_PEERS="python rust floor-inflate"
#   TLSRPT_SHARED=dir   where bench/ and corpus/ are (default ../shared)
#   BENCH_LUAS="..."    Lua interpreters benched (default: LUAS without lua5.1,
#                       which is tested for compatibility but has no target)
#   BENCH_COLLECTION_ROWS=N  rows for the tlsrpt.collection table (0 skips it)

BENCH_LUAS ?= $(filter-out lua5.1,$(LUAS))

BENCH_BIN  := $(BUILD)/bench/bench_core
BENCH_MODS := $(foreach v,$(BENCH_LUAS),$(BUILD)/bench/$(v)/benchclock.so \
                $(BUILD)/bench/$(v)/benchtables.so)

$(BENCH_BIN): bench/bench_core.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBA) $(DEP_LIBS)

$(BUILD)/bench/%/benchclock.so: bench/clock.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call lua_cflags,$*) -shared -o $@ $<

# The binding's sources again, for tl_push_report (hidden in core.so).
$(BUILD)/bench/%/benchtables.so: bench/tables.c $(LUA_SRC) $(LIBA) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call lua_cflags,$*) -Ilua/src -shared -Wl,--exclude-libs,ALL -o $@ \
		bench/tables.c $(LUA_SRC) $(LIBA) $(DEP_LIBS)

bench: $(BENCH_BIN) $(BENCH_MODS) $(foreach v,$(BENCH_LUAS),$(BUILD)/$(v)/tlsrpt/core.so)
	@BUILD=$(BUILD) LUAS="$(BENCH_LUAS)" sh bench/run.sh
