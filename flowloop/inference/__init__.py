"""flowloop.inference: the one way to ask a model.

- :class:`Model` (``model.py``): the protocol every backend implements: generate and
  log-likelihood, one at a time and batched;
- ``registry.py``: the backend names (``transformers``, ``openai``, ``fake``) and
  :func:`get_model`; another backend is one :func:`register_backend` call;
- ``openai_client.py``: the one client of OpenAI-compatible servers.

The implementations live with what they wrap (``flowloop.specialist.backends`` for the in-process
and served specialist, ``flowloop.evaluate.fake`` for the table-driven fake) and are imported
only when first asked for.
"""

from flowloop.inference.model import Model, Scored
from flowloop.inference.registry import BACKENDS, backend_names, get_model, register_backend, unregister_backend

__all__ = ["BACKENDS", "Model", "Scored", "backend_names", "get_model", "register_backend", "unregister_backend"]
