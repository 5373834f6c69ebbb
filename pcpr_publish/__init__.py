"""pcpr: publish UK Public Charge Point Regulations 2023 open data as OCPI 2.2.1.

The library behind the ``pcpr`` command. The names below are its public entry point (see
docs/library.md); they are imported on first use, so ``import pcpr_publish`` stays cheap and
the modules below the package can take ``__version__`` from here without a cycle::

    from pcpr_publish import RunOptions, load_config, publish

    config = load_config("pcpr.toml")
    result = publish(["export.json"], "s3://bucket/opendata", config,
                     RunOptions(statuses="live.ndjson"))
    print(result.deployed.summary())
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS = {
    "Config": "pcpr_publish.config",
    "RunOptions": "pcpr_publish.config",
    "load_config": "pcpr_publish.config",
    "Publisher": "pcpr_publish.engine.publisher",
    "CycleResult": "pcpr_publish.engine.publisher",
    "build_site": "pcpr_publish.engine.publisher",
    "build": "pcpr_publish.commands.publish",
    "publish": "pcpr_publish.commands.publish",
    "load_input": "pcpr_publish.read",
    "build_dataset": "pcpr_publish.pipeline.dataset",
    "Dataset": "pcpr_publish.pipeline.dataset",
    "open_store": "pcpr_publish.stores",
    "Store": "pcpr_publish.stores",
    "Report": "pcpr_publish.notices",
    "Notice": "pcpr_publish.notices",
    "NOTICE_TYPES": "pcpr_publish.notices",
    "PcprError": "pcpr_publish.errors",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from pcpr_publish.commands.publish import build, publish  # noqa: F401
    from pcpr_publish.config import Config, RunOptions, load_config  # noqa: F401
    from pcpr_publish.engine.publisher import CycleResult, Publisher, build_site  # noqa: F401
    from pcpr_publish.errors import PcprError  # noqa: F401
    from pcpr_publish.notices import NOTICE_TYPES, Notice, Report  # noqa: F401
    from pcpr_publish.pipeline.dataset import Dataset, build_dataset  # noqa: F401
    from pcpr_publish.read import load_input  # noqa: F401
    from pcpr_publish.stores import Store, open_store  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pcpr_publish' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
