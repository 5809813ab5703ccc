"""Load the base model or a registered specialist for inference and scoring (contract 4).

``load_specialist(repo, "base" | "current" | "vN")`` returns a :class:`LoadedModel` with the two
calls every consumer needs: ``generate`` (greedy, so answers are reproducible) and
``loglikelihood`` (what the eval suites score options and preference pairs with). A version
loads its own base model (the one its manifest names, resolved offline like training does) and
its adapter, merged into the weights for speed; its tokenizer comes from the adapter folder,
so the chat template and EOS token are exactly the ones it was trained with. ``"current"``
with nothing promoted is the base model (``version == "base"``): the loop compares against
whatever is in use, and before any promotion that is the base.

The last ``CACHE_SIZE`` loaded models are kept per process (versions and the converted base
are immutable once written), so an eval run, the gate and ``flow loop`` that ask for the same
model several times load it once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flowloop.repo import FlowRepo
from flowloop.train.base_model import resolve_model_name
from flowloop.train.registry import Registry

Message = dict[str, str]
BASE = "base"
CACHE_SIZE = 2
_cache: "OrderedDict[tuple[str, ...], LoadedModel]" = OrderedDict()


@dataclass
class LoadedModel:
    """A model in memory with its tokenizer; ``version`` is ``"base"`` or ``"vN"``."""

    model: Any
    tokenizer: Any
    version: str
    base_model: str
    device: str
    seed: int = 0

    def _encode(self, messages: list[Message], add_generation_prompt: bool) -> list[int]:
        encoded = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=add_generation_prompt, tokenize=True, return_dict=True
        )
        return list(encoded["input_ids"])

    def generate(self, messages: list[Message], max_new_tokens: int = 256) -> str:
        """The assistant's reply to ``messages`` (greedy decoding, special tokens removed)."""
        import torch

        ids = torch.tensor([self._encode(messages, add_generation_prompt=True)], device=self.device)
        torch.manual_seed(self.seed)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )
        return self.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip()

    def loglikelihood(
        self, prompt_messages: list[Message], completion_text: str, *, end_of_turn: bool = True
    ) -> tuple[float, int]:
        """Sum of log-probabilities of ``completion_text`` as the assistant's reply, and its token count.

        With ``end_of_turn`` (default) the completion is scored as the chat template renders an
        assistant turn, end-of-turn token included: the same tokens SFT and DPO train on, so a
        complete answer is scored as complete. ``end_of_turn=False`` scores a bare continuation
        (a prefix such as ``"VIOLATION"`` vs ``"OK"``).
        """
        import torch

        prompt_ids = self._encode(prompt_messages, add_generation_prompt=True)
        if end_of_turn:
            full = self._encode([*prompt_messages, {"role": "assistant", "content": completion_text}], False)
            start = _common_prefix(prompt_ids, full)
        else:
            completion = self.tokenizer(completion_text, add_special_tokens=False)["input_ids"]
            full, start = prompt_ids + list(completion), len(prompt_ids)
        n_tokens = len(full) - start
        if n_tokens <= 0:
            return 0.0, 0
        ids = torch.tensor([full], device=self.device)
        with torch.inference_mode():
            logits = self.model(input_ids=ids).logits[0, :-1].float()
        logprobs = torch.log_softmax(logits, dim=-1)
        targets = ids[0, 1:]
        picked = logprobs.gather(1, targets.unsqueeze(1)).squeeze(1)[start - 1 :]
        return float(picked.sum().item()), n_tokens


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return max(n, 1)


def load_specialist(repo: FlowRepo, which: str = "current", *, cached: bool = True) -> LoadedModel:
    """``"base"``, ``"current"`` (the promoted version, else the base), ``"latest"`` or ``"vN"``.

    ``cached=False`` always loads a fresh copy (e.g. to modify it).
    """
    which = (which or "current").strip().lower()
    settings = repo.settings
    version = None
    if which == "current":
        version = Registry(repo).current()
    elif which != BASE:
        version = Registry(repo).get(which)
    if version is None:
        base_name, adapter, name = settings.train.base_model, None, BASE
    else:
        base_name, adapter, name = version.base_model, version.adapter_dir, version.version
    base_path = resolve_model_name(base_name, settings)
    key = (str(base_path), str(adapter), name, str(settings.train.seed))
    if cached and key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    if settings.train.threads > 0:
        import torch

        torch.set_num_threads(settings.train.threads)
    loaded = _load(base_path, adapter, name, base_name, settings.train.seed)
    if cached:
        _cache[key] = loaded
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


def _load(base_path: Any, adapter_dir: Any, version: str, base_name: str, seed: int) -> LoadedModel:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # transformers would draw a tqdm bar per load
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=dtype).to(device)
    tokenizer = AutoTokenizer.from_pretrained(adapter_dir or base_path)
    if adapter_dir is not None:
        from peft import PeftModel

        # Merged once at load: inference then runs at the base model's speed.
        model = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, version=version, base_model=base_name,
                       device=device, seed=seed)
