"""The slow loop's trainer: SFT and DPO with TRL + PEFT LoRA, and the model registry.

Public entry points (each imports the training stack only when called):

- ``flowloop.train.api.train(repo, "sft" | "dpo", ...)``: one pass, registered as ``vN``;
- ``flowloop.train.registry.Registry(repo)``: versions, ``current``, promote, rollback;
- ``flowloop.train.base_model.resolve_base_model(settings)``: the base checkpoint, offline.

Module map: ``sft.py`` / ``dpo.py`` (one pass each, top to bottom), ``common.py`` (what they
share), ``data.py`` + ``fit.py`` (rows, thresholds, weights, max_length), ``runs.py``
(checkpoints and resume), ``device.py`` (CUDA/QLoRA/bf16 choices, memory estimate),
``callbacks.py`` (progress), ``launch.py`` + ``entry.py`` (``accelerate launch``).
"""
