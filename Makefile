# hazgate: `make test` is what CI runs (through .ci/run); `make bench` writes
# the figures that docs/benchmarks.md records.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE     ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -s -w -X github.com/hazgate/hazgate/buildinfo.Version=$(VERSION) \
            -X github.com/hazgate/hazgate/buildinfo.Commit=$(COMMIT) \
            -X github.com/hazgate/hazgate/buildinfo.Date=$(DATE)
PKGS     := ./...

.PHONY: all build test unit race test386 cross fuzz lint bench dist clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/hazgate ./cmd/hazgate

# The whole gate: formatting, vet, staticcheck, the race-checked suite (scenarios included),
# a 32-bit run for the armv7 gates, and the CGO-free ARM cross-builds.
test: lint race test386 cross fuzz

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

race:
	$(GO) test -race -count=1 $(PKGS)

unit:
	$(GO) test -short -count=1 $(PKGS)

test386:
	GOARCH=386 $(GO) test -short -count=1 $(PKGS)

# A minute of coverage-guided fuzzing of the GA 467 frame scanner (the corpus
# is seeded from the protocol notes' replies).
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzFrameScan -fuzztime 60s ./device/idcard/

cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -o /dev/null ./cmd/hazgate
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -o /dev/null ./cmd/hazgate

# Benchmarks: ratios measured side by side in one run; see docs/benchmarks.md.
# BenchmarkDecisionLatency reports the decision time (last evidence in ->
# barrier command out) and one bare durable commit, p50/p99 and their ratios.
bench:
	$(GO) test -run '^$$' -bench 'DecisionLatency' -benchtime 2000x -count 3 ./record/
	$(GO) test -run '^$$' -bench 'DurableCommit|CommitInspection|Lookup' -benchtime 2000x -count 1 ./store/
	$(GO) test -run '^$$' -bench 'RegistryMemory' -benchtime 1x -count 1 -v ./store/ | grep -E 'MiB|Benchmark'
	$(GO) test -run '^$$' -bench CardRead -benchtime 30x -count 3 ./sim/simreader/
	$(GO) test -run '^$$' -bench 'UplinkThroughput' -benchtime 20000x -count 3 ./uplink/
	$(GO) test -run '^$$' -bench 'BacklogDrain' -benchtime 1x -count 3 ./uplink/
	$(GO) test -run '^$$' -bench 'BridgeLoss' -benchtime 2000x -count 1 ./uplink/
	$(GO) test -run '^$$' -bench 'InspectionTime' -benchtime 1x -count 3 ./sim/
	$(GO) test -run '^$$' -bench 'Footprint' -benchtime 1x -count 3 ./cmd/hazgate/

dist:
	mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/hazgate-linux-arm64 ./cmd/hazgate
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/hazgate-linux-armv7 ./cmd/hazgate
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/hazgate-linux-amd64 ./cmd/hazgate
	ls -l dist

clean:
	rm -rf bin dist bench.out
