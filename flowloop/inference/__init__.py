"""flowloop.inference: the one way to ask a model.

- :class:`Model` (``model.py``): the protocol every backend implements: generate and
  log-likelihood, one at a time and batched;
- ``registry.py``: the backend names (``transformers``, ``openai``, ``fake``) and
  :func:`get_model`; another backend is one :func:`register_backend` call;
- ``openai_client.py``: the one client of OpenAI-compatible servers;
- the built-in backends, one module each: ``transformers_backend`` (in process, the default),
  ``openai_backend`` (any OpenAI-compatible server: vLLM, Ollama, ``flow serve-model``) and
  ``fake`` (table-driven, for tests and dry runs). Each is imported only when first asked for.

This package sits below the dataset pipeline and the specialist, so anything that asks a model
(curation, ``flow ask``, evaluation) may import it. A team that serves its specialist with vLLM
points ``[inference] backend = "openai"`` and ``url`` at it and nothing else changes.
"""

from flowloop.inference.model import Model, Scored
from flowloop.inference.registry import BACKENDS, backend_names, get_model, register_backend, unregister_backend

__all__ = ["BACKENDS", "Model", "Scored", "backend_names", "get_model", "register_backend", "unregister_backend"]
