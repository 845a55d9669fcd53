"""The ``painters`` command line: run, plot, show, ls."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _cmd_run(args: argparse.Namespace) -> int:
    from painters.sweep.config import load_sweep
    from painters.sweep.planning import refusal_note
    from painters.sweep.runner import SweepRunner

    config = load_sweep(args.file)
    if args.quiet:
        from painters.progress import silence_library_bars

        silence_library_bars()
    out = Path(args.out or Path("results") / config.name)
    runner = SweepRunner(config, out, source=str(args.file), force=args.force, progress=not args.quiet)
    if args.dry_run:
        return _dry_run(config, runner, str(args.file))
    try:
        if args.executor == "ray":
            from painters.sweep.distributed import RayExecutor

            stats = RayExecutor(runner, address=args.address, workers=args.workers, threads=args.threads).run()
        else:
            stats = runner.run()
    except KeyboardInterrupt:
        _stop_at_once_on_second_interrupt()
        kept = len(list((out / "records").glob("*.json"))) if (out / "records").exists() else 0
        print(f"\ninterrupted: {kept} records kept in {out}; rerun the same command to resume", file=sys.stderr)
        return 130
    print(
        f"{config.name}: {stats.written} records written, {stats.skipped} already done, {stats.failed} non-finite; "
        f"{stats.layer_evaluations} layer evaluations in {stats.seconds:.1f} s -> {out}"
    )
    for pair in stats.at_chance:
        print(
            f"warning: {pair}: the unmodified model scores at chance, so its normalised scores are undefined (NaN) "
            f"and its heatmaps are empty; check the model and the task's labels",
            file=sys.stderr,
        )
    for pair, graphs in stats.compiled.items():  # runner.compile: more graphs than shapes would mean recompiles
        print(f"compiled layers: {pair}: {graphs} graph(s) served every layer and variant")
    if stats.agreement is not None:
        print("one-pass predictors vs measured skips (Spearman; 1 = same ranking):")
        for (model, task), rows in stats.agreement.groupby(["model", "task"], sort=False):
            cells = [
                f"{r.predictor} {r.spearman:+.2f} over {r.spans}" if r.spearman == r.spearman else
                f"{r.predictor} n/a ({r.spans} spans)"
                for r in rows.itertuples()
            ]  # fmt: skip
            print(f"  {model} / {task}: " + "; ".join(cells))
    for name, refused in stats.refused.items():
        print(f"note: {refusal_note(name, refused)}")
    if stats.retired:
        print(
            f"{stats.retired} records of models, tasks or ops no longer in {args.file} are kept in {out / 'records'} "
            f"but left out of the table (they count again if those come back)"
        )
    if not args.no_plot and stats.written:
        _plot(out)
    return 0


def _dry_run(config, runner, source: str) -> int:
    """``painters run --dry-run``: the checks of ``painters validate``, then each model's variants, their plans and
    the layer evaluations, planned on the model's structure alone (its config, on the meta device: no weights, no
    data). A hub model whose config is neither cached nor downloadable here is not a failure: what needs no model
    is checked and said, its variant list is left out, and the exit code stays 0."""
    from painters.apply import layers
    from painters.sweep.config import SweepError
    from painters.sweep.loading import meta_model
    from painters.sweep.planning import plan_variants, refusal_note
    from painters.sweep.runner import order_variants
    from painters.sweep.sharing import layer_evaluations
    from painters.sweep.validate import check

    report = check(config, source, online=True)
    if report.problems:
        raise SweepError("\n".join(report.problems))
    for run in config.runs:
        model_config = report.configs.get(run.model.display)
        if model_config is None:
            print(f"{run.model.display}: {_needs_the_model(run.model.id)}")
            continue
        try:
            model = meta_model(run.model, model_config)
        except (RuntimeError, NotImplementedError):  # a model that cannot be built on the meta device: load it
            model = runner.model(run)[0]
        num_layers = len(layers(model, **run.model.where).layers)
        variants, by_id, refused = plan_variants(
            model,
            runner.variants(num_layers),
            run.model.where,
            model_name=run.model.display,
            alone=len(config.runs) == 1,
        )
        plans = [by_id[v.id] for v in variants]
        print(f"{run.model.display}: {num_layers} layers")
        for v, p in zip(variants, plans):
            print(f"  {v.id:36} {p.describe()}")
        if refused:
            print(f"  note: {refusal_note(run.model.display, refused)}")
        tasks = len(run.tasks)
        ordered = [by_id[v.id] for v in order_variants(variants, by_id)]  # as the runner cuts them into chunks
        chunk = config.runner.chunk
        shared = layer_evaluations(ordered, True, num_layers, chunk=chunk)
        naive = layer_evaluations(ordered, False, num_layers, chunk=chunk)
        print(
            f"{run.model.display}: {len(variants)} variants (baseline included) x {tasks} task(s) = "
            f"{len(variants) * tasks} records; layer evaluations per input: {shared} shared, {naive} naive "
            f"({naive / shared:.2f}x)"
        )
    for note in report.notes:
        print(f"  note: {note}")
    return 0


def _needs_the_model(model_id: str) -> str:
    """What a dry run says of a hub model whose config it cannot have."""
    from painters.data.source import hub_unavailable_reason

    reason = hub_unavailable_reason()
    why = f"the Hugging Face Hub cannot be used ({reason})" if reason else "its config could not be downloaded"
    return (
        f"{model_id!r} is not cached here and {why}. Checked: the schema, the ops' parameters, the task options and "
        f"the local data. Not checked: the layer count, and so the variant list, and whether each task fits the model "
        f"(they need its config.json): run again where the hub is reachable, or download the model "
        f"(`hf download {model_id} --local-dir DIR`) and set model.id to DIR."
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    from painters.sweep.validate import validate

    failed = 0
    for path in args.files:
        report = validate(path)
        print(f"{path}: {'ok' if report.ok else f'{len(report.problems)} problem(s)'}")
        for note in report.notes:
            print(f"  note: {note}")
        for problem in report.problems:
            print(f"  problem: {problem}")
        failed += not report.ok
    return 2 if failed else 0


def _stop_at_once_on_second_interrupt() -> None:
    import os
    import signal

    signal.signal(signal.SIGINT, lambda *_: os._exit(130))


def _plot(results: Path, formats: tuple[str, ...] = ("png",), figures: list[str] | None = None) -> list[Path]:
    from painters.plot import plot_results

    paths = plot_results(results, formats=formats, figures=figures)
    print(f"{len(paths)} figures in {results / 'plots'}")
    return paths


def _cmd_plot(args: argparse.Namespace) -> int:
    figures = [f.strip() for f in args.figures.split(",") if f.strip()] if args.figures else None
    _plot(Path(args.results), tuple(args.formats.split(",")), figures)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from painters.show import show

    return show(
        args.results, rows=args.rows, fmt=args.format, models=args.model, tasks=args.task, ops=args.op,
        aggregate=args.aggregate,
    )  # fmt: skip


def _cmd_compare(args: argparse.Namespace) -> int:
    from painters.show import compare

    return compare(args.a, args.b, rows=args.rows, fmt=args.format, models=args.model, tasks=args.task, ops=args.op)


def _cmd_prune(args: argparse.Namespace) -> int:
    from painters.errors import ConfigError
    from painters.pruning.core import check_methods, prune
    from painters.pruning.source import load_source

    methods = [m.strip() for given in args.method or [] for m in given.split(",") if m.strip()] or None
    names = check_methods(args.part, methods)  # before any weights load
    if args.save and args.part != "block":
        raise ConfigError(
            f"--save with --part {args.part}: a model with some {args.part} sublayers removed is not a plain "
            f"checkpoint; drop --save (apply the plan with painters.apply) or prune with --part block"
        )
    if args.save_method is not None and check_methods(args.part, [args.save_method])[0] not in names:
        raise ConfigError(f"--save-method {args.save_method!r}: not among the methods run ({', '.join(names)})")
    if args.quiet:
        from painters.progress import silence_library_bars

        silence_library_bars()
    source = load_source(
        args.source, task=args.task, data=args.data, limit=args.limit, batch_size=args.batch_size,
        select_data=args.select_data, select_limit=args.select_limit,
    )  # fmt: skip
    out = Path(args.out or Path("results") / f"prune-{source.name}")
    result = prune(
        source.model, source.processor, source.task, args.remove, part=args.part, methods=methods, out=out,
        batch_size=source.batch_size, progress=not args.quiet, title=f"{source.name} / {source.task_name}",
        select=source.select,
        **source.where,
    )  # fmt: skip
    unit = "layers" if args.part == "block" else f"{args.part} sublayers"
    print(f"{source.name} on {source.task_name}: normalised {result.metric} (0 = chance, 1 = unmodified) by {unit} "
          f"removed; raw {result.metric} in brackets")  # fmt: skip
    normalised, raw = result.pivot("normalised"), result.pivot("score")
    print(f"{'removed':>7}  " + "  ".join(f"{m:>22}" for m in normalised.columns))
    for k in normalised.index:
        cells = [f"{normalised.loc[k, m]:.4f} ({raw.loc[k, m]:.4g})" for m in normalised.columns]
        print(f"{k:>7}  " + "  ".join(f"{c:>22}" for c in cells))
    print(f"plans ({unit} removed, 0-indexed):")
    for method, plans in result.plans.items():
        steps = "; ".join(f"{k}: {' '.join(map(str, plans[k]))}" for k in sorted(plans) if k)
        print(f"  {method:16} {steps}")
    greedy = result.costs.get("greedy")
    if greedy:
        evaluations, seconds = greedy["layer_evaluations"], greedy["seconds"]
        print(f"greedy search: {evaluations:.0f} layer evaluations (layer calls x batches) in {seconds:.1f} s")
    print(f"table, plans and figure in {out}")
    if args.save:
        method = result.best() if args.save_method is None else check_methods(args.part, [args.save_method])[0]
        path = result.save(args.save, source.model, source.processor, method, **source.where)
        print(f"saved {method}'s plan with {result.remove} {unit} removed "
              f"({' '.join(map(str, result.plans[method][result.remove]))}) to {path}")  # fmt: skip
    return 0


def _table_options(parser: argparse.ArgumentParser) -> None:
    """The options ``painters show`` and ``painters compare`` share: filters, --rows, --format."""
    parser.add_argument("--model", action="append", metavar="NAME", help="only this model (repeat for more)")
    parser.add_argument("--task", action="append", metavar="NAME", help="only this task (repeat for more)")
    parser.add_argument("--op", action="append", metavar="NAME", help="only this op, e.g. skip (repeat for more)")
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        metavar="N",
        help="print the first N rows; 0 prints all (default: 200 in --format table, all in the others)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "csv", "markdown", "json"),
        default="table",
        help="table (default; 4 significant digits, normalised to 3 decimals, '-' for missing), markdown, or csv "
        "and json with every digit",
    )


def registries() -> dict:
    """Every plugin registry by the name ``painters ls`` takes."""
    from painters.architectures import ARCHITECTURES
    from painters.ops import OPS
    from painters.plot.kinds import FIGURES
    from painters.pruning.core import METHODS
    from painters.tasks.mc_formats import FORMATS
    from painters.tasks.registry import TASKS
    from painters.zoo.registry import ZOO

    return {
        "ops": OPS, "tasks": TASKS, "architectures": ARCHITECTURES, "zoo": ZOO, "formats": FORMATS, "figures": FIGURES,
        "pruning": METHODS,
    }  # fmt: skip


def _cmd_ls(args: argparse.Namespace) -> int:
    found = registries()
    from painters.errors import UnknownNameError
    from painters.registry import Registry

    kinds = Registry("listing")
    for kind in found:
        kinds.register(kind, kind)
    for kind in args.what:
        if kind not in kinds:
            raise UnknownNameError(kinds.unknown_message(kind))
    for kind in args.what or list(found):
        registry = found[kind]
        print(f"{kind} ({len(registry)}):")
        for name in registry.names():
            aliases = registry.aliases_of(name)
            label = name + (f" ({', '.join(aliases)})" if aliases else "")
            print(f"  {label:24} {registry.describe(name)}".rstrip())
            if kind == "tasks":
                from painters.tasks.registry import options_model

                print(f"  {'':24} options: {', '.join(options_model(name).model_fields)}")
            if kind == "ops":
                from painters.sweep.op_specs import sweep_keys

                print(f"  {'':24} sweep keys: {', '.join(sweep_keys(registry[name]))}")
    if not args.what or "architectures" in args.what:
        print("  (and every single-stack transformer the finder recognises: see docs/architectures.md)")
    return 0


def _prune_parser(sub: Any) -> None:
    prune = sub.add_parser(
        "prune",
        help="search which K layers to remove: greedy (SLEB), block-influence (ShortGPT), angular (Gromov), last",
    )
    prune.add_argument(
        "source",
        metavar="SWEEP_OR_MODEL",
        help="a sweep YAML (its first model and task), a zoo model name (its own task on the shipped data) or a "
        "model folder / hub id (with --task, --data)",
    )
    prune.add_argument(
        "--remove", type=int, required=True, metavar="K", help="how many layers (or sublayers) to remove"
    )
    prune.add_argument(
        "--part", choices=("block", "attention", "mlp"), default="block",
        help="remove whole layers (default), or only attention / MLP sublayers (greedy and block-influence only)",
    )  # fmt: skip
    prune.add_argument(
        "--method", action="append", metavar="NAME",
        help="greedy, block-influence, angular or last (repeat, or comma-separate; default: all that apply)",
    )  # fmt: skip
    prune.add_argument("--task", metavar="NAME", help="a sweep file's task by name, or the task type for a model")
    prune.add_argument("--data", metavar="PATH", help="the task's data (for a model folder, or another zoo task)")
    prune.add_argument("--limit", type=int, metavar="N", help="use N examples (tokens for perplexity)")
    prune.add_argument(
        "--select-data",
        metavar="PATH",
        help="choose on the same task over this data (held out), "
        "score on the task's own data (default: choose and score on the same examples)",
    )
    prune.add_argument("--select-limit", type=int, metavar="N", help="examples of --select-data (default: --limit)")
    prune.add_argument("--batch-size", type=int, metavar="N", help="batch size (default: the sweep's, else 64 / 16)")
    prune.add_argument("--out", help="folder of the rounds, table and figure (default results/prune-<model>); "
                       "rerunning with the same folder continues from the last finished round")  # fmt: skip
    prune.add_argument("--save", metavar="DIR", help="write the pruned model (the best method's plan at K, or "
                       "--save-method's) as a plain checkpoint that from_pretrained loads")  # fmt: skip
    prune.add_argument("--save-method", metavar="NAME", help="the method whose plan --save writes")
    prune.add_argument("--quiet", action="store_true", help="no progress bars")
    prune.set_defaults(func=_cmd_prune)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="painters", description="Layer-manipulation sweeps on HF transformers.")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of every error (a user mistake is one line by default)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a sweep file (resumes where a previous run stopped)")
    run.add_argument("file", type=Path)
    run.add_argument("--out", help="results folder (default results/<sweep name>)")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="check the file as `painters validate` does, print the variants and the layer evaluations; load no "
        "weights, run nothing (a hub model that is not cached here is reported, exit code 0)",
    )
    run.add_argument("--force", action="store_true", help="discard records of a different sweep in --out")
    run.add_argument("--no-plot", action="store_true", help="do not draw the figures at the end")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local (default) or ray: spread variants over Ray actors (pip install 'painters[ray]')",
    )
    run.add_argument(
        "--address",
        default=None,
        help="Ray cluster: 'auto' (the running one), 'ray://HOST:10001', or none for a local cluster",
    )
    run.add_argument("--workers", type=int, default=None, help="Ray actors (default: one per GPU, else per CPU)")
    run.add_argument("--threads", type=int, default=1, help="torch threads per Ray worker (default 1)")
    run.set_defaults(func=_cmd_run)
    check = sub.add_parser(
        "validate",
        help="check sweep files offline, loading no weights: schema, ops against "
        "each model's layer count, task options, local data",
    )
    check.add_argument("files", nargs="+", type=Path)
    check.set_defaults(func=_cmd_validate)
    plot = sub.add_parser("plot", help="draw the heatmaps and curves of a results folder")
    plot.add_argument("results")
    plot.add_argument("--formats", default="png", help="comma-separated file formats: png, svg, pdf (default: png)")
    plot.add_argument(
        "--figures", default=None, help="comma-separated figure kinds to draw (painters ls figures; default: all)"
    )
    plot.set_defaults(func=_cmd_plot)
    show = sub.add_parser("show", help="print a results table (sorted by model, task, variant; filters, formats)")
    show.add_argument("results", help="a results folder (or its results.parquet)")
    _table_options(show)
    show.add_argument(
        "--aggregate",
        choices=("median",),
        default=None,
        help="median: per (model, variant) the median normalised score over the model's tasks, best first, then "
        "(in --format table) each model's ops ranked by the median of their variants' medians",
    )
    show.set_defaults(func=_cmd_show)
    compare = sub.add_parser(
        "compare", help="two results folders side by side: score_A, score_B, diff (B - A), normalised_A/_B"
    )
    compare.add_argument("a", metavar="A", help="a results folder (or its results.parquet)")
    compare.add_argument("b", metavar="B", help="another results folder")
    _table_options(compare)
    compare.set_defaults(func=_cmd_compare)
    ls = sub.add_parser("ls", help="list the registered ops, tasks, architectures, zoo models, multiple-choice formats")
    ls.add_argument("what", nargs="*", help="which: ops, tasks, architectures, zoo, formats (default: all)")
    ls.set_defaults(func=_cmd_ls)
    _prune_parser(sub)
    sub.add_parser(
        "zoo", help="train, score and ship the model zoo; list its sweeps: painters zoo {train,eval,data,sweeps}"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["zoo"]:  # painters zoo train NAME|all, painters zoo eval NAME, painters zoo data
        from painters.zoo.cli import main as zoo_main

        return zoo_main(argv[1:], prog="painters zoo")
    args = build_parser().parse_args(argv)
    from painters.errors import PaintersError

    try:
        return args.func(args)
    except PaintersError as exc:  # a mistake the user can fix: one clear message (a bug shows its traceback)
        if args.debug:
            raise
        print(f"painters: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
