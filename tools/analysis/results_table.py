"""Print, check or update the markdown table of a results JSON (see
:mod:`pirl_plugin.evaluation.results_table`).

    python tools/analysis/results_table.py docs/results/small_data.json
    python tools/analysis/results_table.py docs/results/small_data.json \\
        --update README.md      # rewrite the table between the markers
    python tools/analysis/results_table.py docs/results/small_data.json \\
        --check README.md       # exit 1 when the README's table differs

Rows are added by ``tools/analysis/compare_mocov2.py --record FILE
--dataset NAME``.
"""
import argparse
import sys

from pirl_plugin.evaluation.results_table import (load_rows, render_table,
                                                  replace_table, table_in)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('results', help='the results JSON')
    group = p.add_mutually_exclusive_group()
    group.add_argument('--update', metavar='MARKDOWN')
    group.add_argument('--check', metavar='MARKDOWN')
    args = p.parse_args(argv)
    rows = load_rows(args.results)
    if not rows:
        sys.exit(f'{args.results}: no rows (add some with '
                 'tools/analysis/compare_mocov2.py --record)')
    table = render_table(rows)
    path = args.update or args.check
    if path is None:
        print(table, end='')
        return 0
    with open(path) as f:
        text = f.read()
    if args.check:
        if table_in(text) != table:
            print(f'{path}: the results table differs from {args.results}; '
                  f'run this tool with --update {path}')
            return 1
        return 0
    with open(path, 'w') as f:
        f.write(replace_table(text, table))
    return 0


if __name__ == '__main__':
    sys.exit(main())
