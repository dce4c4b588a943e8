"""Figures that stay true: the README's small-data table is the one its
committed JSON gives, and compare_mocov2.py's rows merge into that JSON."""
import os.path as osp

import pytest

from pirl_plugin.evaluation import results_table as rt

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
RESULTS = osp.join(REPO, 'docs', 'results', 'small_data.json')


def test_readme_small_data_table_is_the_committed_json():
    with open(osp.join(REPO, 'README.md')) as f:
        readme = f.read()
    assert rt.table_in(readme) == rt.render_table(rt.load_rows(RESULTS))


def test_committed_json_names_init_and_source_of_every_row():
    rows = rt.load_rows(RESULTS)
    assert rows
    for row in rows:
        assert row['init'] in ('standard', 'zero_init'), row
        assert row['source'], row
    # the reference: the standard-init untrained network over the trained
    # runs' seeds
    digits = [r for r in rows if r['dataset'] == 'digits']
    trained_seeds = {r['seed'] for r in digits if r['method'] != 'untrained'}
    std_seeds = {
        r['seed']
        for r in digits
        if r['method'] == 'untrained' and r['init'] == 'standard'
    }
    assert trained_seeds and trained_seeds <= std_seeds


def _result(seed, pirl_knn):
    return dict(
        seed=seed,
        command='tools/analysis/compare_mocov2.py --data-root d',
        methods=dict(
            pirl=dict(
                knn_top1=pirl_knn,
                linear_top1=90.0,
                init='zero_init',
                iterations=608,
                checkpoint='x.pth'),
            untrained=dict(
                knn_top1=83.333,
                linear_top1=87.777,
                init='standard',
                checkpoint=None)))


def test_rows_merge_by_dataset_method_init_and_seed():
    rows = rt.rows_from_result(_result(0, 80.0), 'digits')
    assert {(r['method'], r['init'], r['iterations'])
            for r in rows} == {('pirl', 'zero_init', 608),
                               ('untrained', 'standard', None)}
    assert [r['knn_top1'] for r in rows
            if r['method'] == 'untrained'] == [83.333]
    rows = rt.merge_rows(rows, rt.rows_from_result(_result(1, 84.0), 'digits'))
    rows = rt.merge_rows(rows, rt.rows_from_result(_result(0, 82.0), 'digits'))
    assert len(rows) == 4
    table = rt.render_table(
        sorted(rows, key=lambda r: (r['method'], r['seed'])))
    line = next(s for s in table.splitlines() if '| pirl |' in s)
    # seed 0 replaced (82, not 80), seed 1 added; the mean of the two
    assert '| 0, 1 | 82.0 / 84.0 (mean 83.0) |' in line
    text = f'a\n{rt.BEGIN}\nold\n{rt.END}\nb\n'
    assert rt.table_in(rt.replace_table(text, table)) == table
    with pytest.raises(ValueError, match='results-table:begin'):
        rt.table_in('no markers')


def test_a_budget_sweep_records_one_row_per_budget():
    """``--record`` of a ``--budgets`` sweep: a row per method, init and
    budget, the untrained networks once; budgets stay apart in the table
    and a later sweep replaces only its own budgets."""

    def sweep(seed, knn):
        return dict(
            seed=seed,
            command='tools/analysis/compare_mocov2.py --budgets 600,4800',
            untrained=dict(standard=dict(knn_top1=83.333, linear_top1=87.8)),
            runs=[
                dict(
                    method='pirl',
                    init='standard',
                    iterations=it,
                    knn_top1=knn + it / 1000,
                    linear_top1=90.0) for it in (608, 4807)
            ])

    rows = rt.rows_from_budget_result(sweep(0, 80.0), 'digits')
    assert sorted((r['method'], r['iterations'], r['knn_top1']) for r in rows
                  if r['method'] == 'pirl') == [('pirl', 608, 80.608),
                                                ('pirl', 4807, 84.807)]
    assert [(r['init'], r['iterations'], r['knn_top1']) for r in rows
            if r['method'] == 'untrained'] == [('standard', None, 83.333)]
    rows = rt.merge_rows(rows,
                         rt.rows_from_budget_result(sweep(1, 90.0), 'digits'))
    assert len(rows) == 6
    lines = [
        ln for ln in rt.render_table(rows).splitlines() if '| pirl |' in ln
    ]
    assert len(lines) == 2
    assert '| 608 | 0, 1 | 80.6 / 90.6 (mean 85.6) |' in lines[0]
    assert '| 4807 | 0, 1 | 84.8 / 94.8 (mean 89.8) |' in lines[1]
    # a later sweep of one budget replaces that budget's row only
    again = sweep(0, 70.0)
    again['runs'] = again['runs'][:1]
    rows = rt.merge_rows(rows, rt.rows_from_budget_result(again, 'digits'))
    assert sorted(
        (r['iterations'], r['knn_top1']) for r in rows
        if (r['method'], r['seed']) == ('pirl', 0)) == [(608, 70.608),
                                                        (4807, 84.807)]


def test_a_row_renders_as_the_probe_rounds_it():
    """A row is stored with enough decimals that its table cell is the
    probe's value rounded once (81.85185 -> 81.9; stored as 81.85 it
    showed 81.8 while the budget table showed 81.9)."""
    result = _result(0, 81.85185185)
    rows = rt.rows_from_result(result, 'digits')
    table = rt.render_table(rows)
    assert f'{81.85185185:.1f}' == '81.9'
    assert '| 81.9 |' in table
