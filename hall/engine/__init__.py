"""The pure hall engine.

projection.py is also compiled to C with mypyc when the package is installed (setup.py).
The Python source is imported instead while the compiled copy is older than the source (an
edit not yet rebuilt by ``scripts/bootstrap``), or when LOBBY_PURE_PYTHON=1 (profiling,
comparing the two).
"""

import importlib.util
import logging
import os
import sys
from pathlib import Path

PURE_PYTHON_ENV = "LOBBY_PURE_PYTHON"
COMPILED = ("projection",)

logger = logging.getLogger(__name__)


def _import_source_if_needed(name: str) -> None:
    source = Path(__file__).with_name(f"{name}.py")
    built = list(source.parent.glob(f"{name}.*.so"))
    if not built:
        return
    stale = max(p.stat().st_mtime for p in built) < source.stat().st_mtime
    if not stale and os.environ.get(PURE_PYTHON_ENV) != "1":
        return
    if stale:
        logger.warning("%s is older than %s: using the Python source until the next install",
                       built[0].name, source.name)
    spec = importlib.util.spec_from_file_location(f"{__name__}.{name}", source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    globals()[name] = module


for _name in COMPILED:
    _import_source_if_needed(_name)
