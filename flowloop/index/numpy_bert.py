"""A numpy forward pass of a BERT sentence-transformers checkpoint (MiniLM and kin).

Why: ``flow context`` runs cold on every agent prompt that has no warm server, and importing torch
plus sentence-transformers alone costs seconds. A 6-layer, 384-wide encoder over one short query
is a few milliseconds of matrix products, so the cold path embeds with numpy: weights are
memory-mapped straight out of ``model.safetensors`` (only the pages a query touches are read),
text is tokenized with the checkpoint's own ``tokenizer.json`` (the ``tokenizers`` library), and
the output is mean-pooled and L2-normalized exactly like the sentence-transformers pipeline
``Transformer -> Pooling(mean) -> Normalize``. Parity with sentence-transformers is tested.
"""

from __future__ import annotations

import json
import struct
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowloop.errors import ModelNotFoundError

if TYPE_CHECKING:
    import numpy as np

_DTYPES = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}


@lru_cache(maxsize=8)
def supports(model_dir: Path) -> bool:
    """True when ``model_dir`` is a BERT encoder with mean pooling this module can run."""
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if config.get("model_type") != "bert" or config.get("position_embedding_type", "absolute") != "absolute":
        return False
    if config.get("hidden_act") != "gelu" or not (model_dir / "model.safetensors").is_file():
        return False
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k not in {"Transformer", "Pooling", "Normalize"} for k in kinds):
        return False
    try:
        dtypes = {info["dtype"] for name, info in _header(model_dir / "model.safetensors")[0].items() if name != "__metadata__"}
    except (OSError, ValueError, KeyError, struct.error):
        return False
    if not dtypes <= {"F32", "I64"}:
        return False  # half-precision checkpoints go to sentence-transformers
    pooling_dir = next((m.get("path", "") for m in modules if m.get("type", "").endswith("Pooling")), "")
    try:
        pooling = json.loads((model_dir / pooling_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(pooling.get("pooling_mode_mean_tokens")) and not any(
        pooling.get(key) for key in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
    )


def _header(path: Path) -> tuple[dict[str, Any], int]:
    """The JSON header of a safetensors file and the offset where its data starts."""
    with path.open("rb") as fh:
        (header_len,) = struct.unpack("<Q", fh.read(8))
        return json.loads(fh.read(header_len)), 8 + header_len


def _mmap_safetensors(path: Path) -> dict[str, "np.ndarray"]:
    """Tensors of a safetensors file as read-only memory maps (no copy, lazy page-in)."""
    import numpy as np

    header, base = _header(path)
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]])
        # A plain ndarray view (not np.memmap): arithmetic on it then yields plain arrays.
        tensors[name] = raw[base + start : base + end].view(np.ndarray).view(dtype).reshape(info["shape"])
    return tensors


def _erf(x: "np.ndarray") -> "np.ndarray":
    """Error function, max abs error 1.5e-7 (Abramowitz & Stegun 7.1.26): below float32 noise."""
    import numpy as np

    sign = np.sign(x)
    # erf(6) is 1 in float32; clipping keeps exp(-a*a) out of the (very slow) subnormal range.
    a = np.minimum(np.abs(x), np.float32(6.0))
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


class NumpyBertEncoder:
    """Sentence embeddings from a BERT checkpoint folder, computed with numpy only."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        self.model_dir = model_dir
        try:
            config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
            st_config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(f"cannot read the model configuration: {exc}", path=model_dir) from exc
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_seq_length = int(st_config.get("max_seq_length", 256))
        self.dim = self.hidden
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)
        w = _mmap_safetensors(model_dir / "model.safetensors")
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
        # Weights stay memory-mapped in their stored [out, in] layout: ``x @ W.T`` hands the
        # transposed view to BLAS as is, so loading copies nothing and a query reads only the
        # pages it touches.
        self._w = {k[len(prefix) :]: v for k, v in w.items() if k.startswith(prefix)}

    # -- layers -------------------------------------------------------------------------------
    def _ln(self, x: "np.ndarray", name: str) -> "np.ndarray":
        import numpy as np

        mean = x.mean(axis=-1, keepdims=True)
        var = np.square(x - mean).mean(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self._w[name + ".weight"] + self._w[name + ".bias"]

    def _forward(self, ids: "np.ndarray", mask: "np.ndarray") -> "np.ndarray":
        import numpy as np

        batch, length = ids.shape
        w = self._w
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = self._ln(x.astype(np.float32), "embeddings.LayerNorm")
        head_dim = self.hidden // self.heads
        # Padding keys get a large negative bias so they take no attention weight.
        bias = ((1.0 - mask[:, None, None, :]) * -1e9).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(head_dim))

        def dense(inputs: "np.ndarray", name: str) -> "np.ndarray":
            flat = inputs.reshape(-1, inputs.shape[-1]) @ w[name + ".weight"].T + w[name + ".bias"]
            return flat.reshape(*inputs.shape[:-1], -1)

        def heads(t: "np.ndarray") -> "np.ndarray":
            return t.reshape(batch, length, self.heads, head_dim).transpose(0, 2, 1, 3)

        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = heads(dense(x, p + "attention.self.query"))
            k = heads(dense(x, p + "attention.self.key"))
            v = heads(dense(x, p + "attention.self.value"))
            ctx = np.empty((batch, self.heads, length, head_dim), dtype=np.float32)
            # One 2-D product per (sequence, head): numpy's stacked matmul does not reach BLAS.
            for b in range(batch):
                for h in range(self.heads):
                    scores = (q[b, h] @ k[b, h].T) * scale + bias[b, 0]
                    # Floor at -80: exp stays a normal float (subnormals are ~100x slower on x86);
                    # a weight of e^-80 is zero for every practical purpose.
                    scores = np.exp(np.maximum(scores - scores.max(axis=-1, keepdims=True), np.float32(-80.0)))
                    scores /= scores.sum(axis=-1, keepdims=True)
                    np.matmul(scores, v[b, h], out=ctx[b, h])
            ctx = ctx.transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            x = self._ln(x + dense(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            inter = dense(x, p + "intermediate.dense")
            inter = (0.5 * inter * (1.0 + _erf(inter * np.float32(0.7071067811865476)))).astype(np.float32)
            x = self._ln(x + dense(inter, p + "output.dense"), p + "output.LayerNorm")
        return x

    # -- public -------------------------------------------------------------------------------
    def token_count(self, text: str) -> int:
        """Tokens of ``text`` without the special tokens or truncation (for budgets)."""
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: list[str], batch_size: int = 32) -> "np.ndarray":
        """Unit-length float32 embeddings, one row per text. Batches are length-sorted."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        from threadpoolctl import threadpool_limits

        # One BLAS thread: these products are small, and OpenBLAS's worker threads cost more
        # than they save on them (seconds instead of milliseconds when the cores are busy).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._encode(texts, batch_size)

    def _encode(self, texts: list[str], batch_size: int) -> "np.ndarray":
        import numpy as np

        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                seq = encodings[i].ids
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1.0
            hidden = self._forward(ids, mask)
            pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[chunk] = pooled
        return out

    def describe(self) -> dict[str, Any]:
        return {"backend": "numpy", "model": str(self.model_dir), "dim": self.dim}
