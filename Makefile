# tensorbridge: `make demo` runs the main job, `make test` runs every test.
# Both work on a fresh machine: they install what is missing, build, then run.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CMAKE := $(VENV)/bin/cmake
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: demo test build system layers cpp-test cpp-asan cpp-tsan fuzz fuzz-long py-test bench clean

demo: build
	$(VENV)/bin/tensorbridge demo

test: layers cpp-test cpp-asan cpp-tsan fuzz py-test

# The C++ folders form a stack (core <- cast <- interop <- io <- image <- pipeline): no file
# includes a folder above its own.
layers:
	$(PYTHON) tests/layers/check_layers.py

system:
	@bash scripts/ensure-system.sh

$(VENV)/.stamp-deps: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	@touch $@

build: system $(VENV)/.stamp-deps
	$(PIP) install -q --no-build-isolation --no-deps .

cpp-test: system $(VENV)/.stamp-deps
	$(CMAKE) -S . -B build/cpp -G Ninja -DTB_BUILD_TESTS=ON -DTB_BUILD_PYTHON=OFF >/dev/null
	$(CMAKE) --build build/cpp
	cd build/cpp && ctest --output-on-failure -j2

# The C++ tests once more under AddressSanitizer and UndefinedBehaviorSanitizer.
cpp-asan: system $(VENV)/.stamp-deps
	$(CMAKE) -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTB_BUILD_TESTS=ON \
	  -DTB_BUILD_PYTHON=OFF -DTB_SANITIZE=address,undefined >/dev/null
	$(CMAKE) --build build/asan
	cd build/asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j2 -LE slow

# The threaded C++ tests under ThreadSanitizer.
cpp-tsan: system $(VENV)/.stamp-deps
	$(CMAKE) -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTB_BUILD_TESTS=ON \
	  -DTB_BUILD_PYTHON=OFF -DTB_SANITIZE=thread >/dev/null
	$(CMAKE) --build build/tsan
	cd build/tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j2 -L threaded -LE slow

# Each libFuzzer target over its committed corpus plus a fixed-seed, fixed-count run: the same
# commit always gives the same result (about a minute in all).
fuzz: system
	bash tests/fuzz/run.sh check

# A fuzzing campaign: each target for FUZZ_LONG_SECONDS with a random seed, one after another;
# finds are saved under build/fuzz/long/finds/ (see tests/fuzz/run.sh).
FUZZ_LONG_SECONDS ?= 600
fuzz-long: system
	nice bash tests/fuzz/run.sh long $(FUZZ_LONG_SECONDS)

py-test: build
	$(PY) -m pytest -q tests/python

bench: build
	.venv/bin/tensorbridge bench

clean:
	rm -rf build
