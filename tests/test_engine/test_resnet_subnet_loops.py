"""SubnetValLoop with the OFA ResNet supernet."""
import torch
from helpers import REPO, make_imagenet_like, perturb_
from mmengine.config import Config
from mmengine.runner import Runner

from mmofa.utils import register_all_modules


def test_subnet_val_loop_on_the_resnet_supernet(tmp_path, monkeypatch):
    data = make_imagenet_like(
        tmp_path / 'data', num_train=8, num_val=4, size=48)
    monkeypatch.setenv('MMOFA_TEST_DATA', str(data))
    register_all_modules()
    cfg = Config.fromfile(REPO / 'tests/configs/tiny_resnet_val.py')
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    model = runner.model
    perturb_(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    subnet = model.set_subnet(dict(d=1, e=0.25, w=1))

    metrics = runner.val_loop.run()

    names = sorted({key.split('/')[0] for key in metrics})
    grid = sorted(f'D{d}-E{e}-W{w}_R{r}' for d in (0, 2) for e in (0.2, 0.35)
                  for w in (0.65, 1.0) for r in (32, 40))
    expected = ['max_R32', 'max_R40', 'min_R32', 'min_R40'
                ] + [f'random{i}_R{r}' for i in range(2)
                     for r in (32, 40)] + grid
    assert names == sorted(expected)
    assert all(0 <= value <= 100 for value in metrics.values())
    # The grid's ends are the max and min subnets: same scores.
    for r in (32, 40):
        assert metrics[f'D2-E0.35-W1.0_R{r}/accuracy/top1'] == metrics[
            f'max_R{r}/accuracy/top1']
        assert metrics[f'D0-E0.2-W0.65_R{r}/accuracy/top1'] == metrics[
            f'min_R{r}/accuracy/top1']
    # Validation leaves the subnet and every buffer as they were.
    assert model.current_subnet() == subnet
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
