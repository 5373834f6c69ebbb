"""Configuration: the typed ``pcpr.toml`` model and how it is loaded (see docs/configuration.md)."""

from pcpr_publish.config.model import (
    DEFAULT_PATH,
    BuildConfig,
    Config,
    OperatorConfig,
    PublishConfig,
    S3Config,
    SiteConfig,
    load_config,
)

__all__ = ["DEFAULT_PATH", "BuildConfig", "Config", "OperatorConfig", "PublishConfig", "S3Config",
           "SiteConfig", "load_config"]
