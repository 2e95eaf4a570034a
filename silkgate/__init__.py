"""silkgate: a cross-border data gateway with a regulatory sandbox."""

from silkgate import _native  # noqa: F401  (first: picks compiled or source modules)
from silkgate.errors import SilkgateError

__version__ = "0.1.0"
__all__ = ["SilkgateError", "__version__"]
