# Dabba's entry points. On a fresh Debian/Ubuntu machine (root, or a user with sudo) with Swift 6 installed:
#   make demo   # installs what is missing, builds, runs every example system's demo on the embedded broker
#               # (DEMO=food|payments|tatkal|messaging|rides|traffic: one system at full size)
#   make test   # installs what is missing, builds, checks contracts, runs every test
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

SWIFT ?= swift
# Extra flags for every swift build/test (for example SWIFT_FLAGS="--scratch-path .build-mine").
SWIFT_FLAGS ?=
# Which demo (all, or one of food, payments, tatkal, messaging, rides, traffic) and its options (for example DEMO=food
# DEMO_ARGS="--orders 500", or DEMO_ARGS=--chaos for kills and faults in every system).
DEMO ?= all
DEMO_ARGS ?=
# Seconds of libFuzzer per target for `make fuzz`, and which targets (default: all; see scripts/fuzz.sh).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

.PHONY: help deps build test contracts demo bench bench-systems fuzz clean

help:
	@echo "make deps    install missing system packages (librdkafka, pkg-config, SQLite, libpq, PostgreSQL) and noida-db"
	@echo "make build   deps, then a debug build"
	@echo "make test    deps, then build, check contracts and run all tests"
	@echo "make contracts  dabba contract verify and compat on Topics/ (COMPAT_BASE=<git ref>, default HEAD~1)"
	@echo "make demo    deps, build, then every system's demo one after another at a small size, and a verdict"
	@echo "             DEMO=food: the food-delivery demo: five services, ~2000 orders, a summary (DEMO_ARGS=...)"
	@echo "             DEMO=payments: UPI payments through a surge, a bank outage (and --chaos crashes); money checked"
	@echo "             DEMO=tatkal: 50,000 Tatkal requests at 10:00, expiring holds, the waitlist; no seat sold twice"
	@echo "             DEMO=messaging: chats, groups of up to 1,000, offline users, a New Year burst; every delivery checked"
	@echo "             DEMO=rides: 1,000 drivers, rush hour in BKC, surge by window; no driver on two rides"
	@echo "             DEMO=traffic: zone status from citizens' and cameras' reports, alerts; checked against the log"
	@echo "make bench   deps, release build, then dabba bench"
	@echo "make bench-systems  deps, release build, then every system's demo flat out (--rate 0); one line of figures"
	@echo "             (DEMO=food etc. for one system, DEMO_ARGS=... for its options)"
	@echo "make fuzz    deps, then libFuzzer on every parser of untrusted bytes, FUZZ_SECONDS=60 each (FUZZ_TARGETS=...)"
	@echo "make clean   remove build products"

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

test: deps
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	scripts/contracts.sh "$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)"
	$(SWIFT) test $(SWIFT_FLAGS)

# Service contracts against Topics/ and schema compatibility with COMPAT_BASE (see scripts/contracts.sh).
contracts: build
	scripts/contracts.sh "$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)"

demo: build
	@DEMO="$(DEMO)" scripts/demo.sh "$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)" $(DEMO_ARGS)

bench: deps
	$(SWIFT) build -c release $(SWIFT_FLAGS)
	"$$($(SWIFT) build -c release $(SWIFT_FLAGS) --show-bin-path)/dabba" bench

# Whole systems flat out: each demo at --rate 0 on a release build, invariants checked, then one line of
# throughput and latency figures (scripts/demo.sh, DEMO_SIZE=flat-out).
bench-systems: deps
	$(SWIFT) build -c release $(SWIFT_FLAGS)
	@DEMO="$(DEMO)" DEMO_SIZE=flat-out scripts/demo.sh "$$($(SWIFT) build -c release $(SWIFT_FLAGS) --show-bin-path)" $(DEMO_ARGS)

# Coverage-guided fuzzing in its own instrumented build (.build-fuzz); the seeded pass runs in `make test`.
fuzz: deps
	FUZZ_SECONDS="$(FUZZ_SECONDS)" FUZZ_TARGETS="$(FUZZ_TARGETS)" SWIFT="$(SWIFT)" SWIFT_FLAGS="$(SWIFT_FLAGS)" scripts/fuzz.sh

clean:
	$(SWIFT) package clean $(SWIFT_FLAGS)
