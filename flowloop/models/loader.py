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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowloop.models.base_model import resolve_model_name
from flowloop.models.registry import Registry
from flowloop.repo import FlowRepo
from flowloop.types import Message

BASE = "base"
CACHE_SIZE = 2
_cache: "OrderedDict[tuple[str, ...], LoadedModel]" = OrderedDict()


@dataclass
class LoadedModel:
    """A model in memory with its tokenizer; ``version`` is ``"base"`` or ``"vN"``.

    It answers the :class:`flowloop.inference.Model` protocol itself (the ``transformers``
    backend hands its calls through), so code holding a loaded model can score with it directly.
    """

    name = "transformers"
    model: Any
    tokenizer: Any
    version: str
    base_model: str
    device: str
    seed: int = 0
    batch_size: int = 8
    precision: str = "fp32"
    # The prompt length the model was trained with: longer prompts are trimmed the way training
    # trimmed them (``flowloop.models.fit``), so a model is asked what it learned to answer.
    max_length: int | None = None

    def _fitted(self, messages: list[Message], extra: int) -> list[Message]:
        if not self.max_length:
            return messages
        from flowloop.models.fit import fit_messages

        return fit_messages(messages, self.tokenizer, self.max_length, extra)

    def _encode(self, messages: list[Message], add_generation_prompt: bool) -> list[int]:
        encoded = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=add_generation_prompt, tokenize=True, return_dict=True
        )
        return list(encoded["input_ids"])

    def generate(self, messages: list[Message], max_new_tokens: int = 256) -> str:
        """The assistant's reply to ``messages`` (greedy decoding, special tokens removed)."""
        return self.generate_many([messages], max_new_tokens)[0]

    def generate_many(self, conversations: Sequence[list[Message]], max_new_tokens: int = 256) -> list[str]:
        """Greedy replies to several chats, ``batch_size`` at a time.

        Batching is what makes evaluation affordable on a CPU: a decoding step of a small model
        costs little more for 8 rows than for 1 (2.5x faster for 16 planning prompts in fp32, see
        ``benchmarks/evaluation.py``), so the suites send all their prompts at once. Prompts are
        left-padded; with an attention mask, fp32 greedy decoding answers exactly as one by one.
        """
        import torch

        encoded = [self._encode(self._fitted(m, max_new_tokens), add_generation_prompt=True) for m in conversations]
        # Longest first: rows of one batch have similar lengths, so little compute goes to padding.
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
        replies: list[str] = [""] * len(encoded)
        pad = self.tokenizer.pad_token_id
        step = max(1, self.batch_size)
        for start in range(0, len(order), step):
            rows = order[start : start + step]
            width = max(len(encoded[i]) for i in rows)
            ids = torch.tensor([[pad] * (width - len(encoded[i])) + encoded[i] for i in rows], device=self.device)
            mask = torch.tensor([[0] * (width - len(encoded[i])) + [1] * len(encoded[i]) for i in rows], device=self.device)
            texts = self._decode(ids, mask, max_new_tokens, self.seed, do_sample=False, temperature=None, top_p=None)
            for row, i in enumerate(rows):
                replies[i] = texts[row]
        return replies

    def _decode(self, ids: Any, mask: Any, max_new_tokens: int, seed: int, **decoding: Any) -> list[str]:
        """``model.generate`` on prepared rows (seeded), each reply decoded without its prompt."""
        import torch

        torch.manual_seed(seed)
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, top_k=None,
                                      pad_token_id=self.tokenizer.pad_token_id,
                                      eos_token_id=self.tokenizer.eos_token_id, **decoding)
        width = ids.shape[1]
        return [self.tokenizer.decode(row[width:], skip_special_tokens=True).strip() for row in out]

    def sample(self, messages: list[Message], max_new_tokens: int, n: int, *, seed: int = 0,
               temperature: float = 0.8, top_p: float = 0.95) -> list[str]:
        """``n`` sampled replies to one chat, decoded as one batch of ``n`` rows.

        One prompt, so no padding: the rows differ only by the random draws, which the seed fixes
        (the same seed, model and settings give the same drafts on the same machine)."""
        import torch

        if n < 1:
            return []
        ids = torch.tensor([self._encode(self._fitted(messages, max_new_tokens), add_generation_prompt=True)],
                           device=self.device)
        return self._decode(ids, torch.ones_like(ids), max_new_tokens, seed, do_sample=True, temperature=temperature,
                            top_p=top_p, num_return_sequences=n)

    def loglikelihood(
        self, prompt_messages: list[Message], completion_text: str, *, end_of_turn: bool = True
    ) -> tuple[float, int]:
        """Sum of log-probabilities of ``completion_text`` as the assistant's reply, and its token count.

        With ``end_of_turn`` (default) the completion is scored as the chat template renders an
        assistant turn, end-of-turn token included: the same tokens SFT and DPO train on, so a
        complete answer is scored as complete. ``end_of_turn=False`` scores a bare continuation
        (a prefix such as ``"VIOLATION"`` vs ``"OK"``).
        """
        return self.loglikelihood_many([(prompt_messages, completion_text)], end_of_turn=end_of_turn)[0]

    def loglikelihood_many(
        self, pairs: Sequence[tuple[list[Message], str]], *, end_of_turn: bool = True
    ) -> list[tuple[float, int]]:
        """:meth:`loglikelihood` of several (prompt, completion) pairs, ``batch_size`` per forward pass."""
        import torch

        sequences = [self._sequence(prompt, completion, end_of_turn) for prompt, completion in pairs]
        results: list[tuple[float, int]] = [(0.0, 0)] * len(sequences)
        todo = sorted((i for i, (full, start) in enumerate(sequences) if len(full) > start), key=lambda i: -len(sequences[i][0]))
        pad = self.tokenizer.pad_token_id
        step = max(1, self.batch_size)
        for begin in range(0, len(todo), step):
            rows = todo[begin : begin + step]
            width = max(len(sequences[i][0]) for i in rows)
            # Right padding: each row's real tokens keep positions 0..n-1, as when scored alone.
            ids = torch.tensor([sequences[i][0] + [pad] * (width - len(sequences[i][0])) for i in rows], device=self.device)
            mask = torch.tensor([[1] * len(sequences[i][0]) + [0] * (width - len(sequences[i][0])) for i in rows], device=self.device)
            with torch.inference_mode():
                logits = self.model(input_ids=ids, attention_mask=mask).logits
                for row, i in enumerate(rows):
                    full, start = sequences[i]
                    # Only the completion's positions: a softmax over the whole batch's vocabulary
                    # logits would take gigabytes for long prompts.
                    logprobs = torch.log_softmax(logits[row, start - 1 : len(full) - 1].float(), dim=-1)
                    picked = logprobs.gather(1, ids[row, start : len(full)].unsqueeze(1))
                    results[i] = (float(picked.sum().item()), len(full) - start)
        return results

    def _sequence(self, prompt_messages: list[Message], completion_text: str, end_of_turn: bool) -> tuple[list[int], int]:
        """Token ids of prompt + completion and the index where the completion starts."""
        completion = list(self.tokenizer(completion_text, add_special_tokens=False)["input_ids"])
        # +2: the end-of-turn tokens a complete reply is scored with.
        prompt_messages = self._fitted(prompt_messages, len(completion) + 2)
        prompt_ids = self._encode(prompt_messages, add_generation_prompt=True)
        if end_of_turn:
            full = self._encode([*prompt_messages, {"role": "assistant", "content": completion_text}], False)
            return full, _common_prefix(prompt_ids, full)
        return prompt_ids + completion, len(prompt_ids)


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
        base_name, adapter, name, max_length = settings.train.base_model, None, BASE, settings.train.max_length
    else:
        base_name, adapter, name = version.base_model, version.adapter_dir, version.version
        max_length = int((version.manifest.get("settings") or {}).get("max_length") or settings.train.max_length)
    base_path = resolve_model_name(base_name, settings)
    precision = inference_precision(settings.inference.precision)
    key = (str(base_path), str(adapter), name, str(settings.train.seed), precision, str(settings.inference.batch_size), str(max_length))
    if cached and key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    if settings.train.threads > 0:
        import torch

        torch.set_num_threads(settings.train.threads)
    loaded = _load(base_path, adapter, name, base_name, settings.train.seed, precision, settings.inference.batch_size)
    loaded.max_length = max_length
    if cached:
        _cache[key] = loaded
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


def inference_precision(requested: str) -> str:
    """``bf16`` or ``fp32`` for in-process inference; ``auto`` is bf16 on a bf16 GPU, fp32 on a CPU.

    On a CPU with AMX, bf16 weights generate 1.6-2x faster than fp32 at batch 8, but its
    rounding depends on the batch's shape: the same prompt in another batch can decode
    differently. Measured on the example (``benchmarks/evaluation.py``), that alone moved the
    base model's planning F1 by 0.04, as much as a small real improvement. A gate must compare
    models, not batch layouts, so a CPU stays exact (fp32) unless ``inference.precision = "bf16"``.
    """
    from flowloop.precision import cuda_bf16

    if requested in ("bf16", "fp32"):
        return requested
    return "bf16" if cuda_bf16() else "fp32"


def _load(base_path: Any, adapter_dir: Any, version: str, base_name: str, seed: int, precision: str, batch_size: int) -> LoadedModel:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # transformers would draw a tqdm bar per load
    device = "cuda" if torch.cuda.is_available() else "cpu"
    # Loaded in fp32 and cast after the adapter is merged: merging a LoRA delta into bf16 weights
    # would round it away where it is small.
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(adapter_dir or base_path)
    if adapter_dir is not None:
        from peft import PeftModel

        # Merged once at load: inference then runs at the base model's speed.
        model = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
    if precision == "bf16":
        model = model.to(torch.bfloat16)
    model = model.to(device)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, version=version, base_model=base_name,
                       device=device, seed=seed, batch_size=batch_size, precision=precision)
