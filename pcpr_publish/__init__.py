"""pcpr: publish UK Public Charge Point Regulations 2023 open data as OCPI 2.2.1."""

__version__ = "0.1.0"
