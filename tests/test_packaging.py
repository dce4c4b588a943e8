"""Packaging: the licence setup.py declares is shipped, its version ranges
hold the tested pins of tools/setup_env.sh, and tools share code through
pirl_plugin/ only."""
import os.path as osp

from conftest import REPO


def test_license_file_is_the_apache_2_text_and_packaged():
    text = open(osp.join(REPO, 'LICENSE')).read()
    assert text.lstrip().startswith('Apache License\n')
    assert 'Version 2.0, January 2004' in text
    assert 'TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION' \
        in text
    assert 'END OF TERMS AND CONDITIONS' in text
    assert len(text.splitlines()) > 190  # the full text, not a notice
    setup = open(osp.join(REPO, 'setup.py')).read()
    assert "license='Apache License 2.0'" in setup
    assert "license_files=['LICENSE']" in setup


def _setup_requirements():
    """install_requires and extras_require of setup.py, read with ast."""
    import ast
    tree = ast.parse(open(osp.join(REPO, 'setup.py')).read())
    call = next(
        node for node in ast.walk(tree) if isinstance(node, ast.Call)
        and getattr(node.func, 'id', None) == 'setup')
    kwargs = {
        kw.arg: ast.literal_eval(kw.value)
        for kw in call.keywords
        if kw.arg in ('install_requires', 'extras_require')
    }
    reqs = list(kwargs['install_requires'])
    for extra in kwargs['extras_require'].values():
        reqs += extra
    return reqs


def _setup_env_pins():
    """The exact versions tools/setup_env.sh installs."""
    import re
    text = open(osp.join(REPO, 'tools', 'setup_env.sh')).read()
    pins = dict(re.findall(r'"(mmengine|mmpretrain|mmdet)==([0-9.]+)"', text))
    pins['mmcv'] = re.search(r'^MMCV_VERSION="([0-9.]+)"', text, re.M)[1]
    pins['torch'] = re.search(r'TORCH_VERSION:-([0-9.]+)\}', text)[1]
    return pins


def test_setup_ranges_hold_the_pins_of_setup_env():
    """setup.py gives ranges (no exact pins) for the OpenMMLab stack, each
    with an upper bound, and every range holds the version that
    tools/setup_env.sh installs and the tests run on."""
    from packaging.requirements import Requirement
    reqs = {r.name: r for r in map(Requirement, _setup_requirements())}
    pins = _setup_env_pins()
    assert set(pins) == {'mmengine', 'mmpretrain', 'mmdet', 'mmcv', 'torch'}
    for name, version in pins.items():
        spec = reqs[name].specifier
        assert version in spec, f'{name}=={version} (setup_env.sh) not in ' \
            f'setup.py {name}{spec}'
        ops = {s.operator for s in spec}
        assert '==' not in ops and '>=' in ops and '<' in ops, \
            f'{name}{spec}: give a range with a lower and an upper bound'
        lower = next(s.version for s in spec if s.operator == '>=')
        if name != 'torch':  # the OpenMMLab floors are the tested versions
            assert lower == version, f'{name}: floor {lower}, tested {version}'


def test_tools_do_not_import_each_other():
    """Code that tools share lives in pirl_plugin/: no tool puts tools/ on
    sys.path or imports another tool's file."""
    import ast
    import glob
    tools = glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True)
    stems = {osp.splitext(osp.basename(p))[0] for p in tools}
    for path in tools:
        source = open(path).read()
        rel = osp.relpath(path, REPO)
        assert 'sys.path' not in source, f'{rel} edits sys.path'
        assert 'spec_from_file_location' not in source, rel
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or '']
            else:
                continue
            for name in names:
                assert name.split('.')[0] not in stems, \
                    f'{rel} imports the tool {name!r}: move the shared ' \
                    'code into pirl_plugin/'
