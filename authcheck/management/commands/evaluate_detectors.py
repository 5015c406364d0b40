"""``python manage.py evaluate_detectors DIR``: how well detectors tell real from synthetic.

DIR holds ``real/`` and ``synthetic/`` (any depth). Files named ``<name>__<transform>.<ext>``
are transformed copies; the survival rate of each transformation is the share of those copies
on which the detector still fires. Prints, per detector, ROC-AUC and TPR at 1% and 5% FPR with
95% bootstrap intervals, the false positive rate on real/ (the share of real files on which the
detector gives its positive label) with a 95% bootstrap interval that resamples source photographs
(from DIR's ``manifest.json`` when there is one, else each file is its own source), and writes a
ROC plot (PNG). Nothing is stored in the database.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.detectors.base import DetectorContext
from authcheck.detectors.runner import run_detector
from authcheck.errors import AuthcheckError
from authcheck.evaluation import figures, rate_interval, roc_curve
from authcheck.limits import ffmpeg_limits
from authcheck.pipeline import frames, hashing, probe
from authcheck.pipeline import metadata as metadata_stage
from authcheck.pipeline.verdict import INDICATOR_LABELS
from authcheck.registry import detectors_enabled

from ._output import fail, print_json


def _context(path: Path) -> DetectorContext:
    sniffed = hashing.sniff(path)
    limits = ffmpeg_limits()
    probed = probe.probe(path, sniffed.kind, limits).to_dict()
    sampled = frames.sample_frames(path, sniffed.kind, probed, limits=limits)
    sha, _ = hashing.hash_file(path)
    return DetectorContext(
        path=path,
        sha256=sha,
        mime=sniffed.mime,
        kind=sniffed.kind,
        probe=probed,
        frames=sampled,
        metadata=metadata_stage.read(path),
    )


def _sources(root: Path) -> dict[Path, str]:
    """Resolved file path -> source photograph, from the nearest manifest.json at or above root
    (a ``views/<category>`` directory links into its set)."""
    for folder in (root, *root.resolve().parents[:2]):
        manifest = folder / "manifest.json"
        if manifest.is_file():
            items = json.loads(manifest.read_text("utf-8")).get("items", [])
            return {
                (folder / i["path"]).resolve(): str(i.get("source_photo") or i["path"])
                for i in items
            }
    return {}


def _transform_of(path: Path) -> str:
    return path.stem.split("__", 1)[1] if "__" in path.stem else "original"


# A detector "fires" when it gives the label that the verdict rules (or, for the weak context
# detector, its documentation) treat as a positive finding: its own documented threshold.
FIRING_LABELS = INDICATOR_LABELS | {"ai_declared", "generator_like_profile"}


def _fires(label: str) -> bool:
    return label in FIRING_LABELS


class Command(BaseCommand):
    help = "Evaluate the configured detectors on DIR/real and DIR/synthetic."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--plot", type=Path, default=None, help="ROC plot path (default DIR/roc.png)"
        )
        parser.add_argument("--bootstrap", type=int, default=1000)
        parser.add_argument("--json", action="store_true")
        parser.add_argument(
            "--scores", type=Path, default=None, help="also write every per-file score (JSON lines)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root: Path = options["directory"]
        files = {
            label: sorted(p for p in (root / sub).rglob("*") if p.is_file())
            for label, sub in ((0, "real"), (1, "synthetic"))
        }
        if not files[0] or not files[1]:
            fail(self, f"evaluate_detectors: {root} needs files in real/ and synthetic/")
        rows = self._score_all(files)
        sources = _sources(root)
        for items in rows.values():
            for row in items:
                row["source"] = sources.get(Path(row["file"]).resolve(), row["file"])
        if options["scores"]:
            with open(options["scores"], "w") as out:
                for name, items in rows.items():
                    for row in items:
                        out.write(json.dumps({"detector": name, **row}) + "\n")
        results = self._summarise(rows, options["bootstrap"])
        plot = options["plot"] or root / "roc.png"
        self._plot(rows, plot)
        if options["json"]:
            print_json(self, {"detectors": results, "plot": str(plot)})
            return
        self._print(results, plot)

    def _score_all(self, files: dict[int, list[Path]]) -> dict[str, list[dict[str, Any]]]:
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for label, paths in files.items():
            for path in paths:
                try:
                    ctx = _context(path)
                except AuthcheckError as exc:
                    self.stderr.write(f"skipped {path}: {exc}")
                    continue
                for detector in detectors_enabled():
                    if ctx.kind not in detector.media_kinds:
                        continue
                    signal = run_detector(detector, ctx)
                    rows[detector.name].append(
                        {
                            "label": label,
                            "score": signal.score,
                            "transform": _transform_of(path),
                            "fires": _fires(signal.label),
                            "signal_label": signal.label,
                            "strength": str(signal.evidence.get("strength") or ""),
                            "file": str(path),
                            "error": signal.error,
                        }
                    )
        return rows

    @staticmethod
    def _summarise(rows: dict[str, list[dict[str, Any]]], rounds: int) -> list[dict[str, Any]]:
        out = []
        for name, items in rows.items():
            labels = [r["label"] for r in items]
            if len(set(labels)) < 2:
                continue
            fig = figures(name, labels, [r["score"] for r in items], rounds=rounds)
            survival: dict[str, list[bool]] = defaultdict(list)
            for r in items:
                if r["label"] == 1:
                    survival[r["transform"]].append(r["fires"])
            real = [r for r in items if r["label"] == 0]
            fpr = rate_interval([r["fires"] for r in real], [r["source"] for r in real],
                                rounds=rounds)  # fmt: skip
            out.append(
                {
                    "detector": name,
                    "n_real": fig.n_real,
                    "n_synthetic": fig.n_synthetic,
                    "auc": vars(fig.auc),
                    "tpr_at_1pct_fpr": vars(fig.tpr_at_1),
                    "tpr_at_5pct_fpr": vars(fig.tpr_at_5),
                    "false_alarm_rate": fpr.value,
                    "false_positive_rate_real": vars(fpr),
                    "real_sources": len({r["source"] for r in real}),
                    "real_abstain_rate": sum(r["score"] is None for r in real) / len(real),
                    "survival": {t: round(sum(v) / len(v), 3) for t, v in sorted(survival.items())},
                    "errors": sum(1 for r in items if r["error"]),
                }
            )
        return out

    @staticmethod
    def _plot(rows: dict[str, list[dict[str, Any]]], path: Path) -> None:
        import matplotlib  # only this command draws

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        from authcheck.evaluation import ABSTAIN_SCORE

        fig, ax = plt.subplots(figsize=(6, 6))
        for name, items in rows.items():
            labels = np.array([r["label"] for r in items])
            if labels.min() == labels.max():
                continue
            scores = np.array([ABSTAIN_SCORE if r["score"] is None else r["score"] for r in items])
            fpr, tpr = roc_curve(labels, scores)
            ax.plot(fpr, tpr, label=name)
        ax.plot([0, 1], [0, 1], "k:", label="chance")
        ax.set(
            xlabel="false positive rate",
            ylabel="true positive rate",
            title="authcheck detectors (generated evaluation set)",
        )
        ax.legend(loc="lower right")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
        plt.close(fig)

    @staticmethod
    def _interval(d: dict[str, float]) -> str:
        return f"{d['value']:.3f} [{d['low']:.3f}, {d['high']:.3f}]"

    def _print(self, results: list[dict[str, Any]], plot: Path) -> None:
        for r in results:
            self.stdout.write(
                f"{r['detector']:<22} n={r['n_real']}+{r['n_synthetic']}  "
                f"AUC {self._interval(r['auc'])}  "
                f"TPR@1%FPR {self._interval(r['tpr_at_1pct_fpr'])}  "
                f"TPR@5%FPR {self._interval(r['tpr_at_5pct_fpr'])}  FPR on real "
                f"{self._interval(r['false_positive_rate_real'])} ({r['real_sources']} sources, "
                f"abstains on {r['real_abstain_rate']:.2f})"
            )
            survival = ", ".join(f"{t} {v:.2f}" for t, v in r["survival"].items())
            self.stdout.write(f"{'':<22} fires on: {survival}")
        self.stdout.write(f"ROC plot: {plot}")
