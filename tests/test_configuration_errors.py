"""An unreadable configuration is a one-line error naming the file, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pcpr_publish.config import load_config
from pcpr_publish.errors import ConfigError


def test_unreadable_config_is_a_one_line_error(tmp_path: Path) -> None:
    cfg = tmp_path / "pcpr.toml"
    cfg.write_bytes(b"[publish]\nmax_age = 1\n")
    cfg.chmod(0)
    import os

    if os.geteuid() == 0:  # root reads anything: use a folder named like the file instead
        cfg.unlink()
        cfg.mkdir()
        (cfg / "x").write_text("")
    with pytest.raises(ConfigError):
        load_config(str(cfg), env={})
