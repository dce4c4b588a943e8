"""A stand-in for the training tools and the SVM tool in the tests of
tools/eval_suite.py. It takes their arguments, records the call (task,
process id, arguments) in ``$STUB_CALLS`` and, as ``$STUB_PLAN`` (JSON:
task -> action) says for the task (the name of its work directory),
fails, sleeps, or writes known
figures: MMEngine-style ``vis_data/scalars.json`` rows for three steps up to
the config's last one (training rows, then evaluation rows whose values
change with the step: the last one is AP 0.42 / AP50 0.71 / AP75 0.33 and
top-1 61.5 / top-5 83.25, per layer 10 to 14), or the SVM tool's JSON
(mAP 55.5)."""
import argparse
import json
import os
import os.path as osp
import re
import sys
import time

LAYERS = ('conv1', 'res2', 'res3', 'res4', 'res5')


def rows(last: int, by_epoch: bool):
    out = []
    for step in sorted({max(1, last // 3), max(1, 2 * last // 3), last}):
        frac = step / last
        out.append(dict(loss=2.0 - frac, step=step * 10 if by_epoch else step))
        out.append({
            'pascal_voc/mAP': round(0.42 * frac, 4),
            'pascal_voc/AP50': round(0.71 * frac, 4),
            'pascal_voc/AP75': round(0.33 * frac, 4),
            'accuracy/top1': 61.5 * frac,
            'accuracy/top5': 83.25 * frac,
            **{
                f'layer_top1/{n}': (10 + i) * frac
                for i, n in enumerate(LAYERS)
            }, 'step': step
        })
    # a later training row without figures, as a logger writes it
    out.append(dict(loss=0.5, step=last * 10 + 1 if by_epoch else last))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    parser.add_argument('rest', nargs='*')
    parser.add_argument('--work-dir')
    parser.add_argument('--out')
    args, _ = parser.parse_known_args()
    work = args.work_dir or osp.dirname(args.out)
    task = osp.basename(work.rstrip('/'))
    with open(os.environ['STUB_CALLS'], 'a') as f:
        f.write(f'{task} {os.getpid()} {" ".join(sys.argv[1:])}\n')
    plan = json.loads(os.environ.get('STUB_PLAN', '{}'))
    action = plan.get(task, 'ok')
    if action == 'fail':
        print('stub: failing on purpose', file=sys.stderr)
        return 3
    if action == 'sleep':  # until the test stops the suite
        time.sleep(600)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(mAP=55.5, ap={'car': 50.0}), f)
        return 0
    # the last step, from the resolved config the suite wrote
    unit, last = re.search(r'max_(epochs|iters)=(\d+)',
                           open(args.config).read()).groups()
    by_epoch, last = unit == 'epochs', int(last)
    if action == 'short':  # ends before the last step
        last -= 1
    run = osp.join(work, time.strftime('%Y%m%d_%H%M%S'), 'vis_data')
    os.makedirs(run, exist_ok=True)
    with open(osp.join(run, 'scalars.json'), 'w') as f:
        for row in rows(last, by_epoch):
            f.write(json.dumps(row) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
