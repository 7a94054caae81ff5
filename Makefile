# The README's two commands are `make demo` and `make test`; everything they need is set up here.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLLECTION_LINK := .build/collections/ansible_collections/ocp/registry_access
export CLUSTER_DIR ?= $(CURDIR)/.cluster
export PORT_BASE ?= 16000
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help deps venv link sanity lint docs changelog-lint release-changelog cluster cluster-down cluster-status node node-down node-status oracles test bench-quick test-node test-unit test-differential test-reliability test-integration test-compat compat-venvs sanity-compat galaxy-import test-ansible-integration eda-check eda test-eda demo-namespaces demo bench clean

help:
	@echo "make demo      run the seed's whole story on a local cluster"
	@echo "make test      every test suite and quality gate (what CI runs)"
	@echo "make venv | cluster | cluster-down | cluster-status | node | node-down | test-unit | test-differential | test-node | test-integration | bench"
	@echo "make eda       the EDA rulebook on the local cluster (make test-eda: its tests)"

# Debian packages: the registry pull test's (tests/helpers/registry.py), sanity's shellcheck and the
# test node's container runtime (tests/node);
# installed only if missing.
deps:
	@for bin in /usr/bin/docker-registry /usr/bin/skopeo /usr/bin/htpasswd /usr/bin/shellcheck \
	    /usr/bin/containerd /usr/sbin/runc; do \
	  test -x $$bin || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    docker-registry skopeo apache2-utils shellcheck containerd runc; \
	fi

venv: $(VENV)/.stamp link

# Reinstalled only when the pinned requirements change.
$(VENV)/.stamp: requirements-dev.txt requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# ansible_collections/ocp/registry_access -> this checkout, for ansible.cfg and the tests.
link:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn ../../../.. $(COLLECTION_LINK)

cluster: venv
	$(BIN)/python tests/cluster/cluster.py up

cluster-down:
	$(PYTHON) tests/cluster/cluster.py down

cluster-status:
	$(PYTHON) tests/cluster/cluster.py status

# Fast gates first, the suites against the cluster last (CI's log ends with pytest's summary).
test: venv deps cluster test-unit test-differential lint docs changelog-lint galaxy-import sanity-compat test-compat test-ansible-integration bench-quick test-reliability test-node test-eda test-integration

test-unit: venv
	$(BIN)/pytest tests/unit -q -p no:cacheprovider \
	  --cov=ansible_collections.ocp.registry_access.plugins.module_utils --cov-report=term-missing --cov-fail-under=90

# A real node (kubelet + containerd) joined to the local cluster: tests/node/node.py.
node: venv deps cluster
	$(BIN)/python tests/node/node.py up

node-down:
	$(PYTHON) tests/node/node.py down

node-status:
	$(PYTHON) tests/node/node.py status

# Pods on the real node, one at a time; the node is torn down whatever happens.
test-node: venv deps cluster
	$(BIN)/python tests/node/node.py run -- $(BIN)/pytest tests/node_tests -q -p no:cacheprovider

# The kubelet's and containers/image's own credential lookup, built from Go modules and cached like
# the cluster (tests/oracle/README.md); the differential suite compares the collection's model with them.
oracles:
	bash tests/oracle/build.sh

test-differential: venv oracles
	ORACLE_BIN_DIR="$$(bash tests/oracle/build.sh | tail -1)" $(BIN)/pytest tests/differential -q -p no:cacheprovider

# Load, faults (on a dedicated cluster it starts and removes), bad input, no leak, no one let in: docs/reliability.md.
test-reliability: venv cluster
	$(BIN)/pytest tests/reliability -q -p no:cacheprovider

test-integration: deps venv cluster
	$(BIN)/pytest tests/integration -q -p no:cacheprovider -n 2 --dist loadgroup --ansible-host-pattern localhost

# Event-Driven Ansible (extensions/eda): ansible-rulebook (pinned in requirements-dev.txt) runs on Java 17
# or later (drools_jpy); nothing is installed here, the check says what is missing.
eda-check: venv
	@java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || { echo "ansible-rulebook needs Java 17 or later;" \
	  "java -version says: $$(java -version 2>&1 | head -1 || echo 'no java')" \
	  "(Debian: apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
	@$(BIN)/ansible-rulebook --version | grep -E '^ansible-rulebook|Java version'

# The rulebook ocp.registry_access.watch_and_enforce on the local cluster with the demo declaration:
# a full reconcile first, then every namespace created or drifted is enforced (Ctrl-C stops it).
EDA_VARS := .build/eda-vars.yml
eda: eda-check cluster demo-namespaces
	@printf 'registry_access_declaration: %s\nregistry_access_exclude_namespaces: [kube-*]\n' \
	  "$(CURDIR)/playbooks/vars/demo.yml" > $(EDA_VARS)
	K8S_AUTH_KUBECONFIG=$(CLUSTER_DIR)/kubeconfig $(BIN)/ansible-rulebook -r ocp.registry_access.watch_and_enforce \
	  -i tests/inventory/localhost.yml -e $(EDA_VARS) -v

# A real ansible-rulebook process against the local cluster (and one of its own, .cluster-eda, ports 27xxx).
test-eda: venv eda-check cluster
	$(BIN)/pytest tests/eda_tests -q -p no:cacheprovider

# ansible-test needs the collection at ansible_collections/ocp/registry_access outside any other
# git work tree: a fresh copy of the files git would ship, in a temporary directory.
SANITY_ROOT ?= $(or $(TMPDIR),/tmp)/ocp-registry-access-sanity
SANITY_TREE := $(SANITY_ROOT)/ansible_collections/ocp/registry_access
SANITY_ANSIBLE_TEST ?= $(CURDIR)/$(BIN)/ansible-test
SANITY_PYTHON ?= --python 3.11
# The pip each ansible-test bootstraps into its venvs (2.19: 24.2, sanity-compat's 2.16: 23.1.2, 2.21: 25.2).
GET_PIP_CACHE := $(foreach v,24_2 23_1_2 25_2,$(HOME)/.ansible/test/cache/get_pip_$(v).py)

sanity: venv deps
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_TREE)
	$(call copy_tree,$(SANITY_TREE))
	for f in $(GET_PIP_CACHE); do test -f $$f || { mkdir -p $$(dirname $$f) && cp tests/sanity/get_pip.py $$f; }; done
	cd $(SANITY_TREE) && $(SANITY_ANSIBLE_TEST) sanity $(SANITY_PYTHON) --requirements --color no

# The files git would ship, copied (timestamps kept) to $(1).
copy_tree = git ls-files -co --exclude-standard | grep -vxF -f <(git ls-files -d; echo /) | \
	  xargs -d '\n' cp --parents --preserve=timestamps -t $(1)/

# Every supported ansible-core (tests/compat/matrix.txt, docs/compatibility.md), each in a venv of its own
# cached outside the checkout (~/.cache/ocp-registry-access/venvs), all built at once: the unit tests and
# the smoke run (every module in check mode and for real, the demo playbook) on each, COMPAT_JOBS at a time.
COMPAT := $(PYTHON) tests/compat/compat.py
COMPAT_JOBS ?= 3
compat-venvs:
	$(COMPAT) venv $$($(COMPAT) minors) galaxy-importer >/dev/null

test-compat: venv cluster compat-venvs
	$(COMPAT) test --jobs $(COMPAT_JOBS)

# ansible-test sanity on the oldest and the newest ansible-core of the matrix, both at once, each in a
# tree of its own under SANITY_ROOT; their logs in .build/sanity-<minor>.log.
sanity-compat: venv deps compat-venvs
	@mkdir -p .build; pids=(); minors=($$($(COMPAT) oldest) $$($(COMPAT) newest)); \
	for minor in $${minors[@]}; do venv="$$($(COMPAT) venv $$minor 2>/dev/null)"; \
	  $(MAKE) -s sanity SANITY_ROOT=$(SANITY_ROOT)-$$minor SANITY_ANSIBLE_TEST=$$venv/bin/ansible-test \
	    SANITY_PYTHON="--python-interpreter $$venv/bin/python" >.build/sanity-$$minor.log 2>&1 & pids+=($$!); done; \
	status=0; for i in $${!minors[@]}; do \
	  if wait $${pids[$$i]}; then echo "sanity-compat: ansible-core $${minors[$$i]} passed"; \
	  else status=1; echo "sanity-compat: ansible-core $${minors[$$i]} FAILED:"; \
	    grep -E '^(ERROR|FATAL)' .build/sanity-$${minors[$$i]}.log || tail -40 .build/sanity-$${minors[$$i]}.log; fi; \
	done; exit $$status

# Galaxy's import check (galaxy-importer, pinned) on the built tarball; fails on any warning.
galaxy-import: venv compat-venvs
	bash tests/compat/galaxy-import.sh

# ansible-test's entry point (tests/integration/targets, docs/testing.md): one target, run by ansible-test
# itself from a tree at ansible_collections/ocp/registry_access that uses this checkout's venv and cluster
# (symbolic links: ansible-test passes runme.sh only its own environment variables).
ANSIBLE_TEST_TARGET ?= smoke
INTEGRATION_ROOT ?= $(or $(TMPDIR),/tmp)/ocp-registry-access-integration
INTEGRATION_TREE := $(INTEGRATION_ROOT)/ansible_collections/ocp/registry_access
test-ansible-integration: venv cluster
	rm -rf $(INTEGRATION_ROOT) && mkdir -p $(INTEGRATION_TREE)
	$(call copy_tree,$(INTEGRATION_TREE))
	ln -s $(CURDIR)/.venv $(CURDIR)/.build $(INTEGRATION_TREE)/ && ln -s $(CLUSTER_DIR) $(INTEGRATION_TREE)/.cluster
	cd $(INTEGRATION_TREE) && $(CURDIR)/$(BIN)/ansible-test integration $(ANSIBLE_TEST_TARGET) --local --color no

# The seed's story on the local cluster; a second run reports no change.
DEMO_NAMESPACES := project-a project-b
demo-namespaces: cluster
	@kubectl="$$(bash tests/cluster/build.sh)/kubectl --kubeconfig $(CLUSTER_DIR)/kubeconfig"; \
	for ns in $(DEMO_NAMESPACES); do \
	  $$kubectl get namespace $$ns >/dev/null 2>&1 || $$kubectl create namespace $$ns >/dev/null; done

demo: venv cluster demo-namespaces
	$(BIN)/ansible-playbook playbooks/demo.yml -e registry_access_kubeconfig=$(CLUSTER_DIR)/kubeconfig \
	  -e audit_report_dir=$(CURDIR)/reports | tee .build/demo.log
	@echo
	@echo "== Demo summary =="
	@grep -E "^localhost +:" .build/demo.log | sed 's/^/play recap: /'
	@echo "Audit report: $(CURDIR)/reports (JSON and Markdown)"
	@echo "Inspect the cluster: $$(bash tests/cluster/build.sh)/kubectl --kubeconfig $(CLUSTER_DIR)/kubeconfig get secrets,rolebindings -n project-a"

lint: venv
	$(BIN)/ansible-lint

MODULES := $(basename $(notdir $(wildcard plugins/modules/*.py)))
docs: venv
	$(BIN)/ansible-doc $(addprefix ocp.registry_access.,$(MODULES)) >/dev/null
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs $(COLLECTION_LINK)

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

# At release: fold the fragments into CHANGELOG.md.
release-changelog: venv
	$(BIN)/antsibull-changelog release

# The scale benchmark (design §7, docs/benchmarks.md): N = 10 to 10,000, under an hour; a venv of its
# own with kubernetes.core for the comparison, a cluster of its own (.cluster-bench, ports 36xxx,
# removed at the end). BENCH_ARGS='--sizes 10 --reps 1' for a quick check, BENCH_ARGS=--full for no sampling.
BENCH_VENV := .venv-bench
BENCH_ARGS ?=
bench: $(BENCH_VENV)/.stamp link
	$(BENCH_VENV)/bin/python benchmarks/bench.py $(BENCH_ARGS)

# make test's check that the benchmark still runs: N = 10 once, the loops (b) and (c) over 3 of them (90 s on
# a quiet machine, 44 s of it benchmarks/event_bench.py --quick), on a cluster of its own
# (.cluster-bench-quick, ports 37xxx, so a make bench may run beside it); results and page in .build.
BENCH_QUICK := .build/bench-quick
bench-quick: $(BENCH_VENV)/.stamp link
	BENCH_CLUSTER_DIR=$(CURDIR)/.cluster-bench-quick BENCH_PORT_BASE=37000 $(BENCH_VENV)/bin/python benchmarks/bench.py \
	  --sizes 10 --reps 1 --sample b=3,c=3 --results-dir $(BENCH_QUICK) --docs $(BENCH_QUICK)/benchmarks.md

$(BENCH_VENV)/.stamp: benchmarks/requirements-bench.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r benchmarks/requirements-bench.txt
	touch $@

clean:
	rm -rf .build tests/output .pytest_cache
