# Parley: one plain Makefile (see ../shared/STYLE.md, "Build and tests").
#   make            build/parley
#   make deps       install missing Debian packages and the Node test tools
#   make run        deps + build + serve moderation.yml on http://localhost:8080
#   make test       deps + build + unit, integration and browser tests, then the
#                   same suites against an AddressSanitizer/UBSan build
#   make bench      benchmarks -> docs/BENCHMARKS.md
#   SANITIZE=address,undefined make   sanitizer build under build/san/

CC      ?= cc
PKGS    := libwebsockets libuv hiredis sqlite3 libpcre2-8 libsodium yaml-0.1 jansson libutf8proc icu-uc icu-i18n libxml-2.0 libcurl libpq zlib
OPT     ?= -O2 -g
CFLAGS  := -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -D_GNU_SOURCE -MMD -MP -Iserver
LDLIBS  := -lpthread -lm

ifdef SANITIZE
BUILD   := build/san
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=$(SANITIZE)
else
BUILD   := build
endif

# pkg-config is only asked once deps are installed; a missing package then fails loudly.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

SRCS     := $(wildcard server/*.c)
OBJS     := $(SRCS:server/%.c=$(BUILD)/obj/%.o)
LIBOBJS  := $(filter-out $(BUILD)/obj/main.o,$(OBJS))
UNIT_SRCS:= $(wildcard tests/unit/test_*.c)
UNIT_BINS:= $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
DEPS     := $(OBJS:.o=.d) $(UNIT_BINS:=.d)

.PHONY: print-pkgs print-objs layers all deps run test test-unit test-node test-node-pg test-cluster test-browser test-san bench bench-quick \
        eval fuzz fuzz-quick fuzz-bins format clean

all: $(BUILD)/parley

$(BUILD)/parley: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(BUILD)/obj/%.o: server/%.c | $(BUILD)/obj
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIBOBJS) $(LDFLAGS) $(PKG_LIBS) -lcmocka $(LDLIBS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

-include $(DEPS)

deps:
	@bash scripts/deps.sh

run: deps all
	@bash scripts/run.sh

# The whole suite: plain build first, then the sanitizer build runs the same suites.
# The integration suite runs twice: on PostgreSQL with the plain build, and on SQLite
# under ASan/UBSan (the same tests; a plain SQLite run would add four minutes and find
# nothing the sanitized one misses: docs/decisions.md, "make test in under 15 minutes").
# The builds use every core (JOBS); the suites run one at a time.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	bash scripts/check-layers.sh
	$(MAKE) -j$(JOBS) all unit-bins
	$(MAKE) test-unit test-node-pg test-cluster test-browser
	$(MAKE) bench-quick
	$(MAKE) -j$(JOBS) fuzz-bins
	$(MAKE) fuzz-quick
	$(MAKE) -j$(JOBS) SANITIZE=address,undefined OPT="-O1 -g" all unit-bins
	$(MAKE) SANITIZE=address,undefined OPT="-O1 -g" test-unit test-node
	@echo "make test: all suites passed"

layers:
	bash scripts/check-layers.sh

# The pkg-config names the server links (bench/run.sh links rulebench with them).
print-pkgs:
	@echo $(PKGS)

# The server's objects without main (bench/run.sh links rulebench with them; a stale
# object of a renamed source in build/obj is not one of them).
print-objs:
	@echo $(filter-out $(BUILD)/obj/main.o,$(OBJS))

unit-bins: $(UNIT_BINS)

test-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

test-node: $(BUILD)/parley
	cd tests && PARLEY_BIN=$(abspath $(BUILD)/parley) node --test --test-concurrency=1 integration/ hostile/

# The same integration suites with every server on PostgreSQL (one throwaway cluster per
# test file, a fresh database per server; tests/lib/server.js, scripts/pg-cluster.sh).
test-node-pg: $(BUILD)/parley
	cd tests && PARLEY_TEST_STORE=postgres PARLEY_BIN=$(abspath $(BUILD)/parley) node --test --test-concurrency=1 integration/ hostile/

# Several machines (issue 12): a throwaway PostgreSQL cluster, one redis-server and three
# parley processes that share nothing on disk.
test-cluster: $(BUILD)/parley
	cd tests && PARLEY_BIN=$(abspath $(BUILD)/parley) node --test --test-concurrency=1 cluster/

test-browser: $(BUILD)/parley
	@if ls tests/browser/*.test.js >/dev/null 2>&1; then \
	  cd tests && PARLEY_BIN=$(abspath $(BUILD)/parley) node --test --test-concurrency=1 browser/; \
	else echo "no browser tests yet"; fi

# deps first (a fresh clone has no tests/node_modules for the ws peer), then the build.
bench-quick: deps
	$(MAKE) all
	@if [ -f bench/run.sh ]; then bash bench/run.sh --quick; else echo "bench harness not present"; fi

bench: deps
	$(MAKE) all
	bash bench/run.sh

eval: all
	@bash scripts/eval.sh

# Coverage-guided fuzzing (clang's libFuzzer), FUZZ_SECONDS each; tests/fuzz/README.md.
# The targets link the server's own objects (all of server/ but main.c), compiled by
# clang with coverage and sanitizers into build/fuzz/obj/. A crash, a leak, an input
# slower than FUZZ_TIMEOUT seconds or more than 2 GB of memory stops a run non-zero.
FUZZ_SECONDS ?= 60
FUZZ_TIMEOUT ?= 10
FUZZ_CC      := clang
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Iserver \
                -DPARLEY_SRC_DIR=\"$(CURDIR)\" \
                -Wall -Wextra -Werror -Wno-unused-parameter -fno-sanitize-recover=undefined
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJS := $(filter-out build/fuzz/obj/main.o,$(SRCS:server/%.c=build/fuzz/obj/%.o))
-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
build/fuzz/obj/%.o: server/%.c | build/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link,address,undefined \
	  $(PKG_CFLAGS) -c -o $@ $<
build/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS) | build/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
	  -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS) $(LDLIBS)
.PRECIOUS: build/fuzz/obj/%.o
build/fuzz/obj:
	mkdir -p $@
fuzz-bins: $(FUZZ_BINS)
fuzz: deps fuzz-bins
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TIMEOUT) $(FUZZ_BINS)
fuzz-quick: fuzz-bins
	@bash tests/fuzz/run.sh 5 $(FUZZ_TIMEOUT) $(FUZZ_BINS)

format:
	clang-format -i server/*.c server/*.h tests/unit/*.c

clean:
	rm -rf build
