"""Using the specialist: load it, ask it, serve it.

- ``flowloop.specialist.loader.load_specialist(repo, "base" | "current" | "vN")``: a model with
  ``generate`` and ``loglikelihood`` (what eval scores with);
- ``flowloop.specialist.ask.ask(repo, question, role, model)``: the role's prompt + context pack;
- ``flowloop.specialist.completions``: text completions with log-probabilities for the server;
- ``flowloop.specialist.server.create_app``: the OpenAI-compatible endpoint of ``flow serve-model``.
"""
