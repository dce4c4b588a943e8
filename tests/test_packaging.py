"""The licence setup.py declares is shipped with the package."""
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
