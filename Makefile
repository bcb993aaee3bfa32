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

# The whole gate: formatting, vet, staticcheck, the race-checked suite
# (scenarios and the fuzz targets' seed corpora included), a 32-bit run for
# the armv7 gates, and the CGO-free ARM cross-builds. Fuzzing itself is
# `make fuzz`.
test: lint race test386 cross

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

# Coverage-guided fuzzing, FUZZTIME (a minute) per target, one after the
# other: the GA 467 frame scanner, the waybill scanner's extraction, the
# ID-number check, the signed command envelope, and the configuration and
# scenario parsers. A failing input is written under the package's
# testdata/fuzz/, where go test (so make test) runs it from then on.
FUZZTIME ?= 60s

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzFrameScan$$' -fuzztime $(FUZZTIME) ./device/idcard/
	$(GO) test -run '^$$' -fuzz '^FuzzExtract$$' -fuzztime $(FUZZTIME) ./device/scanner/
	$(GO) test -run '^$$' -fuzz '^FuzzParser$$' -fuzztime $(FUZZTIME) ./device/scale/
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME) ./idnumber/
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./uplink/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./config/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./sim/

cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -o /dev/null ./cmd/hazgate
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -o /dev/null ./cmd/hazgate

# Benchmarks: ratios measured side by side in one run; see docs/benchmarks.md.
# BenchmarkDecisionLatency reports the decision time (last evidence in ->
# barrier command out) and one bare durable commit, p50/p99 and their ratios.
bench:
	$(GO) test -run '^$$' -bench 'DecisionLatency' -benchtime 2000x -count 3 ./record/
	$(GO) test -run '^$$' -bench 'DurableCommit|CommitInspection|Lookup' -benchtime 2000x -count 1 ./store/
	$(GO) test -run '^$$' -bench 'DecisionDuringPurge' -benchtime 2000x -count 2 ./store/
	$(GO) test -run '^$$' -bench 'RegistryMemory' -benchtime 1x -count 1 -v ./store/ | grep -E 'MiB|Benchmark'
	$(GO) test -run '^$$' -bench CardRead -benchtime 30x -count 3 ./sim/simreader/
	$(GO) test -run '^$$' -bench 'UplinkThroughput' -benchtime 20000x -count 3 ./uplink/
	$(GO) test -run '^$$' -bench 'BacklogDrain' -benchtime 1x -count 3 ./uplink/
	$(GO) test -run '^$$' -bench 'BridgeLoss' -benchtime 2000x -count 1 ./uplink/
	$(GO) test -run '^$$' -bench 'InspectionTime$$' -benchtime 1x -count 3 ./sim/
	$(GO) test -run '^$$' -bench 'InspectionTimeWaybillLookup' -benchtime 1x -count 3 ./sim/
	$(GO) test -run '^$$' -bench 'Footprint' -benchtime 1x -count 3 ./cmd/hazgate/
	$(GO) test -run '^$$' -bench 'RegistrySnapshotRSS' -benchtime 1x -count 3 ./uplink/
	$(GO) test -run '^$$' -bench 'RegistryImportRSS' -benchtime 1x -count 3 ./cmd/hazgate/
	$(GO) test -run '^$$' -bench 'RegistryDeltaDelete' -benchtime 1x -count 3 ./store/

dist:
	mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/hazgate-linux-arm64 ./cmd/hazgate
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/hazgate-linux-armv7 ./cmd/hazgate
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/hazgate-linux-amd64 ./cmd/hazgate
	ls -l dist

clean:
	rm -rf bin dist bench.out
