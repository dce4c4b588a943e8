"""tools/analysis/plot_knn_curves.py: the kNN-monitor curves of several
runs in one PNG, and its one-line errors."""
import importlib.util
import json
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _tool():
    path = osp.join(REPO, 'tools', 'analysis', 'plot_knn_curves.py')
    spec = importlib.util.spec_from_file_location('plot_knn_curves', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(work, rows):
    log = work / '20261206_000000'
    (log / 'vis_data').mkdir(parents=True)
    with open(log / 'knn_monitor.json', 'w') as f:
        for it, acc in rows:
            f.write(json.dumps(dict(epoch=0, iter=it, knn_top1=acc)) + '\n')
    return str(work)


def test_curves_are_read_in_order_and_plotted(tmp_path):
    tool = _tool()
    a = _run(tmp_path / 'a', [(5, 88.1), (10, 82.4)])
    b = _run(tmp_path / 'b', [(5, 84.6), (10, 79.1), (15, 75.2)])
    curves = tool.read_curves([f'trained, lr 0.06={a}', f'frozen={b}'])
    assert curves == [('trained, lr 0.06', [5, 10], [88.1, 82.4]),
                      ('frozen', [5, 10, 15], [84.6, 79.1, 75.2])]
    out = tmp_path / 'fig' / 'k.png'
    tool.main([
        f'x={a}', '--reference', 'untrained, standard=83.3', '--out',
        str(out)
    ])
    assert osp.getsize(out) > 5000


@pytest.mark.parametrize('argv,message', [
    (['nolabel', '--out', 'x.png'], "run 'nolabel': expected LABEL=VALUE"),
    (['a=EMPTY', '--out', 'x.png'], 'no knn_monitor.json'),
    (['a=RUN', '--reference', 'u=high', '--out', 'x.png'
      ], "'high' is not a number"),
])
def test_bad_arguments_give_one_line_errors(tmp_path, argv, message):
    tool = _tool()
    run = _run(tmp_path / 'run', [(5, 80.0)])
    argv = [
        a.replace('EMPTY', str(tmp_path / 'none')).replace('RUN', run)
        for a in argv
    ]
    argv = [str(tmp_path / a) if a == 'x.png' else a for a in argv]
    with pytest.raises(SystemExit, match=message):
        tool.main(argv)
