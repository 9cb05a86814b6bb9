# Visage: `make run` serves on 127.0.0.1:8080, `make test` runs every test.
# Both run scripts/setup first, which installs whatever is missing and is quick when nothing is.

SWIFT_FLAGS = $(shell cat .native-flags 2>/dev/null)

.PHONY: setup build run test clean

setup:
	@scripts/setup

build: setup
	swift build -c release $(SWIFT_FLAGS)
	scripts/convert-models

run: build
	.build/release/visage serve

test: setup
	scripts/test

clean:
	rm -rf .build
