"""The bulk embedder: the same BERT forward pass as ``numpy_bert``, in torch, without
sentence-transformers or transformers.

Why: a cold ``flow index`` spent about half its wall time importing sentence-transformers (which
pulls in all of transformers) and loading the model through it, before embedding a single chunk.
This pass needs torch alone: the weights come straight out of ``model.safetensors`` (read with
``numpy_bert``'s reader), tokenization is the checkpoint's ``tokenizer.json``, and the layers are
a dozen torch calls (SDPA attention with a padding mask, exact-erf GELU). bf16 where the CPU has
it natively (AMX/AVX512-BF16: the matrix products run on it), float32 otherwise. Batches are
sorted by token count, so padding is small. Output: mean-pooled over real tokens in float32,
L2-normalized, as ``Transformer -> Pooling(mean) -> Normalize``; parity with sentence-transformers
and with the numpy pass is tested. Only checkpoints ``numpy_bert.supports`` accepts come here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowloop.index.numpy_bert import NumpyBertEncoder, _mmap_safetensors
from flowloop.precision import cpu_bf16_native

if TYPE_CHECKING:
    import numpy as np

# Tokens per forward pass, not texts: a batch of short chunks holds more of them (AMX tiles fill
# up with large products) and a batch of window-long ones stays within cache-friendly sizes.
TOKENS_PER_BATCH = 16_384


class TorchBertEncoder:
    """Sentence embeddings from a BERT checkpoint folder with torch only (bulk builds)."""

    def __init__(self, model_dir: Path, precision: str = "auto") -> None:
        import torch

        config = NumpyBertEncoder(model_dir)  # reads and checks the configuration and tokenizer
        self.model_dir = model_dir
        self.layers, self.heads, self.hidden, self.eps = config.layers, config.heads, config.hidden, config.eps
        self.dim = config.dim
        self.tokenizer = config.tokenizer
        if precision == "auto":
            precision = "bfloat16" if cpu_bf16_native() else "float32"
        self.precision = precision
        self.dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
        # Copied once into torch tensors of the compute dtype (the numpy maps are read-only); the
        # embedding tables and their LayerNorm stay float32 (a lookup, and the scale of all that
        # follows). Layer norms inside run in the compute dtype: torch accumulates them in float32.
        self._w: dict[str, Any] = {}
        for name, array in config._w.items():
            tensor = torch.from_numpy(array.copy())
            keep = name.startswith("embeddings.") or tensor.dtype == torch.int64
            self._w[name] = tensor if keep else tensor.to(self.dtype)

    def _forward(self, ids: Any, mask: Any) -> Any:
        import torch
        import torch.nn.functional as F

        w = self._w
        batch, length = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = F.layer_norm(x, (self.hidden,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        x = x.to(self.dtype)
        # Padding keys take no attention; a batch without padding (common, as batches are
        # length-sorted) passes no mask, which lets SDPA take its fused kernel.
        keys = None if bool(mask.all()) else mask[:, None, None, :].to(torch.bool)
        head_dim = self.hidden // self.heads

        def dense(t: Any, name: str) -> Any:
            return F.linear(t, w[name + ".weight"], w[name + ".bias"])

        def norm(t: Any, name: str) -> Any:
            return F.layer_norm(t, (self.hidden,), w[name + ".weight"], w[name + ".bias"], self.eps)

        def heads(t: Any) -> Any:
            return t.view(batch, length, self.heads, head_dim).transpose(1, 2)

        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q, k, v = (heads(dense(x, p + f"attention.self.{n}")) for n in ("query", "key", "value"))
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=keys)
            ctx = ctx.transpose(1, 2).reshape(batch, length, self.hidden)
            x = norm(x + dense(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            inter = F.gelu(dense(x, p + "intermediate.dense"))  # exact (erf) GELU, as BERT's "gelu"
            x = norm(x + dense(inter, p + "output.dense"), p + "output.LayerNorm")
        return x

    def token_count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: list[str], batch_size: int = 32) -> "np.ndarray":
        """Unit-length float32 embeddings, one row per text (``batch_size`` is a floor: batches
        are sized by tokens, see ``TOKENS_PER_BATCH``)."""
        import numpy as np
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        start = 0
        with torch.inference_mode():
            while start < len(order):
                # sorted ascending, so the last text of a batch is its longest
                end = start + 1
                while end < len(order) and (end - start + 1) * len(encodings[order[end]].ids) <= max(
                        TOKENS_PER_BATCH, batch_size * len(encodings[order[end]].ids)):
                    end += 1
                chunk = order[start:end]
                length = len(encodings[chunk[-1]].ids)
                ids = torch.zeros((len(chunk), length), dtype=torch.int64)
                mask = torch.zeros((len(chunk), length), dtype=torch.float32)
                for row, i in enumerate(chunk):
                    seq = encodings[i].ids
                    ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.int64)
                    mask[row, : len(seq)] = 1.0
                hidden = self._forward(ids, mask).float()
                pooled = (hidden * mask[:, :, None]).sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp_min(1e-9)
                pooled = pooled / pooled.norm(dim=1, keepdim=True).clamp_min(1e-12)
                out[chunk] = pooled.numpy()
                start = end
        return out

    def describe(self) -> dict[str, Any]:
        return {"backend": "torch", "model": str(self.model_dir), "dim": self.dim, "precision": self.precision}
