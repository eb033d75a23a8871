# `sam build` builds each function of template.yaml here (Metadata: BuildMethod: makefile):
# it runs build-<LogicalId> with ARTIFACTS_DIR set, and `sam deploy` zips that directory.
# Every function gets the same package, build_zip.py's, unpacked file for file, so what SAM
# deploys is what `python build_zip.py` builds and tests. Its target is build_zip.py's
# options, which must match the template's parameters, e.g. for Graviton:
#   SPAM_BUILD_ZIP_ARGS="--arch arm64" sam build --parameter-overrides Architecture=arm64
# The recipe works in this file's directory, so it does not matter where make runs
# (samconfig.toml has `sam build` run it in place instead of in a copy of the repository).

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
PYTHON ?= $(firstword $(wildcard $(ROOT)/.venv/bin/python) python3)
SPAM_BUILD_ZIP_ARGS ?=
BUILD_ZIP = "$(PYTHON)" build_zip.py $(SPAM_BUILD_ZIP_ARGS)
FUNCTIONS := SpamFunction LearnerFunction ArchiveShardFunction ArchiveSummaryFunction

.PHONY: $(FUNCTIONS:%=build-%)
$(FUNCTIONS:%=build-%):
	@test -n "$(ARTIFACTS_DIR)" || { echo "make $@: ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 2; }
	cd "$(ROOT)" && $(BUILD_ZIP) >&2 && \
	    package="$$($(BUILD_ZIP) --show-outputs | awk '$$1 == "package" { print $$2 }')" && \
	    "$(PYTHON)" -m zipfile -e "$$package" "$(abspath $(ARTIFACTS_DIR))"
