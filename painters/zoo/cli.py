"""``python -m painters.zoo train NAME|all`` / ``eval NAME|all`` / ``data`` / ``sweeps [NAME]``: retrain, score and
ship the zoo, and find its example sweep files."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path


def _names(name: str) -> list[str]:
    from painters.zoo.registry import ZOO, spec

    return list(ZOO) if name == "all" else [spec(name).name]


def _evaluate(name: str, root: Path, full: bool, quiet: bool) -> dict:
    from painters.zoo import cards, scoring

    result = scoring.evaluate_model(name, root, full=full, progress=not quiet)
    result["size_bytes"] = cards.folder_bytes(root / name)
    model_bytes = sum(p.stat().st_size for p in (root / name).glob("*.safetensors"))
    result["weights_bytes"] = model_bytes
    cards.update_scores(name, result, root)
    cards.write_card(name, root)
    return result


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from painters.zoo import cards, data, registry, train

    torch.set_num_threads(args.threads)
    root = Path(args.out)
    for name in _names(args.name):
        spec = registry.spec(name)
        recipe = train.resolve(name, epochs=args.epochs, seed=args.seed, samples=args.samples)
        if not registry.data_path(name, root).exists():
            data.write_all(root, (spec.source,))
        log = train.train(name, root / name, recipe, max_steps=args.max_steps, progress=not args.quiet)
        params = sum(p.numel() for p in registry.load(name, root)[0].parameters())
        cards.update_scores(name, {"params": params, "train": {
            "seconds": round(log.seconds, 1), "steps": log.steps, "epochs": recipe.epochs, "loss": round(log.loss, 4),
            "threads": args.threads, "loss_history": log.history, "recipe": asdict(recipe)}}, root,
            replace=True)  # fmt: skip
        print(f"{name}: {log.steps} steps in {log.seconds / 60:.1f} min, loss {log.loss:.4f} -> {root / name}")
        if args.no_eval:
            cards.write_card(name, root)
            continue
        _report(name, _evaluate(name, root, full=not args.shipped_only, quiet=args.quiet))
    cards.write_index(root)
    return 0


def _report(name: str, result: dict) -> None:
    metric = result["metric"]
    parts = [f"{split} {metric} {result[split][metric]:.4f}" for split in ("full", "shipped") if split in result]
    if "unigram_perplexity" in result.get("full", result.get("shipped", {})):
        chosen = result.get("full", result["shipped"])
        parts.append(f"unigram perplexity {chosen['unigram_perplexity']:.2f}")
    if result.get("skip_layer"):
        parts.append("skip one layer: " + " ".join(f"{v:.3g}" for v in result["skip_layer"]))
    print(f"{name}: " + "; ".join(parts) + f"; {result['size_bytes'] / 1e6:.2f} MB")


def _cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from painters.zoo import cards

    torch.set_num_threads(args.threads)
    root = Path(args.root)
    for name in _names(args.name):
        result = _evaluate(name, root, full=not args.shipped_only, quiet=args.quiet)
        _report(name, result)
        if args.json:
            print(json.dumps(result, indent=2))
    cards.write_index(root)
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from painters.zoo import data

    for path in data.write_all(Path(args.out)):
        print(path)
    return 0


def _cmd_sweeps(args: argparse.Namespace) -> int:
    from painters.zoo.registry import sweep_file, sweep_files

    if args.name:
        print(sweep_file(args.name))  # an unknown name: a PaintersError, one line from main()
        return 0
    for name, path in sweep_files().items():
        print(f"{name:16} {path}")
    return 0


def build_parser(prog: str = "python -m painters.zoo") -> argparse.ArgumentParser:
    """The zoo's argument parser (``train``, ``eval``, ``data``, ``sweeps``)."""
    from painters.zoo.registry import ZOO, zoo_dir

    names = [*ZOO, "all"]
    parser = argparse.ArgumentParser(prog=prog, description="Train, score and ship the painters model zoo.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="retrain a zoo model (or all), save it, score it, write its card")
    train.add_argument("name", choices=names)
    train.add_argument("--out", default=str(zoo_dir()), help="zoo folder (default: %(default)s)")
    train.add_argument("--epochs", type=int, help="override the recipe's epochs")
    train.add_argument("--seed", type=int, help="override the recipe's seed")
    train.add_argument("--samples", type=int, help="override the examples per epoch")
    train.add_argument("--max-steps", type=int, help="stop after this many optimiser steps (smoke tests)")
    train.add_argument("--no-eval", action="store_true", help="do not score the model after training")
    train.set_defaults(func=_cmd_train)
    evaluate = sub.add_parser("eval", help="score a saved zoo model (or all); update scores.json and its card")
    evaluate.add_argument("name", choices=names)
    evaluate.add_argument("--root", default=str(zoo_dir()), help="zoo folder (default: %(default)s)")
    evaluate.add_argument("--json", action="store_true", help="print the full result as JSON")
    evaluate.set_defaults(func=_cmd_eval)
    for command in (train, evaluate):
        command.add_argument("--shipped-only", action="store_true", help="score on zoo/data only (fast)")
        command.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
        command.add_argument("--quiet", action="store_true", help="no progress bars")
    data = sub.add_parser("data", help="rewrite the shipped eval data under OUT/data")
    data.add_argument("--out", default=str(zoo_dir()), help="zoo folder (default: %(default)s)")
    data.set_defaults(func=_cmd_data)
    sweeps = sub.add_parser("sweeps", help="the example sweep files on the zoo (or the path of one, for painters run)")
    sweeps.add_argument("name", nargs="?", help="print only this one's path: quickstart or a zoo model's name")
    sweeps.set_defaults(func=_cmd_sweeps)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "python -m painters.zoo") -> int:
    """Run the zoo command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    args = build_parser(prog).parse_args(list(sys.argv[1:] if argv is None else argv))
    if getattr(args, "quiet", False):
        from painters.progress import silence_library_bars

        silence_library_bars()
    from painters.errors import PaintersError

    try:
        return int(args.func(args))
    except PaintersError as exc:  # a mistake the user can fix (unknown model, missing data): one line, exit 2
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
