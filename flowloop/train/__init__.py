"""The slow loop's trainer: SFT and DPO with TRL + PEFT LoRA; each run lands in the model registry.

Public entry points (each imports the training stack only when called):

- ``flowloop.train.api.train(repo, pass_name, ...)``: one pass, registered as ``vN`` in
  ``flowloop.models.registry.Registry(repo)`` (versions, ``current``, promote, rollback), from
  the base checkpoint of ``flowloop.models.base_model.resolve_base_model(settings)``.

Module map: ``sft.py`` / ``dpo.py`` (one runner per pass, named by its record in
``flowloop.passes.registry``), ``skeleton.py`` (the preamble every pass runs), ``common.py``
(model, LoRA, trainer arguments, registration), ``data.py`` (rows, thresholds, weights; ``flowloop.models.fit`` for max_length), ``runs.py``
(checkpoints and resume), ``device.py`` (CUDA/QLoRA/bf16 choices, memory estimate),
``callbacks.py`` (progress), ``launch.py`` (``accelerate launch`` of ``flowloop.cli.train_entry``).
"""
