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

.PHONY: all build test unit race test386 cross fuzz lint bench dist soak clean

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
# BenchmarkInspectionTime runs the scan flow (floor 21 s) and the waybill found
# by plate (floor 16 s) interleaved: scan/floor, plate/floor and plate/scan.
bench:
	$(GO) test -run '^$$' -bench 'DecisionLatency' -benchtime 2000x -count 3 ./record/
	$(GO) test -run '^$$' -bench 'DurableCommit|CommitInspection|Lookup' -benchtime 2000x -count 1 ./store/
	$(GO) test -run '^$$' -bench 'DecisionDuringPurge' -benchtime 2000x -count 2 ./store/
	$(GO) test -run '^$$' -bench 'RegistryMemory' -benchtime 1x -count 1 -v ./store/ | grep -E 'MiB|Benchmark'
	$(GO) test -run '^$$' -bench CardRead -benchtime 30x -count 3 ./sim/simreader/
	$(GO) test -run '^$$' -bench 'UplinkThroughput' -benchtime 20000x -count 3 ./uplink/
	$(GO) test -run '^$$' -bench 'BacklogDrain' -benchtime 1x -count 3 ./uplink/
	$(GO) test -run '^$$' -bench 'BridgeLoss' -benchtime 2000x -count 1 ./uplink/
	$(GO) test -run '^$$' -bench 'Fleet' -benchtime 1x -count 1 ./uplink/
	$(GO) test -run '^$$' -bench 'InspectionTime$$' -benchtime 1x -count 3 ./sim/
	$(GO) test -run '^$$' -bench 'InspectionTimeWaybillLookup' -benchtime 1x -count 3 ./sim/
	$(GO) test -run '^$$' -bench 'Footprint$$' -benchtime 1x -count 3 ./cmd/hazgate/
	$(GO) test -run '^$$' -bench 'FootprintImport' -benchtime 1x -count 3 ./cmd/hazgate/
	$(GO) test -run '^$$' -bench 'FootprintRun' -benchtime 1x -count 3 ./cmd/hazgate/
	$(GO) test -run '^$$' -bench 'RegistrySnapshotRSS' -benchtime 1x -count 3 ./uplink/
	$(GO) test -run '^$$' -bench 'RegistryImportRSS' -benchtime 1x -count 3 ./cmd/hazgate/
	$(GO) test -run '^$$' -bench 'RegistryDeltaDelete' -benchtime 1x -count 3 ./store/

# The long SIGKILL test: hazgate sim killed at random moments while it
# writes, SOAK_CYCLES times (make test does 30); after each kill the
# database's integrity, its audit chain and every committed inspection are
# checked (docs/benchmarks.md, "Crash safety").
SOAK_CYCLES ?= 3000

soak:
	HAZGATE_KILL_CYCLES=$(SOAK_CYCLES) $(GO) test -count=1 -timeout 0 -v -run '^TestSIGKILLDuringWrites$$' ./cmd/hazgate/

# Release tarballs, one per DIST_ARCHS: hazgate-VERSION-linux-ARCH.tar.gz
# holding hazgate-VERSION-linux-ARCH/ with the binary (VERSION from git
# stamped in), firmware-config/, VERSION, SHA256SUMS (sha256sum -c) and
# SHA256SUMS.sig, an Ed25519 signature over the list by RELEASE_KEY (a
# private key from `hazgate keygen`). dist/SHA256SUMS(.sig) list the
# tarballs. Without RELEASE_KEY a development key is made once in
# DEV_RELEASE_KEY.key and used, and make says so: no gate should trust it.
# `hazgate release verify` and `hazgate update` check a tarball
# (docs/install.md).
DIST            ?= dist
DIST_ARCHS      ?= arm64 armv7 amd64
RELEASE_KEY     ?=
DEV_RELEASE_KEY ?= .dev-release-key/DEV-ONLY-NOT-FOR-GATES

dist:
	@set -e; rm -rf $(DIST); mkdir -p $(DIST); \
	signer=$(DIST)/.hazgate-signer; \
	$(GO) build -trimpath -o $$signer ./cmd/hazgate; \
	key='$(RELEASE_KEY)'; \
	if [ -z "$$key" ]; then \
	  key='$(DEV_RELEASE_KEY).key'; \
	  if [ ! -f "$$key" ]; then mkdir -p $$(dirname '$(DEV_RELEASE_KEY)'); $$signer keygen -out '$(DEV_RELEASE_KEY)' >/dev/null; fi; \
	  cp '$(DEV_RELEASE_KEY).pub' $(DIST)/DEV-ONLY-release-key.pub; \
	  echo "make dist: no RELEASE_KEY given: signed with the DEVELOPMENT key $$key ($(DIST)/DEV-ONLY-release-key.pub); no gate should trust it"; \
	fi; \
	for a in $(DIST_ARCHS); do \
	  case $$a in armv7) goarch=arm; goarm=7;; arm64|amd64) goarch=$$a; goarm=;; *) echo "make dist: unknown arch $$a (arm64, armv7, amd64)"; exit 1;; esac; \
	  name=hazgate-$(VERSION)-linux-$$a; d=$(DIST)/$$name; mkdir -p $$d; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$goarch GOARM=$$goarm $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$d/hazgate ./cmd/hazgate; \
	  cp -R firmware-config $$d/; echo '$(VERSION)' > $$d/VERSION; \
	  (cd $$d && find . -type f ! -name 'SHA256SUMS*' | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS); \
	  $$signer release sign -key "$$key" $$d/SHA256SUMS >/dev/null; \
	  tar -C $(DIST) --owner=0 --group=0 --numeric-owner -czf $(DIST)/$$name.tar.gz $$name; \
	  rm -rf $$d; \
	done; \
	(cd $(DIST) && sha256sum *.tar.gz > SHA256SUMS); \
	$$signer release sign -key "$$key" $(DIST)/SHA256SUMS >/dev/null; \
	rm -f $$signer; \
	ls -l $(DIST)

clean:
	rm -rf bin dist bench.out
