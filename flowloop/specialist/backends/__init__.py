"""The specialist's inference backends, one module each: in process (``transformers_backend``)
or any OpenAI-compatible server (``openai_backend``).

A team that serves its specialist with vLLM or Ollama points ``[inference] backend = "openai"``
and ``url`` at it and nothing else changes. Both implement :class:`flowloop.inference.Model` and
are registered by name in :mod:`flowloop.inference.registry`, the one list of backend names;
ask for one with :func:`flowloop.inference.get_model`.
"""
