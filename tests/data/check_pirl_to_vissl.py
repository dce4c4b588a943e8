"""Check with VISSL's own code that ``pirl_to_vissl`` output is what VISSL
expects: VISSL loads it strictly and computes the same features.

Not a test (it needs VISSL 0.1.6 installed as in ``make_vissl_manifest.py``).
Two steps, two environments::

    # 1. this project's environment: random PIRL models of the 4 zoo
    #    architectures, converted with pirl_to_vissl; inputs and our
    #    backbone / f / g outputs saved
    python tests/data/check_pirl_to_vissl.py ours /tmp/vcheck
    # 2. VISSL's environment: build VISSL's models, load the converted
    #    files strictly (set_classy_state, loss.load_state_dict) and compare
    /tmp/vissl_venv/bin/python tests/data/check_pirl_to_vissl.py vissl \\
        /tmp/vcheck

Result on 2026-12-06 (VISSL 0.1.6, torch 2.14.1, CPU): every architecture
loads strictly, and the largest absolute difference between VISSL's and
our pooled res5 features, f and g is 0.0 for all four.
"""
import os.path as osp
import sys

import torch

HERE = osp.dirname(osp.abspath(__file__))
MODELS = {
    'resnet50': 'pirl_r50.py',
    'resnet50_mlphead': 'pirl_r50_mlphead.py',
    'resnet50_w2': 'pirl_r50w2.py',
    'resnet50_w2_mlphead': 'pirl_r50w2_mlphead.py',
}


def ours(folder):
    from mmengine.config import Config
    from mmpretrain.registry import MODELS as REGISTRY

    import pirl_plugin  # noqa: F401
    from pirl_plugin.utils.vissl_convert import convert_to_vissl
    for arch, config in MODELS.items():
        cfg = Config.fromfile(
            osp.join(HERE, '..', '..', 'configs', '_base_', 'models', config))
        cfg.model.memory_bank.num_samples = 300
        torch.manual_seed(0)
        model = REGISTRY.build(cfg.model).eval()
        for m in model.modules():  # BatchNorm statistics that matter
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
        state = model.state_dict()
        state['head.z'] = torch.tensor([3e4, 3e4], dtype=torch.float64)
        src = osp.join(folder, f'{arch}.pth')
        torch.save({'state_dict': state, 'meta': {'epoch': 1}}, src)
        convert_to_vissl(src, osp.join(folder, f'{arch}.torch'))
        x = torch.randn(18, 3, 64, 64)
        with torch.no_grad():
            feat = model.backbone(x)
            out = dict(
                x=x,
                pooled=feat[0].mean((2, 3)),
                f=model.neck(feat)[0],
                g=model.transform_neck(feat)[0])
        torch.save(out, osp.join(folder, f'{arch}_io.pth'))


def vissl(folder):
    sys.path.insert(0, HERE)
    from make_vissl_manifest import VARIANTS, build
    for arch, override in VARIANTS.items():
        model, loss, _ = build(override)
        ckpt = torch.load(osp.join(folder, f'{arch}.torch'), weights_only=True)
        model.set_classy_state(ckpt['classy_state_dict']['base_model'])
        loss.load_state_dict(ckpt['loss'])
        model.eval()
        io = torch.load(osp.join(folder, f'{arch}_io.pth'))
        with torch.no_grad():
            pooled = model.trunk(io['x'], out_feat_keys=['flatten'])[0]
            f = model.heads[1](pooled)
            g = pooled
            for module in model.heads[0]:
                g = module(g)
        diffs = [(a - io[k]).abs().max().item()
                 for k, a in (('pooled', pooled), ('f', f), ('g', g))]
        print(arch, 'loaded strictly; max |diff| trunk, f, g:', diffs)


if __name__ == '__main__':
    {'ours': ours, 'vissl': vissl}[sys.argv[1]](sys.argv[2])
