# The two commands a newcomer needs: `make run` and `make test`. Everything else is for developers.
JOBS ?= $(shell nproc)
CTEST_FLAGS ?= --output-on-failure -j $(JOBS)

.PHONY: deps build build-fulcrum build-fulcrum-sim run sim deb test test-release test-asan test-tsan test-fuzz fuzz bench bench-proxy chaos soak format clean

deps:
	@scripts/install-deps.sh

# Everything, tests included (`make test` builds what it runs itself).
build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# Only the program a target runs: a newcomer's `make run` does not wait for the tests to build.
build-fulcrum build-fulcrum-sim: build-%: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target $*

# The proxy demo: three backends on loopback, fulcrum on 127.0.0.1:8080 and its status page.
run: build-fulcrum
	@echo "Starting the demo: open the status page link it prints (under 'Status page') in a browser."
	build/release/bin/fulcrum --demo

# The balancing simulator on its bundled example.
sim: build-fulcrum-sim
	build/release/bin/fulcrum-sim examples/sim/cluster.yaml examples/sim/scenario.yaml

# Debian packages in build/release/packages/: fulcrum_<version>_amd64.deb (programs, unit,
# /etc/fulcrum/fulcrum.yaml) and libfulcrum-dev_<version>_amd64.deb (docs/packaging.md).
deb: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target deb

# The fuzzers' summary table (executions and crashes per target) is the last thing printed.
test: deps test-release test-asan test-tsan test-fuzz

test-release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	ctest --preset release $(CTEST_FLAGS)

test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	ctest --preset asan $(CTEST_FLAGS)

test-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS) --target concurrency_tests
	ctest --preset tsan $(CTEST_FLAGS)

# libFuzzer targets of fuzz/ (clang, ASan+UBSan): FUZZ_SECONDS each, two at a time, on a copy of
# the seed corpus in build/fuzz/corpus; fails if any finds a crash (docs/reliability.md).
FUZZ_SECONDS ?= 60
fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=2 scripts/run-fuzz.sh build/fuzz

# In `make test`: 60 s per target, about 3 minutes plus the first build.
test-fuzz:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60

bench: build bench-proxy
	build/release/bin/fulcrum-bench-policies --benchmark_counters_tabular=true

# fulcrum vs HAProxy vs nginx, one worker each, plain and TLS (see docs/benchmarks.md); about 18 minutes.
# Extra options: make bench-proxy BENCH_PROXY_FLAGS="--duration 5 --nice -19"
bench-proxy: build
	bench/proxy/run.sh --out docs/bench-results/proxy-latest.md $(BENCH_PROXY_FLAGS)

# 60 s of kills, hangs, black holes and slow servers under checked load (docs/reliability.md).
chaos: build
	FULCRUM_BIN=build/release/bin/fulcrum tests/integration/chaos.py --duration 60 --summary build/chaos-summary.md

# 10 minutes of load with reloads and servers added, drained and removed (docs/reliability.md).
soak: build
	FULCRUM_BIN=build/release/bin/fulcrum tests/integration/soak.py --duration 600 --summary build/soak-summary.md

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf build
