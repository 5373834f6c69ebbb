"""Configuration: the typed ``pcpr.toml`` model and how it is loaded (see docs/configuration.md)."""

from pcpr_publish.config.model import (
    DEFAULT_PATH,
    BuildConfig,
    Config,
    OperatorConfig,
    PublishConfig,
    S3Config,
    SiteConfig,
    StateConfig,
    load_config,
)
from pcpr_publish.config.options import Progress, RunOptions

__all__ = ["DEFAULT_PATH", "BuildConfig", "Config", "OperatorConfig", "PublishConfig", "S3Config",
           "SiteConfig", "StateConfig", "Progress", "RunOptions", "load_config"]
