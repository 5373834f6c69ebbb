"""A publish that stops part-way leaves nothing the next run trusts wrongly: publish X, stop a
publish of Y during the per-location uploads, publish X again, and the target holds X exactly."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from publish_helpers import sample, write_export

from pcpr_publish.commands.publish import run
from pcpr_publish.config import Config, RunOptions
from pcpr_publish.deploy.manifest import PENDING_KEY
from pcpr_publish.errors import TargetError
from pcpr_publish.stores.local import LocalStore
from pcpr_publish.stores.memory import MemoryStore


def _config(tmp_path: Path) -> Config:
    return Config.model_validate({"publish": {"max_export_age": 0, "workers": 1},
                                  "build": {"report": str(tmp_path / "report.json")}})


def _snapshot(store: MemoryStore) -> dict[str, bytes]:
    return {k: v[0] for k, v in store.objects.items()}


def test_a_revert_after_an_interrupted_publish_restores_every_file(tmp_path: Path) -> None:
    x = sample(30)
    # Many locations change, each file keeping its size (so a listing cannot tell).
    y = copy.deepcopy(x)
    for site in y["sites"][:25]:
        site["name"] = site["name"].swapcase()
    x_path = write_export(tmp_path / "x.json", x)
    y_path = write_export(tmp_path / "y.json", y)
    store = MemoryStore()
    cfg = _config(tmp_path)

    run(x_path, "memory://t", cfg, RunOptions(), store=store)
    published_x = _snapshot(store)

    # Stop the publish of Y after some of its per-location files were written.
    y_keys = sorted(k for k, v in _site_of(y_path, cfg).items()
                    if k.startswith("locations/") and k.endswith(".json") and published_x.get(k) != v)
    assert len(y_keys) >= 12
    store.fail_on = {y_keys[9]}
    with pytest.raises(TargetError):
        run(y_path, "memory://t", cfg, RunOptions(), store=store)
    store.fail_on = set()
    assert any(store.read(k) != published_x[k] for k in y_keys[:9])  # some of Y is out there
    assert store.read(PENDING_KEY) is not None

    result = run(x_path, "memory://t", cfg, RunOptions(), store=store)
    assert result.deployed is not None and result.deployed.uploaded > 0
    assert _snapshot(store) == published_x  # every file holds X again; no pending list left


def _site_of(path: str, cfg: Config) -> dict[str, bytes]:
    from pcpr_publish.engine.publisher import build_site
    from pcpr_publish.pipeline.dataset import build_dataset
    from pcpr_publish.read import load_input

    loaded = load_input([path])
    ds = build_dataset(loaded.export, source=loaded.path)
    return {k: f.body for k, f in build_site(ds, cfg).items()}


def test_a_first_build_that_was_killed_is_still_pcpr_s_folder(tmp_path: Path) -> None:
    """A killed first build leaves files and a pending list but no manifest: the next build
    takes the folder over instead of refusing it as 'not made by pcpr'."""
    out = tmp_path / "site"
    (out / "_pcpr").mkdir(parents=True)
    (out / "_pcpr" / "pending.json").write_bytes(b'{"format":"pcpr-pending/1","keys":["tariffs.json"]}')
    (out / "tariffs.json").write_bytes(b"{}")
    LocalStore(out).check_ours("_pcpr/manifest.json")  # no error
    path = write_export(tmp_path / "x.json", sample(5))
    result = run(path, str(out), _config(tmp_path), RunOptions(guards=False))
    assert result.deployed is not None
    assert not (out / "_pcpr" / "pending.json").exists()
    assert (out / "_pcpr" / "manifest.json").is_file()
