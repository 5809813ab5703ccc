"""Using the specialist: ask it, serve it (loading it is ``flowloop.models.loader``).

- ``flowloop.specialist.ask.ask(repo, question, role, model)``: the role's prompt + context pack;
- ``flowloop.specialist.completions``: text completions with log-probabilities for the server;
- ``flowloop.specialist.server.create_app``: the OpenAI-compatible endpoint of ``flow serve-model``;
- ``flowloop.specialist.validate.validate``: ``flow validate``, the reward model as a scoring gate
  on plans and diff hunks (units in ``units.py``, output formats in ``validate_formats.py``).
- ``flowloop.specialist.validate.score_plans``: plan texts scored by the promoted reward model
  (as ``flow validate --plan`` scores one), best first by ``.ranking``: what plan ranking calls.
"""
