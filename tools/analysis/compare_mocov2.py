"""Compare PIRL with MMPretrain's MoCo v2 (and an untrained network) on
your own images, at the same budget, or at several budgets.

Every method is pre-trained with ``tools/train.py`` (one subprocess per
run, as a user would run it) on ``<data-root>/train`` (labels unused),
with the PIRL config's backbone (``--keep-backbones`` turns this off; the
neck's input width follows it), optimiser, schedule, batch and epochs
(``--keep-schedules`` turns this off), and a kNN monitor (weighted kNN,
k=20, on the labelled splits) every ``--knn-interval`` epochs.

The frozen, pooled last-stage features of every trained backbone and of
the untrained network are then probed by the project's one evaluation
path (:class:`pirl_plugin.evaluation.probe.FolderProber`, the kNN
monitor's, so a final kNN figure is the last point of its curve): weighted
kNN (k=20) and a linear probe (logistic regression on the standardised
``train`` features), scored on ``test``. ``<data-root>`` holds
``train/<class>/<image>`` and ``test/<class>/<image>`` (e.g.
``pirl_plugin.datasets.digits.make_digits_dataset``).

The untrained row is the network at the standard init
(``zero_init_residual=False``, as torchvision, VISSL and MoCo v2 build it),
the reference line of every plot; when the trained networks start from
MMPretrain's ``zero_init_residual=True`` that untrained network is shown
beside it. Collapse figures come from the final checkpoints: the mean
pairwise cosine similarity of PIRL's bank / MoCo's queue and of the test
features.

One budget (the PIRL config's, or ``--epochs`` / ``--iters``)::

    python tools/analysis/compare_mocov2.py --data-root data/digits \\
        --pirl-config \\
            configs/pirl/pirl_resnet18w16_1xb64-coslr-32e_digits.py \\
        --mocov2-config \\
            configs/mocov2/mocov2_resnet18w16_1xb64-coslr-32e_digits.py \\
        --workers 0 --threads 1 --work-dir work_dirs/compare_digits

writes ``<work-dir>/compare_result.{json,md,png}``. Budget curves
(``--budgets``: iterations, each a separate run with its own full
schedule; ``--inits``: the backbones' initialisations; ``--reuse`` skips
the runs a killed or smaller sweep finished)::

    python tools/analysis/compare_mocov2.py --data-root data/digits ... \\
        --budgets 600,1200,2400,4800 --inits standard,zero_init --jobs 2

writes ``<work-dir>/budget_curves.{json,md,png}``: final kNN / linear per
method, init and budget, each method's crossing point (the smallest budget
above the standard-init untrained network) and the kNN-monitor curves of
the longest runs. Each run is in ``<work-dir>/<init>/it<N>/<method>/``
(config, ``train.log``, checkpoint). ``--record FILE --dataset NAME``
adds the measured rows (one per method, init and budget) to a results
JSON, the source of the README's small-data table
(``tools/analysis/results_table.py``).
``--tiny``: 1 epoch of batch 8, no loader workers (CI).
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from mmengine.config import DictAction

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
DEFAULT_PIRL = osp.join(REPO, 'configs', 'pirl',
                        'pirl_resnet18w16_1xb64-coslr-20e_shapes-demo.py')
DEFAULT_MOCOV2 = osp.join(REPO, 'configs', 'mocov2',
                          'mocov2_resnet18w16_1xb64-coslr-20e_shapes-demo.py')
RESERVED = ('pirl', 'mocov2', 'untrained')


def _ints(text: str) -> list:
    return [int(v) for v in text.split(',') if v.strip()]


def _names(text: str) -> list:
    return [v.strip() for v in text.split(',') if v.strip()]


def add_experiment_args(p: argparse.ArgumentParser) -> None:
    """Data, configs, methods, schedules, budgets, inits and seeds."""
    p.add_argument(
        '--data-root',
        required=True,
        help='folder with labelled '
        'train/<class>/ and test/<class>/ images')
    p.add_argument('--pirl-config', default=DEFAULT_PIRL)
    p.add_argument('--mocov2-config', default=DEFAULT_MOCOV2)
    p.add_argument(
        '--extra',
        action='append',
        default=[],
        metavar='NAME=CONFIG',
        help='another method trained the '
        'same way (e.g. jigsaw=configs/jigsaw/...); repeatable')
    p.add_argument(
        '--methods',
        type=_names,
        default=None,
        help='comma-separated subset of pirl, mocov2, untrained '
        '(alias: random) and the --extra names (default: all)')
    p.add_argument(
        '--work-dir', default=osp.join(REPO, 'work_dirs', 'compare_mocov2'))
    p.add_argument(
        '--epochs',
        type=int,
        default=None,
        help='epochs for every method (default: the PIRL '
        'config\'s)')
    p.add_argument(
        '--iters',
        type=int,
        default=None,
        help='at least this '
        'many iterations (rounded up to whole epochs)')
    p.add_argument(
        '--budgets',
        type=_ints,
        default=None,
        help='budget '
        'curves: comma-separated iterations, one full run each')
    p.add_argument(
        '--inits',
        type=_names,
        default=None,
        help='backbone initialisations of the trained runs: '
        'standard, zero_init (default: each config\'s)')
    p.add_argument(
        '--seed',
        type=int,
        default=None,
        help='randomness.seed '
        'of every run and of the untrained network (default: '
        'the PIRL config\'s)')


def add_execution_args(p: argparse.ArgumentParser) -> None:
    """Batch size, workers, threads, parallel jobs and monitor interval."""
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument(
        '--workers',
        type=int,
        default=None,
        help='data-loader workers per run')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='OMP/MKL threads of each training process')
    p.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='training processes run side by side')
    p.add_argument(
        '--knn-interval',
        type=int,
        default=4,
        help='kNN monitor every N epochs and after the last (every '
        'run, so a finished run is reused by a later sweep with more '
        'budgets)')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_experiment_args(p)
    add_execution_args(p)
    p.add_argument('--keep-backbones', action='store_true')
    p.add_argument('--keep-schedules', action='store_true')
    p.add_argument('--cfg-options-pirl', nargs='+', action=DictAction)
    p.add_argument('--cfg-options-mocov2', nargs='+', action=DictAction)
    p.add_argument(
        '--cfg-options-extra',
        nargs='+',
        action=DictAction,
        help='applied to every --extra config')
    p.add_argument(
        '--reuse',
        action='store_true',
        help='skip a run whose '
        'work dir holds a finished run of the identical config')
    p.add_argument(
        '--record',
        default=None,
        metavar='JSON',
        help='add the rows measured to this results JSON '
        '(see tools/analysis/results_table.py)')
    p.add_argument(
        '--dataset',
        default=None,
        help='the data\'s name in --record (default: the '
        'folder name)')
    p.add_argument('--png', default=None, help='another copy of the plot')
    p.add_argument('--title', default='')
    p.add_argument(
        '--tiny',
        action='store_true',
        help='smoke test: 1 epoch '
        '(unless --epochs), batch 8, no loader workers')
    return p.parse_args(argv)


def method_configs(args) -> dict:
    """name -> (config, options) of every method that can be trained, and
    the ``--methods`` wanted as ``args.trained`` and ``args.untrained``."""
    configs = dict(
        pirl=(args.pirl_config, args.cfg_options_pirl),
        mocov2=(args.mocov2_config, args.cfg_options_mocov2))
    for item in args.extra:
        name, sep, path = item.partition('=')
        if not sep or name in RESERVED + ('random', ):
            sys.exit(f'--extra needs NAME=CONFIG with a new NAME, got '
                     f'{item!r}')
        configs[name] = (path, args.cfg_options_extra)
    configs['untrained'] = None
    wanted = [
        'untrained' if m == 'random' else m for m in args.methods or configs
    ]
    unknown = sorted(set(wanted) - set(configs))
    if unknown:
        sys.exit(f'--methods: unknown {unknown}; choose from {list(configs)}')
    seed = {} if args.seed is None else {'randomness.seed': args.seed}
    args.trained = [n for n in configs if configs[n] and n in wanted]
    args.untrained = 'untrained' in wanted
    return {
        n: (c[0], {
            **(c[1] or {}),
            **seed
        })
        for n, c in configs.items() if c
    }


def is_sweep(args) -> bool:
    """Budget curves (several budgets or initialisations) or one budget."""
    return bool(args.budgets) or len(args.inits or []) > 1


def make_spec(args, data_root: str):
    """The shared :class:`RunSpec` and the reference (PIRL) config."""
    from pirl_plugin.evaluation.probe import view_size
    from pirl_plugin.utils.comparison_configs import (RunSpec, count_images,
                                                      load_config)
    for split in ('train', 'test'):
        if not osp.isdir(osp.join(data_root, split)):
            sys.exit(f'{data_root} has no {split}/ folder: the tool needs '
                     'labelled train/<class>/ and test/<class>/ splits')
    from pirl_plugin.evaluation.untrained import INITS
    unknown = sorted(set(args.inits or []) - set(INITS))
    if unknown:
        sys.exit(f'--inits: unknown {unknown}; choose from {list(INITS)}')
    if is_sweep(args) and not args.trained:
        sys.exit('--budgets / several --inits need a trained method in '
                 '--methods')
    ref = load_config(args.pirl_config, args.cfg_options_pirl)
    batch = args.batch_size or (8 if args.tiny else
                                ref.train_dataloader.batch_size)
    n_train = count_images(osp.join(data_root, 'train'))
    if n_train < batch:
        sys.exit(f'{n_train} training images in {data_root}/train are '
                 f'fewer than the batch of {batch}: pass a smaller '
                 '--batch-size')
    epochs = args.epochs or (1 if args.tiny else int(ref.train_cfg.max_epochs))
    workers = 0 if args.tiny and args.workers is None else args.workers
    spec = RunSpec(data_root, n_train, batch, epochs, view_size(ref),
                   args.knn_interval, workers, None, not args.keep_backbones,
                   not args.keep_schedules)
    if args.iters:
        spec.epochs = spec.epochs_for(args.iters)
    return spec, ref


def plan_runs(args, spec, ref) -> list:
    """One entry per training run: method, init, budget, its RunSpec and
    work dir."""
    from dataclasses import replace

    from pirl_plugin.evaluation.untrained import backbone_init
    sweep = is_sweep(args)
    budgets = args.budgets or [spec.iterations]
    inits = args.inits or [backbone_init(ref.model) if sweep else None]
    plan = []
    for init in inits:
        for budget in budgets:
            epochs = spec.epochs_for(budget) if args.budgets else spec.epochs
            run_spec = replace(spec, epochs=epochs, init=init)
            sub = osp.join(args.work_dir, init,
                           f'it{budget}') if sweep else args.work_dir
            plan += [
                dict(
                    method=name,
                    init=init,
                    budget=budget,
                    spec=run_spec,
                    work_dir=osp.join(sub, name)) for name in args.trained
            ]
    return plan


def prepare_runs(plan: list, configs: dict, ref, notes: list) -> None:
    """Write every run's config; the changes made to fit the reference
    (PIRL) config and the data go to ``notes`` once."""
    from pirl_plugin.utils.comparison_configs import prepare_config
    first = plan and (plan[0]['init'], plan[0]['budget'])
    for run in plan:
        config, options = configs[run['method']]
        run['config'] = config
        run['path'], run['cfg'] = prepare_config(
            config, run['method'], run['spec'], run['work_dir'], options,
            None if run['method'] == 'pirl' else ref, notes if
            (run['init'], run['budget']) == first else None)


def train_and_probe(plan: list, args, prober, seed: int) -> list:
    """Train every planned run (``--jobs`` side by side), then probe it."""
    from pirl_plugin.evaluation.untrained import backbone_init
    from pirl_plugin.utils.comparison_runs import (checkpoint_negatives_stats,
                                                   train_run)
    from pirl_plugin.utils.run_logs import read_run_logs

    def one(run):
        return train_run(run['path'], run['work_dir'], args.reuse,
                         args.threads)

    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        trained = list(pool.map(one, plan))
    rows = []
    for run, done in zip(plan, trained):
        row = prober.probe(run['cfg'].model, done['checkpoint'], seed)
        row.update(checkpoint_negatives_stats(done['checkpoint']))
        log_rows, curve = read_run_logs(run['work_dir'])
        last = {k: v for r in log_rows for k, v in r.items()}
        row.update({
            k: float(last[k])
            for k in ('bank_feat_sim', 'loss') if k in last
        })
        if 'bank_pairwise_sim' in last:
            row['bank_pairwise_sim_log'] = float(last['bank_pairwise_sim'])
        spec = run['spec']
        row.update(
            method=run['method'],
            init=run['init'] or backbone_init(run['cfg'].model),
            requested=run['budget'],
            epochs=spec.epochs,
            iterations=spec.iterations,
            config=run['config'],
            run_config=run['path'],
            checkpoint=done['checkpoint'],
            train_seconds=round(done['train_seconds'], 1),
            seconds_per_iter=round(done['train_seconds'] / spec.iterations, 3),
            reused=done['reused'],
            knn_curve=curve)
        print(
            f'[compare] {run["method"]} ({run["init"] or "config init"}, '
            f'{spec.iterations} it.): kNN {row["knn_top1"]:.2f}  linear '
            f'{row["linear_top1"]:.2f}',
            flush=True)
        rows.append(row)
    return rows


def probe_untrained(args, prober, plan: list, ref, seed: int) -> dict:
    """init -> the untrained network's probe: the standard init (the
    reference), and the zero-init one when trained networks start from it
    (both in budget curves)."""
    from pirl_plugin.evaluation.untrained import (INITS, untrained_inits,
                                                  with_init)
    if not args.untrained:
        return {}
    if is_sweep(args):
        inits = list(INITS)
    else:
        model = plan[0]['cfg'].model if plan else (
            with_init(ref.model, args.inits[0]) if args.inits else ref.model)
        inits = untrained_inits(model)
    out = {}
    for init in inits:
        out[init] = prober.probe_untrained(ref.model, init, seed)
        print(
            f'[compare] untrained, {out[init]["init_label"]}: kNN '
            f'{out[init]["knn_top1"]:.2f}  linear '
            f'{out[init]["linear_top1"]:.2f}',
            flush=True)
    return out


def one_budget_result(rows: list, untrained: dict, spec) -> dict:
    """The one-budget result: rows by method, untrained ones included."""
    methods = {r['method']: r for r in rows}
    names = {'standard': 'untrained', 'zero_init': 'untrained_zero_init'}
    for init, row in untrained.items():
        methods[names[init]] = dict(row, checkpoint=None)
    return dict(
        methods=methods,
        untrained=[names[i] for i in untrained],
        budget=dict(
            batch_size=spec.batch_size,
            epochs=spec.epochs,
            iters_per_epoch=spec.iters_per_epoch,
            iterations=spec.iterations))


def budget_result(rows: list, untrained: dict, spec) -> dict:
    """The budget-curve result: runs, untrained lines, crossing points,
    kNN-monitor curves of the longest runs."""
    from pirl_plugin.evaluation.budget_curves import crossing_points
    budgets = sorted({r['iterations'] for r in rows})
    longest = [
        dict(method=r['method'], init=r['init'], curve=r['knn_curve'])
        for r in rows if r['iterations'] == budgets[-1]
    ]
    crossing = crossing_points(rows, untrained) \
        if rows and 'standard' in untrained else {}
    return dict(
        budgets=budgets,
        batch_size=spec.batch_size,
        iters_per_epoch=spec.iters_per_epoch,
        runs=rows,
        untrained=untrained,
        longest_knn_curves=longest,
        crossing=crossing)


def write_outputs(result: dict, args, stem: str) -> None:
    from pirl_plugin.evaluation import comparison_report as report
    sweep = stem == 'budget_curves'
    table = (report.budget_markdown if sweep else report.markdown_table)(
        result)
    draw = report.plot_budget_curves if sweep else report.plot_comparison
    os.makedirs(args.work_dir, exist_ok=True)
    base = osp.join(args.work_dir, stem)
    with open(base + '.json', 'w') as f:
        json.dump(result, f, indent=2)
    with open(base + '.md', 'w') as f:
        f.write(table)
    for png in filter(None, [base + '.png', args.png]):
        os.makedirs(osp.dirname(osp.abspath(png)), exist_ok=True)
        draw(result, png, args.title)
    print(
        table + f'[compare] wrote {base}.{{json,md,png}}; total '
        f'{result["total_seconds"]:.0f} s',
        flush=True)
    if args.record:
        from pirl_plugin.evaluation import results_table as rt
        name = args.dataset or osp.basename(result['data_root'].rstrip('/'))
        new = (rt.rows_from_budget_result if sweep else rt.rows_from_result)(
            result, name)
        rows = rt.merge_rows(rt.load_rows(args.record), new)
        rt.save_rows(args.record, rows)
        print(f'[compare] recorded in {args.record}', flush=True)


def main(argv=None) -> dict:
    args = parse_args(argv)
    t_start = time.time()
    from mmengine.logging import MMLogger

    import pirl_plugin  # noqa: F401  registers the components
    from pirl_plugin.evaluation.probe import FolderProber
    from pirl_plugin.utils.comparison_configs import count_images
    configs = method_configs(args)
    spec, ref = make_spec(args, osp.abspath(args.data_root))
    prober = FolderProber(spec.data_root, spec.img_size)
    seed = int(
        ref.get('randomness', {}).get('seed', 0
                                      ) if args.seed is None else args.seed)
    print(
        f'[compare] {spec.data_root}: {spec.n_train} train images, batch '
        f'{spec.batch_size}, {spec.iters_per_epoch} iterations per epoch',
        flush=True)
    plan, notes = plan_runs(args, spec, ref), []
    prepare_runs(plan, configs, ref, notes)
    for note in notes:
        print('[compare] note: ' + note, flush=True)
    # quiet the model-building messages of the probes (init_weights)
    if not MMLogger.check_instance_created('compare_mocov2'):
        MMLogger.get_instance('compare_mocov2', log_level='WARNING')
    rows = train_and_probe(plan, args, prober, seed)
    untrained = probe_untrained(args, prober, plan, ref, seed)
    summarise = budget_result if is_sweep(args) else one_budget_result
    result = summarise(rows, untrained, spec)
    result.update(
        data_root=spec.data_root,
        n_train=spec.n_train,
        n_test=count_images(osp.join(spec.data_root, 'test')),
        n_classes=len(prober.classes),
        img_size=spec.img_size,
        seed=seed,
        notes=notes,
        command=' '.join([osp.relpath(__file__, REPO)] +
                         (sys.argv[1:] if argv is None else list(argv))),
        total_seconds=round(time.time() - t_start, 1))
    write_outputs(result, args,
                  'budget_curves' if is_sweep(args) else 'compare_result')
    return result


if __name__ == '__main__':
    main()
