"""Line recognition: any CTC ONNX model (CRNN / SVTR family) plus its character dictionary.

Input N×3×H×W (H fixed by the model, W free), output N×T×C scores over C = blank + dictionary
(+ space when the dictionary leaves it out). Crops are sorted by aspect ratio and batched so that
little padding is computed; decoding is CTC greedy (argmax per timestep, merge repeats, drop
blanks) and keeps for each character its probability and timestep, which give word boxes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from inbox_ocr.kernel.errors import ConfigError, UnreadableDocument
from inbox_ocr.read.ocr.alphabet import SENTINEL_MIN, Head


@dataclass(frozen=True)
class RecognizerOptions:
    batch_size: int = 8
    min_width: int = 64  # PaddleOCR pads to 320; measured: same CER on sroie crops, 28% less time
    max_width: int = 3200  # wider crops are squeezed; bounds memory for absurd boxes
    # Prior on the space class: PP-OCR recognizers drop visible word gaps ("TEL : 07-55" read as
    # "TEL:07-55"); a blank frame is read as a space where the space's probability is at least
    # 1/space_boost of the blank's. Measured on sroie-dev ground-truth crops (case-folded CER): 1 -> 0.0274,
    # 5 -> 0.0227, 10 -> 0.0220, 20 -> 0.0217 (110 receipts not used to pick it).
    space_boost: float = 10.0


@dataclass(frozen=True)
class Recognition:
    """One recognized line: text, per-character confidences, and per-character horizontal
    positions as fractions (0..1) of the crop width (start, end)."""

    text: str
    char_confidences: tuple[float, ...]
    char_spans: tuple[tuple[float, float], ...]
    # timesteps won (probability >= alphabet.SENTINEL_MIN) by a Chinese or Japanese character that
    # the alphabet leaves out
    unread: int = 0

    @property
    def confidence(self) -> float:
        """Mean confidence of the characters other than spaces."""
        confs = [c for ch, c in zip(self.text, self.char_confidences, strict=True) if ch != " "]
        return float(np.mean(confs)) if confs else 0.0


def load_charset(session: ort.InferenceSession, dict_path: Path | None) -> list[str]:
    """Class labels of a CTC model: index 0 is the blank. The dictionary comes from `dict_path`
    (one character per line) or the model's `character` metadata; a trailing space class is
    added when the model has one more class than blank + dictionary (PaddleOCR's use_space_char)."""
    if dict_path is not None:
        try:
            chars = Path(dict_path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError("ocr", [f"ocr.rec_dict: cannot read {dict_path}: {exc.strerror}"]) from exc
    else:
        meta = session.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise ConfigError(
                "ocr", ["ocr.rec_dict: the recognizer has no 'character' metadata; give a dictionary file"]
            )
        chars = meta["character"].splitlines()
    bad = next(((n, c) for n, c in enumerate(chars, 1) if len(c) != 1), None)
    if bad is not None:
        # decoding, word boxes and confidences keep one entry per character
        raise ConfigError("ocr", [f"ocr.rec_dict: entry {bad[0]} is {bad[1]!r}; give one character per line"])
    classes = session.get_outputs()[0].shape[-1]
    labels = ["<blank>", *chars]
    if isinstance(classes, int):
        if classes == len(labels) + 1:
            labels.append(" ")
        elif classes != len(labels):
            raise ConfigError(
                "ocr",
                [
                    f"ocr.rec_dict: the model has {classes} classes, the dictionary gives {len(labels)}"
                ],
            )
    return labels


class TextRecognizer:
    """Recognizes line crops (RGB uint8, text running left to right) with a CTC model."""

    def __init__(
        self,
        session: ort.InferenceSession,
        labels: list[str],
        options: RecognizerOptions | None = None,
        allowed: list[int] | None = None,
        sentinels: list[int] | None = None,
        fallback: Head | None = None,
    ) -> None:
        """`allowed`: class indices the decoder may emit (None = all), for models whose output
        layer could not be cut to the alphabet. `sentinels`: classes that only detect a script
        the alphabet leaves out (never emitted); where one wins a timestep, the line is read with
        `fallback` from the features the session returns as its second output, or, without a
        fallback, counted in Recognition.unread."""
        self.session = session
        self.labels = labels
        self.options = options or RecognizerOptions()
        self.fallback = fallback
        self._space = labels.index(" ") if " " in labels else None
        self._fallback_space = fallback.labels.index(" ") if fallback and " " in fallback.labels else None
        self._blocked: np.ndarray | None = None
        if allowed is not None:
            self._blocked = np.ones(len(labels), dtype=bool)
            self._blocked[allowed] = False
        self._sentinels: np.ndarray | None = None
        if sentinels:
            self._sentinels = np.zeros(len(labels), dtype=bool)
            self._sentinels[sentinels] = True
        self.lines_read_again = 0  # lines read with the fallback head (for benchmarks and logs)
        inp = session.get_inputs()[0]
        self._input = inp.name
        self.height = inp.shape[2] if isinstance(inp.shape[2], int) else 48

    def __call__(self, crops: list[np.ndarray]) -> list[Recognition]:
        """One Recognition per crop, in the order given."""
        results: list[Recognition | None] = [None] * len(crops)
        ratios = [c.shape[1] / max(1, c.shape[0]) for c in crops]
        order = np.argsort(ratios, kind="stable")
        for idx in self._batches(order, ratios):
            batch, widths = self._batch([crops[i] for i in idx])
            try:
                outputs = self.session.run(None, {self._input: batch})
            except Exception as exc:
                raise UnreadableDocument(f"text recognition failed: {exc}") from exc
            scores, features = outputs[0], (outputs[1] if len(outputs) > 1 else None)
            for k, i in enumerate(idx):
                used = widths[k] / batch.shape[3]
                results[i] = self._read(scores[k], None if features is None else features[k], used)
        return [r for r in results if r is not None]

    def _read(self, scores: np.ndarray, features: np.ndarray | None, used: float) -> Recognition:
        """One crop's T×C scores (and T×D features) to a Recognition."""
        blocked = self._blocked
        unread = 0
        if self._sentinels is not None:
            unread = _sure_sentinels(scores, self._sentinels)
            if unread and self.fallback is not None and features is not None:
                self.lines_read_again += 1
                return self._decode(self.fallback.probabilities(features), used, self.fallback.labels,
                                    self._fallback_space)  # fmt: skip
            blocked = self._sentinels if blocked is None else blocked | self._sentinels
        if blocked is not None:
            scores = _mask(scores, blocked)
        rec = self._decode(scores, used, self.labels, self._space)
        return Recognition(rec.text, rec.char_confidences, rec.char_spans, unread) if unread else rec

    def _batches(self, order: np.ndarray, ratios: list[float]) -> list[list[int]]:
        """Consecutive runs of the width-sorted crops: at most batch_size crops, and at most
        batch_size × 1024 input columns, so a batch of very long lines stays small in memory."""
        budget = self.options.batch_size * 1024
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:
            width = max(self.options.min_width, min(self.options.max_width, self.height * ratios[i]))
            if current and (len(current) >= self.options.batch_size or (len(current) + 1) * width > budget):
                batches.append(current)
                current = []
            current.append(int(i))
        if current:
            batches.append(current)
        return batches

    def _batch(self, crops: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
        h = self.height
        widths = [
            min(self.options.max_width, max(1, math.ceil(h * c.shape[1] / max(1, c.shape[0])))) for c in crops
        ]
        # Pad to a multiple of 8 (the models' horizontal stride) to keep timesteps aligned.
        batch_w = max(self.options.min_width, int(math.ceil(max(widths) / 8) * 8))
        batch = np.zeros((len(crops), 3, h, batch_w), dtype=np.float32)
        for k, (crop, w) in enumerate(zip(crops, widths, strict=True)):
            resized = cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR)
            batch[k, :, :, :w] = resized.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0
        return batch, widths

    def _decode(self, scores: np.ndarray, used: float, labels: list[str], space_class: int | None) -> Recognition:
        """CTC greedy decoding of T×C scores over `labels`. `used` is the fraction of the input
        width that the crop occupies (the rest is padding), to map timesteps to positions in the crop."""
        logits = _is_logits(scores)
        best = scores.argmax(axis=1)
        boost = self.options.space_boost
        if space_class is not None and boost != 1.0:
            # a frame the model leaves blank becomes a word gap when the space is close enough
            # behind; frames that read a character are never overruled
            space, blank = scores[:, space_class], scores[:, 0]
            favoured = space + math.log(boost) > blank if logits else space * boost > blank
            best[(best == 0) & favoured] = space_class
        top = scores[np.arange(len(best)), best]
        if logits:
            # the probability of the chosen class only, without normalising all C classes for
            # every other one
            top = 1.0 / np.exp(scores - top[:, None]).sum(axis=1)
        steps = len(best)
        keep = best != 0
        keep[1:] &= best[1:] != best[:-1]
        text: list[str] = []
        confs: list[float] = []
        spans: list[tuple[float, float]] = []
        scale = 1.0 / (steps * used) if used > 0 else 0.0
        for t in np.flatnonzero(keep):
            label = int(best[t])
            if label >= len(labels):
                continue
            char = labels[label]
            if char == " " and (not text or text[-1] == " "):
                continue  # no leading or double spaces
            text.append(char)
            confs.append(float(top[t]))
            spans.append((min(1.0, t * scale), min(1.0, (t + 1) * scale)))
        if text and text[-1] == " ":
            del text[-1], confs[-1], spans[-1]
        return Recognition("".join(text), tuple(confs), tuple(spans))


def _sure_sentinels(scores: np.ndarray, sentinels: np.ndarray) -> int:
    """Timesteps won by a sentinel class with probability >= SENTINEL_MIN."""
    best = scores.argmax(axis=1)
    steps = np.flatnonzero(sentinels[best])
    if not steps.size:
        return 0
    won = scores[steps, best[steps]]
    if _is_logits(scores):
        won = 1.0 / np.exp(scores[steps] - won[:, None]).sum(axis=1)
    return int((won >= SENTINEL_MIN).sum())


def _is_logits(scores: np.ndarray) -> bool:
    """Softmax outputs are probabilities; a graph without a softmax gives raw logits."""
    return bool(scores.max(initial=0.0) > 1.0 or scores.min(initial=0.0) < 0.0)


def _mask(scores: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """The scores with the blocked classes removed: probabilities renormalized over the others (as
    a softmax over the kept classes alone would give), logits set to -inf."""
    if _is_logits(scores):
        return np.where(blocked, -np.inf, scores)
    kept = np.where(blocked, 0.0, scores).astype(np.float32)
    kept /= np.maximum(kept.sum(axis=1, keepdims=True), 1e-30)
    return kept
