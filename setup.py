"""Install-time build: hall/engine/projection.py compiled to C with mypyc (the same source).

The projection is the inner loop of the simulator's estimates and of the status page; the
compiled module runs it about 1.7 times as fast. The build is optional: without a C
compiler (or mypy) the Python module is used, and hall/engine/__init__.py prefers the
source over a compiled copy older than it.
"""

import logging
import sys

from setuptools import Extension, setup

COMPILED = ["hall/engine/projection.py"]
MYPY_FLAGS = ["--config-file=", "--ignore-missing-imports", "--follow-imports=silent"]


def compiled_extensions() -> list[Extension]:
    try:
        from mypyc.build import mypycify

        extensions: list[Extension] = mypycify([*MYPY_FLAGS, *COMPILED], opt_level="3")
    except (Exception, SystemExit) as error:  # mypyc exits on a type error
        logging.getLogger(__name__).warning("not compiling the projection: %s", error)
        return []
    for extension in extensions:
        extension.optional = True  # a failed C build leaves the Python module in use
    return extensions


# pip runs this file once for the metadata (dist_info, egg_info) and once for the build:
# mypyc's analysis only for the build (it took as long as the C compile, twice over).
METADATA_ONLY = {"dist_info", "egg_info", "sdist"}
setup(ext_modules=[] if METADATA_ONLY & set(sys.argv[1:2]) else compiled_extensions())
