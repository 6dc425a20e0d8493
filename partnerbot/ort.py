"""The embedding model run by ONNX Runtime: the same MiniLM weights, exported once to an ONNX file (float32).

Why: on two CPU cores PyTorch needs ~13 ms to embed one short question and ONNX Runtime ~4 ms, with the same
vectors (cosine >= 0.9999 to sentence-transformers' output, checked in tests/test_embed.py). The export needs
torch and the onnx package and runs once per weights file: the result is kept in the cache folder under the
weights' sha256, so later processes start without importing torch at all.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_file(cache_dir: Path, weights_sha256: str) -> Path:
    return Path(cache_dir).expanduser() / f"minilm-{weights_sha256[:16]}.onnx"


def export(model_folder: Path, target: Path) -> Path:
    """Write the transformer (without pooling) as ONNX with dynamic batch and sequence axes; atomic."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_folder), local_files_only=True).eval()
    sample = AutoTokenizer.from_pretrained(str(model_folder), local_files_only=True)(
        ["a short text", "a somewhat longer second text"], padding=True, return_tensors="pt")

    class Hidden(torch.nn.Module):  # positional inputs, one output: what the exporter traces cleanly
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "hidden")}
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about constants that hold for BERT with a full mask
            torch.onnx.export(Hidden(model), tuple(sample[name] for name in INPUTS), str(tmp), input_names=list(INPUTS),
                              output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False)
        os.replace(tmp, target)  # concurrent exporters each write their own tmp; the last rename wins
    finally:
        tmp.unlink(missing_ok=True)
    return target


class OnnxEncoder:
    """Tokenise, run the exported transformer, mean-pool over real tokens, normalise: sentence-transformers'
    Transformer → Pooling(mean) → Normalize pipeline of all-MiniLM-L6-v2."""

    def __init__(self, model_folder: Path, model_file: Path, threads: int = 0):
        import onnxruntime
        from tokenizers import Tokenizer

        config = json.loads((model_folder / "sentence_bert_config.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(model_folder / "tokenizer.json"))
        # tokenizer.json pads and truncates to a fixed 128; sentence-transformers pads to the batch's longest
        # text and truncates at max_seq_length (256), so do the same
        self.tokenizer.enable_truncation(int(config.get("max_seq_length", 256)))
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # similar lengths share a batch
        out: list[np.ndarray | None] = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in rows])
            feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
            hidden = self.session.run(None, feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            for row, vector in zip(rows, pooled):
                out[row] = vector
        return np.stack(out)
