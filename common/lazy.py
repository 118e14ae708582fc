"""Keras, imported the first time a script uses it rather than when the script starts.

Importing Keras loads TensorFlow: several seconds, and a few lines of its logging. A
script that only prints its --help, or stops at a bad flag or a missing file, never
needs it. The training scripts therefore write

    from common.lazy import keras, layers

where a standalone script would write `import keras` and `from keras import layers`;
the names behave the same, and TensorFlow loads when the first model is built. In
your own code, use the plain imports.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

# TensorFlow's C++ start-up messages (INFO and WARNING; errors still show), unless the
# user chose a level. Must be set before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def lazy_import(name: str) -> ModuleType:
    """The module `name`, loaded on first attribute access (importlib's LazyLoader)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


class _Attribute:
    """`keras.layers` and the like, looked up on the module when first used."""

    def __init__(self, module: ModuleType, name: str) -> None:
        self._module, self._name = module, name

    def __getattr__(self, attribute: str) -> object:
        return getattr(getattr(self._module, self._name), attribute)


keras = lazy_import("keras")
layers = _Attribute(keras, "layers")
