"""Installation script of pirl_plugin.

The OpenMMLab stack (mmcv with compiled ops in particular) is best installed
with ``tools/setup_env.sh``; ``pip install -e .`` only installs this package.
"""
import os.path as osp
from setuptools import find_packages, setup


def get_version() -> str:
    """Read ``__version__`` from ``pirl_plugin/version.py``."""
    ns: dict = {}
    with open(osp.join(osp.dirname(__file__), 'pirl_plugin',
                       'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


setup(
    name='pirl_plugin',
    version=get_version(),
    description='PIRL (Pretext-Invariant Representation Learning, CVPR 2020) '
    'for MMPretrain',
    long_description=open(osp.join(osp.dirname(__file__), 'README.md')).read()
    if osp.exists(osp.join(osp.dirname(__file__), 'README.md')) else '',
    long_description_content_type='text/markdown',
    author='pirl_plugin developers',
    license='Apache License 2.0',
    # the full text, shipped in the sdist and the wheel's dist-info
    license_files=['LICENSE'],
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.9,<3.13',
    # Ranges, not pins, so that the plugin installs into an OpenMMLab
    # environment a user already has. Lower bounds: the versions that
    # tools/setup_env.sh installs (pinned there, exactly) and the tests run
    # on. Upper bounds: the next minor release of each OpenMMLab package,
    # because the plugin relies on private or internal APIs of these
    # releases (tests/test_packaging.py checks the pins lie in the ranges):
    # - mmengine 0.10.x: pirl_plugin.utils.compat replaces the
    #   save_checkpoint name that mmengine.runner.runner imports and reads
    #   HistoryBuffer._statistics_methods for the torch.load allowlist and
    #   Runner._train_loop (pirl_plugin/utils/private_access.py, where every
    #   private attribute read lives); run_checks imports
    #   mmengine.optim.scheduler.param_scheduler.
    # - mmpretrain 1.2.x: the algorithms subclass
    #   mmpretrain.models.selfsup.base.BaseSelfSupervisor; the feature
    #   extraction reads the preprocessor's _enable_normalize and
    #   _channel_conversion; vs_mocov2 times MoCo._dequeue_and_enqueue
    #   (all through pirl_plugin/utils/private_access.py).
    # - mmcv 2.1.x: its compiled ops (mmcv.ops, needed by mmdet); mmdet 3.3
    #   refuses mmcv >= 2.2.0 when imported.
    # - mmdet 3.3.x: the detection configs and tools/det_*.py.
    # torch: 2.14.1 is the tested version; the floor is 2.6 because the
    # checkpoint code is written for torch.load's weights_only=True default
    # and passes (class, name) pairs to torch.serialization.add_safe_globals
    # (pirl_plugin.utils.compat), which older releases do not accept.
    install_requires=[
        'torch>=2.6,<3',
        'torchvision',
        'numpy>=1.24',
        'mmengine>=0.10.7,<0.11',
        'mmcv>=2.1.0,<2.2.0',
        'mmpretrain>=1.2.0,<1.3',
        'opencv-python-headless',
        'matplotlib',
        'scikit-learn',
    ],
    extras_require={
        'tests': ['pytest', 'pytest-timeout'],
        'det': ['mmdet>=3.3.0,<3.4', 'pycocotools>=2.0.8'],
    },
    classifiers=[
        'License :: OSI Approved :: Apache Software License',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3.11',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False,
)
