# mmshare -- build, test, install. Sources are picked up by wildcard: a new backend, tool command
# or test file is one new file and nothing here.

PREFIX   ?= /usr/local
SANITIZE ?= 0
CC       ?= cc

ifeq ($(SANITIZE),1)
BUILD    ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
BUILD    ?= build
SANFLAGS :=
endif

CPPFLAGS += -Iinclude -Ibackends -Ilib -D_GNU_SOURCE $(EXTRA_CPPFLAGS)
CFLAGS   += -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
LIBS     := -ltpl -lxxhash -lhiredis -lpthread -ldl
# Programs linked with the static library export its symbols, so a plug-in finds the helpers of
# mmshare-backend.h in the process that loads it.
EXPORT   := -rdynamic
TOOL_LIBS := -ljson-c
TEST_LIBS = $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

LIB_SRC   := $(wildcard backends/*.c) $(wildcard lib/*.c)
TOOL_MAIN := harness/mmshare.c
TOOL_SRC  := $(filter-out $(TOOL_MAIN),$(wildcard harness/*.c)) $(wildcard harness/cases/*.c)
TEST_SRC  := $(wildcard tests/test_*.c)
PEER_SRC  := $(wildcard tests/peers/*.c)
BADPLUG_SRC := $(wildcard tests/plugins/*.c)
EXAMPLE_SRC := $(wildcard examples/*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TOOL_OBJ  := $(TOOL_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(TOOL_MAIN:%.c=$(BUILD)/obj/%.o)
TEST_OBJ  := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
PEERS     := $(PEER_SRC:tests/peers/%.c=$(BUILD)/tests/%)
BADPLUGS  := $(BADPLUG_SRC:tests/plugins/%.c=$(BUILD)/tests/plugins/%.so)
# Each example plug-in, and its deliberately broken copy (the same file with -DEXAMPLE_BROKEN).
EXAMPLES  := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/libmms-%.so) \
	     $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/libmms-%-broken.so)
DEPFILES  := $(LIB_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d)

# Debian packages each job needs; `make` installs the missing ones when run as root.
BUILD_PKGS := libtpl-dev libxxhash-dev libcriterion-dev libjson-c-dev libhiredis-dev pkg-config
BENCH_PKGS := redis-server hyperfine python3-matplotlib valgrind libipc-sharelite-perl libcache-fastmmap-perl

.PHONY: all deps bench-deps test fuzz install clean demo bench report bench-check bench-ab bench-baseline speed \
	examples
all: $(BUILD)/libmmshare.a $(BUILD)/libmmshare.so $(BUILD)/mmshare

# ensure_pkgs LIST: install what dpkg does not have, or print the exact command and stop.
define ensure_pkgs
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "mmshare: installing Debian packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null) || \
	      { echo "mmshare: could not install; run: apt-get install -y$$missing" >&2; exit 1; }; \
	  else \
	    echo "mmshare: missing Debian packages; run: sudo apt-get install -y$$missing" >&2; exit 1; \
	  fi; \
	fi
endef

deps: $(BUILD)/.deps
$(BUILD)/.deps:
	$(call ensure_pkgs,$(BUILD_PKGS))
	@mkdir -p $(@D) && touch $@

bench-deps: $(BUILD)/.bench-deps
$(BUILD)/.bench-deps:
	$(call ensure_pkgs,$(BENCH_PKGS))
	@mkdir -p $(@D) && touch $@

$(BUILD)/obj/%.o: %.c | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# Tests may reach into every floor; nothing else includes the harness's headers.
$(TEST_OBJ): CPPFLAGS += -Iharness
# The contract's cases (harness/cases/) include the harness's headers too.
$(filter $(BUILD)/obj/harness/cases/%,$(TOOL_OBJ)): CPPFLAGS += -Iharness

$(BUILD)/libmmshare.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libmmshare.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libmmshare.so.1 $(LDFLAGS) -o $@ $^ $(LIBS)

# The tool's commands live in libharness.a, so the tests can call them too.
$(BUILD)/libharness.a: $(TOOL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/mmshare: $(MAIN_OBJ) $(BUILD)/libharness.a $(BUILD)/libmmshare.a
	$(CC) $(LDFLAGS) $(EXPORT) -o $@ $(MAIN_OBJ) $(BUILD)/libharness.a \
	  -Wl,--whole-archive $(BUILD)/libmmshare.a -Wl,--no-whole-archive $(LIBS) $(TOOL_LIBS) -lm

$(BUILD)/tests/mms_tests: $(TEST_OBJ) $(BUILD)/libharness.a $(BUILD)/libmmshare.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXPORT) -o $@ $(TEST_OBJ) $(BUILD)/libharness.a \
	  -Wl,--whole-archive $(BUILD)/libmmshare.a -Wl,--no-whole-archive $(TEST_LIBS) $(LIBS) \
	  $(TOOL_LIBS) -lm

$(BUILD)/tests/%: tests/peers/%.c $(BUILD)/libmmshare.a | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmmshare.a $(LIBS)

# Plug-ins that must be refused (wrong ABI, no symbol, a taken name...): tests/test_plugin.c.
# Each overrides one field of a stub table, hence -Wno-override-init.
$(BUILD)/tests/plugins/%.so: tests/plugins/%.c include/mmshare-backend.h | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CC) -Iinclude $(CFLAGS) -Wno-override-init -shared -o $@ $<

# ---- example plug-ins (examples/): built as an outside project builds one, against an installed
# copy found through pkg-config (make install PREFIX=$(STAGE)), never against the source tree ----
STAGE := $(CURDIR)/$(BUILD)/stage
PLUGIN_CFLAGS = $(shell PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config --cflags mmshare)

$(STAGE)/lib/pkgconfig/mmshare.pc: $(BUILD)/libmmshare.a $(BUILD)/mmshare include/mmshare.h include/mmshare-backend.h
	$(MAKE) --no-print-directory install PREFIX=$(STAGE) BUILD=$(BUILD) SANITIZE=$(SANITIZE) >/dev/null

# An application built the same way, linking the staged libmmshare.so (tests/test_plugin.c runs it).
$(BUILD)/tests/plugin_host: tests/hosts/plugin_host.c $(STAGE)/lib/pkgconfig/mmshare.pc
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -std=gnu11 -O2 -Wall -Wextra -Werror $(SANFLAGS) -o $@ $< \
	  $(shell PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config --libs mmshare) -Wl,-rpath,$(STAGE)/lib

examples: $(EXAMPLES)
$(BUILD)/examples/libmms-%.so: examples/%.c $(STAGE)/lib/pkgconfig/mmshare.pc
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC $(SANFLAGS) -shared -o $@ $<
$(BUILD)/examples/libmms-%-broken.so: examples/%.c $(STAGE)/lib/pkgconfig/mmshare.pc
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -DEXAMPLE_BROKEN -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC $(SANFLAGS) -shared -o $@ $<

# The tests find the peer programs, plug-ins and the tool through MMS_BUILD, and the redis
# backend a server of our own (bench/redis.sh): data in /dev/shm, a 500 ms lease for short crash
# cases; make bench measures one whose data is on disk.
REDIS_TEST := bench/redis.sh run --lease 500 --tmpfs --
test: all bench-deps $(BUILD)/tests/mms_tests $(PEERS) $(BADPLUGS) $(EXAMPLES) $(BUILD)/tests/plugin_host
	$(REDIS_TEST) env MMS_BUILD=$(BUILD) LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  $(BUILD)/tests/mms_tests --jobs 2
	/usr/bin/python3 tests/report_test.py

# The fuzz tests at long counts (tests/test_areafuzz.c, the tpl fuzz): make fuzz [FUZZ_SCRIBBLES=n]
FUZZ_SCRIBBLES ?= 1000000
FUZZ_IMAGES    ?= 1000000
fuzz: all $(BUILD)/tests/mms_tests
	MMS_BUILD=$(BUILD) LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  MMS_FUZZ_SCRIBBLES=$(FUZZ_SCRIBBLES) MMS_FUZZ_IMAGES=$(FUZZ_IMAGES) \
	  $(BUILD)/tests/mms_tests --jobs 2 --verbose --filter '@(areafuzz|tpl_fuzz)/*'

demo: all
	$(BUILD)/mmshare demo

# get and set through the API against memcpy, XXH3 and bare locks (README: Speed)
speed: all
	$(BUILD)/mmshare speed

# ---- benchmarks (bench/, reports/) ----
OUT         ?= reports/out
GATE_ROUNDS ?= 5
PY          := /usr/bin/python3

# The main job: sweep, crash run, hyperfine, plots and report.md in $(OUT).
bench: all bench-deps
	bench/run.sh $(BUILD)/mmshare $(OUT)

# Rebuild the report from an earlier run: make report RESULTS=reports/out/bench.json
report: bench-deps
	@test -n "$(RESULTS)" || { echo "usage: make report RESULTS=file.json [OUT=dir]" >&2; exit 2; }
	$(PY) reports/report.py $(RESULTS) $(OUT)

# The regression gate against the stored baseline (bench/baseline/gate.json).
bench-check: all bench-deps
	$(PY) bench/gate.py run --mmshare $(BUILD)/mmshare --rounds $(GATE_ROUNDS) --out $(BUILD)/gate/new.json
	$(BUILD)/mmshare compare bench/baseline/gate.json $(BUILD)/gate/new.json --markdown $(BUILD)/gate/summary.md

bench-baseline: all bench-deps
	$(PY) bench/gate.py run --mmshare $(BUILD)/mmshare --rounds $(GATE_ROUNDS) --out bench/baseline/gate.json

# A/B against a git ref, built in a scratch worktree, runs interleaved: make bench-ab REF=HEAD~1
AB := $(BUILD)/ab
bench-ab: all bench-deps
	@test -n "$(REF)" || { echo "usage: make bench-ab REF=git-ref" >&2; exit 2; }
	rm -rf $(AB)/ref && git worktree prune && git worktree add --detach $(AB)/ref $(REF)
	$(MAKE) -C $(AB)/ref BUILD=build SANITIZE=0 EXTRA_CPPFLAGS= build/mmshare
	$(PY) bench/gate.py ab --a $(AB)/ref/build/mmshare --b $(BUILD)/mmshare --rounds $(GATE_ROUNDS) \
	  --out-a $(AB)/a.json --out-b $(AB)/b.json
	git worktree remove --force $(AB)/ref
	$(BUILD)/mmshare compare $(AB)/a.json $(AB)/b.json --markdown $(AB)/summary.md

# pkg-config covers both headers: an application links -lmmshare; a plug-in needs only --cflags.
ABI := $(shell sed -n 's/^\#define MMS_BACKEND_ABI \([0-9]*\).*/\1/p' include/mmshare-backend.h)
PC_HEAD := prefix=$(PREFIX)\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\nbackend_abi=$(ABI)\n\n
PC_BODY := Name: mmshare\nDescription: share one value among forked processes (set/get/lock), and its backend ABI\n
PC_LIBS := Version: 0.2.0\nLibs: -L$${libdir} -lmmshare\nLibs.private: -ltpl -lxxhash -lhiredis -lpthread -ldl\nCflags: -I$${includedir}\n

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(BUILD)/libmmshare.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libmmshare.so $(DESTDIR)$(PREFIX)/lib/libmmshare.so.1
	ln -sf libmmshare.so.1 $(DESTDIR)$(PREFIX)/lib/libmmshare.so
	install -m 644 include/mmshare.h include/mmshare-backend.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(BUILD)/mmshare $(DESTDIR)$(PREFIX)/bin/
	printf '$(PC_HEAD)$(PC_BODY)$(PC_LIBS)' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mmshare.pc

clean:
	rm -rf build

-include $(DEPFILES)
