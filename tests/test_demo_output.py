"""`make demo` ends with its result: MMEngine's per-parameter
init_weights report stays out of the demo's evaluation output."""
import pytest
from conftest import run_tool

BUILD = '''
import sys
sys.path.insert(0, 'tools')
import demo
if sys.argv[1] == 'quiet':
    demo.quiet_init_logs()
from mmengine.logging import MMLogger, print_log
from mmpretrain.models import ResNet
ResNet(depth=18, base_channels=8, init_cfg=[
    dict(type='Kaiming', layer=['Conv2d']),
    dict(type='Constant', val=1, layer=['_BatchNorm'])]).init_weights()
print_log('a warning stays', logger='current', level=30)
'''

MARK = 'The value is the same before and after calling `init_weights`'


@pytest.mark.parametrize('mode', ['quiet', 'default'])
def test_demo_evaluation_hides_the_init_weights_report(mode):
    proc = run_tool(['-c', BUILD, mode])
    out = proc.stdout + proc.stderr
    assert 'a warning stays' in out
    if mode == 'quiet':
        assert MARK not in out and 'init_weights' not in out, out[-2000:]
    else:  # what the demo printed before (the test sees the report)
        assert out.count(MARK) > 20
