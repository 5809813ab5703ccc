"""The reward classifier's forward pass in torch alone, for a cold ``flow validate``.

Why: a fresh ``flow validate`` spent more of its time importing transformers (which drags in
torch's dynamo, distributed and sympy modules) than scoring (``benchmarks/validate_latency.py``).
The merged reward checkpoint of a Llama-family base model (SmolLM2, the default) is a plain
decoder with a two-class head, a dozen torch calls per layer: weights come straight out of
``model.safetensors`` (memory-mapped by ``safetensors``), tokenization is the checkpoint's own
``tokenizer.json`` (the ``tokenizers`` library, as transformers' fast tokenizer uses it), and the
layers follow transformers' ``LlamaForSequenceClassification``: RMSNorm in float32, rotary
embeddings computed in float32 and cast, grouped-query SDPA attention (causal), SwiGLU MLP, the
head read at each row's last non-pad token. Parity with transformers is tested; a checkpoint this
module does not run (:func:`supports` says no) loads through transformers instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WEIGHTS = "model.safetensors"


def _config(model_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _rope_theta(config: dict[str, Any]) -> float | None:
    """The rotary base of a default (unscaled) rope, in either config spelling; None otherwise."""
    params = config.get("rope_parameters") or config.get("rope_scaling") or {}
    kind = params.get("rope_type", params.get("type", "default"))
    if kind != "default":
        return None
    return float(params.get("rope_theta", config.get("rope_theta", 10000.0)))


def supports(model_dir: Path) -> bool:
    """True when ``model_dir`` is a Llama sequence classifier this module computes exactly."""
    config = _config(model_dir)
    if config is None or not (model_dir / WEIGHTS).is_file() or not (model_dir / "tokenizer.json").is_file():
        return False
    return (config.get("model_type") == "llama"
            and "LlamaForSequenceClassification" in (config.get("architectures") or [])
            and config.get("hidden_act") == "silu" and not config.get("attention_bias")
            and not config.get("mlp_bias") and int(config.get("pretraining_tp", 1)) == 1
            and _rope_theta(config) is not None and config.get("pad_token_id") is not None)


class LlamaClassifier:
    """A merged Llama reward checkpoint: token ids per text and class logits per batch of ids."""

    def __init__(self, model_dir: Path, dtype: Any) -> None:
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        config = _config(model_dir)
        assert config is not None and supports(model_dir), model_dir
        self.model_dir, self.dtype = model_dir, dtype
        self.device = torch.device("cpu")  # the GPU path stays with transformers
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.kv_heads = int(config.get("num_key_value_heads") or self.heads)
        self.hidden = int(config["hidden_size"])
        self.head_dim = int(config.get("head_dim") or self.hidden // self.heads)
        self.eps = float(config["rms_norm_eps"])
        self.pad_token_id = int(config["pad_token_id"])
        theta = _rope_theta(config)
        assert theta is not None
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.int64).float() / self.head_dim))
        # the checkpoint was saved in the scoring dtype; a cast is a no-op then
        self.w = {k: v.to(dtype) for k, v in load_file(str(model_dir / WEIGHTS)).items()}
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    def token_ids(self, texts: list[str], max_length: int) -> list[list[int]]:
        """Each text's ids, cut to ``max_length`` from the right (as the training tokenizer does)."""
        return [e.ids[:max_length] for e in self.tokenizer.encode_batch(texts)]

    def _norm(self, x: Any, name: str) -> Any:
        import torch

        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.w[name] * h.to(x.dtype)

    def _rotary(self, length: int) -> tuple[Any, Any]:
        import torch

        freqs = torch.outer(torch.arange(length, dtype=torch.float32), self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(self.dtype), emb.sin().to(self.dtype)

    def logits(self, rows: list[list[int]]) -> Any:
        """Float32 class logits, one row per id list (right-padded with the pad token)."""
        import torch
        import torch.nn.functional as F

        w, batch, length = self.w, len(rows), max(len(r) for r in rows)
        ids = torch.full((batch, length), self.pad_token_id, dtype=torch.int64)
        for n, row in enumerate(rows):
            ids[n, :len(row)] = torch.tensor(row, dtype=torch.int64)
        cos, sin = self._rotary(length)
        half = self.head_dim // 2

        def rotate(t: Any) -> Any:
            turned = torch.cat((-t[..., half:], t[..., :half]), dim=-1)
            return t * cos + turned * sin

        with torch.inference_mode():
            x = w["model.embed_tokens.weight"][ids]
            for i in range(self.layers):
                p = f"model.layers.{i}."
                h = self._norm(x, p + "input_layernorm.weight")
                q = F.linear(h, w[p + "self_attn.q_proj.weight"]).view(batch, length, self.heads, self.head_dim)
                k = F.linear(h, w[p + "self_attn.k_proj.weight"]).view(batch, length, self.kv_heads, self.head_dim)
                v = F.linear(h, w[p + "self_attn.v_proj.weight"]).view(batch, length, self.kv_heads, self.head_dim)
                q, k, v = rotate(q.transpose(1, 2)), rotate(k.transpose(1, 2)), v.transpose(1, 2)
                if self.kv_heads != self.heads:
                    k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
                    v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
                # padding sits at the right end: causal attention alone keeps it out of real tokens
                attn = F.scaled_dot_product_attention(q, k, v, is_causal=length > 1, scale=self.head_dim ** -0.5)
                x = x + F.linear(attn.transpose(1, 2).reshape(batch, length, -1), w[p + "self_attn.o_proj.weight"])
                h = self._norm(x, p + "post_attention_layernorm.weight")
                gated = F.silu(F.linear(h, w[p + "mlp.gate_proj.weight"])) * F.linear(h, w[p + "mlp.up_proj.weight"])
                x = x + F.linear(gated, w[p + "mlp.down_proj.weight"])
            x = self._norm(x, "model.norm.weight")
            # transformers reads the head at the rightmost token that is not the pad token
            positions = torch.arange(length)
            last = (positions * (ids != self.pad_token_id)).argmax(-1)
            pooled = x[torch.arange(batch), last]
            return F.linear(pooled, w["score.weight"]).float()
