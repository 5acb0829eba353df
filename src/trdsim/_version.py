"""The installed package's version, in a leaf module so that anything may read it
without importing the package face (and with it the whole package)."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("trdsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
