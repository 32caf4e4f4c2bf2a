"""Evaluation of a named set of subnets, each after BN recalibration."""
import copy
import itertools
import json
import random
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.dist import is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.evaluator.metric import _to_cpu
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop, ValLoop
from torch.utils.data import DataLoader, SequentialSampler

from mmofa.datasets import innermost_dataset_cfg
from mmofa.engine.hooks.random_state_hook import (get_random_state,
                                                  set_random_state)
from mmofa.engine.hooks.subnet_visualization_hook import SUBNET_NAME_KEY
from mmofa.engine.progress import ProgressLog, format_metrics
from mmofa.engine.subnet_export import class_names_meta
from mmofa.models.task_modules import count_macs_params
from mmofa.models.utils import recalibrate_bn, resize_batch
from mmofa.registry import LOOPS
from mmofa.structures import PopulationCodec, check_resolution
from mmofa.utils.arguments import check_keys
from mmofa.utils.checkpoint import atomic_write

DIM_SHORT_NAMES = OrderedDict(
    depth='D', expand_ratio='E', kernel_size='K', width_mult='W')
RESIZE_TRANSFORMS = ('ResizeCenterCrop', 'mmofa.ResizeCenterCrop')


def set_eval_size(pipeline: Sequence, resolution: int) -> int:
    """Set the size of every evaluation resize of ``pipeline`` (in place)
    to ``resolution``; returns how many there are."""
    resizes = [
        t for t in pipeline
        if isinstance(t, dict) and t.get('type') in RESIZE_TRANSFORMS
    ]
    for transform in resizes:
        transform['size'] = resolution
    return len(resizes)


class SubnetEvaluator:
    """Evaluates one subnet of a loop's model: the evaluation loader of
    each resolution (its ``mmofa.ResizeCenterCrop`` set to the size), BN
    recalibration on seeded calibration data, and the evaluation itself,
    shared across processes or, with ``per_process``, by each process on
    all images (a sharded population). Every subnet loop holds one.

    Args:
        loop: The loop (its runner, dataloader, evaluator, ``run_iter``).
        dataloader (dict, optional): The evaluation dataloader's config
            (rebuilt per resolution).
        calibrate_bn (dict | None): ``num_images`` (2000), ``batch_size``
            (200), ``seed`` (0) and ``num_workers`` of BN recalibration;
            None keeps the stored statistics.
        calibration_dataloader (dict, optional): Calibration data; defaults
            to the config's ``train_dataloader``.
        many_resolutions (bool): The loop evaluates at several sizes (then
            the pipeline needs a ``ResizeCenterCrop``).
        per_process (bool): Evaluate in each process on its own.
    """

    def __init__(self,
                 loop,
                 dataloader: Optional[dict],
                 calibrate_bn: Optional[dict],
                 calibration_dataloader: Optional[dict],
                 many_resolutions: bool = False,
                 per_process: bool = False):
        self.loop = loop
        self._dataloader_cfg = copy.deepcopy(dataloader)
        self.calibrate_bn = None
        if calibrate_bn is not None:
            check_keys(calibrate_bn,
                       ('num_images', 'batch_size', 'seed', 'num_workers'),
                       'calibrate_bn')
            self.calibrate_bn = dict(
                dict(num_images=2000, batch_size=200, seed=0), **calibrate_bn)
        self._calibration_cfg = calibration_dataloader
        self.many_resolutions = many_resolutions
        self.per_process = per_process
        self._loaders: Dict[int, DataLoader] = {}
        self._local_loaders: Dict[int, DataLoader] = {}
        self._calibration_loader: Optional[DataLoader] = None
        #: What the last :meth:`evaluate` recalibrated, for progress lines.
        self.last_calibration = ''

    def loader_for(self, resolution: int) -> DataLoader:
        """The evaluation dataloader at ``resolution`` (built once)."""
        if resolution in self._loaders:
            return self._loaders[resolution]
        cfg = copy.deepcopy(self._dataloader_cfg)
        if cfg is None or not set_eval_size(
                cfg.get('dataset', {}).get('pipeline', []), resolution):
            if self._loaders or self.many_resolutions:
                raise ValueError(
                    f'evaluating at {resolution}px and other sizes needs an '
                    'mmofa.ResizeCenterCrop in the dataloader pipeline')
            loader = self.loop.dataloader
        else:
            loader = self.loop.runner.build_dataloader(
                cfg, seed=self.loop.runner.seed)
        self._loaders[resolution] = loader
        return loader

    def calibration_batches(self, resolution: int):
        """Preprocessed calibration batches resized to ``resolution``.

        The same images with the same augmentation every time: the random
        generators that the loader and its transforms draw from are seeded
        from ``calibrate_bn.seed`` while it runs (and restored after), so
        a subnet recalibrated twice gets the same statistics.
        """
        if self._calibration_loader is None:
            self._calibration_loader = self._build_calibration_loader()
        preprocessor = self.loop.model.data_preprocessor
        outer_state = get_random_state()
        seed = self.calibrate_bn['seed']
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        # A line every 10 s once it has lasted 10 s (many images, slow
        # loading); a quick recalibration logs nothing.
        progress = ProgressLog(
            len(self._calibration_loader),
            f'BN recalibration at {resolution} px: batches',
            interval=10.0,
            after=10.0)
        try:
            for batch in self._calibration_loader:
                inputs = preprocessor(batch, False)['inputs']
                yield resize_batch(inputs, resolution)
                progress.update()
        finally:
            set_random_state(outer_state)

    def _build_calibration_loader(self) -> DataLoader:
        cfg = copy.deepcopy(self._calibration_cfg)
        if cfg is None:
            train_cfg = self.loop.runner.cfg.get('train_dataloader')
            if train_cfg is None:
                raise ValueError(
                    'BN calibration needs training images: give '
                    'calibration_dataloader or a train_dataloader in the '
                    'config, or set calibrate_bn=None')
            cfg = copy.deepcopy(train_cfg)
        # Each image once: not the repeats of a RepeatDataset.
        cfg['dataset'] = innermost_dataset_cfg(cfg['dataset'])
        cfg.pop('batch_sampler', None)
        calib = self.calibrate_bn
        cfg['batch_size'] = calib['batch_size']
        cfg['sampler'] = dict(
            type='mmofa.FixedSubsetSampler',
            num_images=calib['num_images'],
            seed=calib['seed'])
        if self.per_process:  # all images, augmented alike in every rank
            cfg['sampler'].update(num_replicas=1, rank=0)
            cfg['worker_init_fn'] = dict(type='mmofa.seed_worker', rank=0)
        if 'num_workers' in calib:
            cfg['num_workers'] = calib['num_workers']
        # Workers seeded afresh on every pass (see calibration_batches).
        cfg['persistent_workers'] = False
        return self.loop.runner.build_dataloader(
            cfg, seed=self.loop.runner.seed)

    def evaluate(self, subnet, resolution: int) -> dict:
        """Activate ``subnet`` (None: a static model as it is), recalibrate
        BN at ``resolution`` if configured (static models too: their
        statistics are those of the size they were calibrated at), and
        evaluate there."""
        if subnet is not None:
            self.loop.model.set_subnet(subnet.with_resolution(resolution))
        self.last_calibration = ''
        if self.calibrate_bn is not None:
            start = time.perf_counter()
            images = recalibrate_bn(
                self.loop.model,
                self.calibration_batches(resolution),
                all_reduce=not self.per_process)
            self.last_calibration = (
                f' (BN recalibrated on {images} images at {resolution} px '
                f'in {time.perf_counter() - start:.1f} s)')
        return self.evaluate_at(resolution)

    def measure_score(self, subnet, score_key: str) -> float:
        """The metric ``score_key`` of ``subnet`` at its resolution."""
        result = self.evaluate(subnet, subnet.resolution)
        if score_key not in result:
            raise KeyError(f'score_key {score_key!r} is not among the '
                           f'metrics {sorted(result)}')
        return float(result[score_key])

    def evaluate_at(self, resolution: int) -> dict:
        loader = self.loader_for(resolution)
        if self.per_process:
            if resolution not in self._local_loaders:
                self._local_loaders[resolution] = local_loader(loader)
            loader = self._local_loaders[resolution]
        for idx, data_batch in enumerate(loader):
            self.loop.run_iter(idx, data_batch)
        if self.per_process:
            return evaluate_locally(self.loop.evaluator, len(loader.dataset))
        return self.loop.evaluator.evaluate(len(loader.dataset))


def model_of(loop) -> nn.Module:
    """The loop's model, unwrapped from a distributed wrapper."""
    model = loop.runner.model
    return model.module if is_model_wrapper(model) else model


def run_subnet_loop(loop, work: Callable[[], dict]) -> dict:
    """What every subnet loop's ``run`` does around its ``work``: the
    runner's hooks of its stage, eval mode, and afterwards the model's
    subnet, buffers and the random generators as they were (an evaluation
    leaves no trace in training). Returns ``work``'s metrics."""
    runner, stage = loop.runner, loop.stage
    runner.call_hook(f'before_{stage}')
    runner.call_hook(f'before_{stage}_epoch')
    runner.model.eval()
    model = model_of(loop)
    saved = snapshot(model)
    random_state = get_random_state()  # evaluation draws no training
    try:
        metrics = work()
    finally:
        restore(model, saved)
        set_random_state(random_state)
    runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
    runner.call_hook(f'after_{stage}')
    return metrics


def check_supernet_resolutions(model, resolutions, where: str) -> None:
    """Every configured size is one the supernet can take."""
    for size in resolutions:
        check_resolution(size, where, model.search_space.min_resolution)


def snapshot(model):
    """Everything an evaluation may change: buffers, choices, resolution."""
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    if not hasattr(model, 'mutator'):
        return buffers, None, None
    return buffers, model.mutator.current_choices, model.resolution


def restore(model, saved) -> None:
    """Put back what :func:`snapshot` saved."""
    buffers, choices, resolution = saved
    for key, value in model.named_buffers():
        value.copy_(buffers[key])
    if choices is not None:
        model.mutator.set_choices(choices)
        model.resolution = resolution


def expand_subnet_spec(model, spec) -> List[Tuple[str, object]]:
    """``(name, subnet)`` pairs of one entry of a loop's ``subnets``."""
    mutator = model.mutator
    if spec in ('max', 'min'):
        mutator.set_choices(mutator.sample_choices(spec))
        return [(spec, model.backbone.current_subnet())]
    if spec == 'current':
        return [('current', model.current_subnet())]
    if spec == 'grid':
        return uniform_grid(model)
    if isinstance(spec, dict) and spec.get('type') == 'random':
        generator = random.Random(spec.get('seed', 0))
        return [(f'random{i}',
                 model.sample_subnet('random',
                                     generator).with_resolution(None))
                for i in range(spec['num'])]
    if isinstance(spec, (str, Path)):
        return [(Path(spec).stem, model.backbone.parse_subnet(spec))]
    if isinstance(spec, dict) and 'name' in spec and 'subnet' in spec:
        return [
            (spec['name'],
             model.backbone.parse_subnet(spec['subnet'], source=spec['name']))
        ]
    raise ValueError(
        f'unknown subnet spec {spec!r}; allowed: "max", "min", "grid", '
        '"current", dict(type="random", num=N, seed=0), a subnet file, '
        'or dict(name=..., subnet=...)')


def uniform_grid(model) -> List[Tuple[str, object]]:
    """Official uniform grid: {min, max} of every elastic dimension."""
    mutator = model.mutator
    dims = [d for d in DIM_SHORT_NAMES if d in mutator.dims]
    dims += [d for d in mutator.dims if d not in dims]
    subnets, seen = [], set()
    for ends in itertools.product((0, -1), repeat=len(dims)):
        end_of = dict(zip(dims, ends))
        choices = {
            name: mutator.allowed_choices(name)[end_of[members[0].dim]]
            for name, members in mutator.groups.items()
        }
        mutator.set_choices(choices)
        subnet = model.backbone.current_subnet()
        if subnet in seen:
            continue
        seen.add(subnet)
        parts = []
        for dim in dims:
            values = {
                choices[n]
                for n, members in mutator.groups.items()
                if members[0].dim == dim
            }
            value = values.pop() if len(values) == 1 else (
                'min' if end_of[dim] == 0 else 'max')
            parts.append(f'{DIM_SHORT_NAMES.get(dim, dim)}{value}')
        subnets.append(('-'.join(parts), subnet))
    return subnets


@LOOPS.register_module()
class SubnetValLoop(ValLoop):
    """Validation of a set of subnets, each after BN recalibration.

    For every subnet and resolution: activate it, recalibrate BN running
    statistics on a fixed subset of training images resized to that
    resolution (all-reduced across processes), evaluate, and report the
    metrics prefixed with the subnet's name (``max_R224/accuracy/top1``).
    The model's subnet and all its buffers are restored afterwards, so
    validation has no effect on training. A static (exported) model is
    evaluated as it is.

    Args:
        runner: The runner.
        dataloader (dict): Evaluation dataloader; with several resolutions
            its pipeline needs an ``mmofa.ResizeCenterCrop``.
        evaluator (dict | list): The evaluator.
        subnets (list): In order, any of: ``'max'`` / ``'min'`` (under the
            current constraints), ``'grid'`` (the official uniform grid,
            {min, max} of every dimension), ``'current'`` (the active one),
            ``dict(type='random', num=N, seed=0)``, a subnet file, or
            ``dict(name=..., subnet=...)``. Defaults to max and min.
        resolutions (list[int]): Sizes for subnets without their own.
            Defaults to ``[224]``.
        calibrate_bn (dict | None): ``num_images`` (2000), ``batch_size``
            (200), ``seed`` (0) and ``num_workers`` of BN recalibration;
            None keeps the stored statistics.
        calibration_dataloader (dict, optional): Calibration data; defaults
            to the config's ``train_dataloader`` (training augmentation).
        fp16 (bool): Evaluate in fp16. Defaults to False.
        out (str, optional): A ``.json`` or ``.pkl`` file for each
            subnet's metrics and per-image predictions.
    """
    stage = 'val'
    #: Evaluates a list of subnets (``subnets``) of a supernet.
    evaluates_subnets = True
    #: Needs a supernet (a static subnet's config has no such loop).
    supernet_only = False
    default_subnets: Sequence = ('max', 'min')

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 subnets: Optional[Sequence] = None,
                 resolutions: Optional[Sequence[int]] = None,
                 calibrate_bn: Optional[dict] = dict(),
                 calibration_dataloader: Optional[dict] = None,
                 fp16: bool = False,
                 out: Optional[str] = None):
        self.subnets = list(self.default_subnets if subnets is
                            None else subnets)
        # A static model is tested at its own resolution unless sizes are
        # given.
        self.resolutions_given = resolutions is not None
        self.resolutions = [int(r) for r in resolutions or (224, )]
        if not self.resolutions:
            raise ValueError('resolutions must not be empty')
        self.subnet_evaluator = SubnetEvaluator(
            self, dataloader if isinstance(dataloader, dict) else None,
            calibrate_bn, calibration_dataloader,
            len(self.resolutions) > 1)
        super().__init__(runner, dataloader, evaluator, fp16)
        self.out = out
        self._recorder = None
        if out is not None:
            if Path(out).suffix not in ('.json', '.pkl'):
                raise ValueError(f'{self.stage}_cfg.out = {out!r}: give a '
                                 '.json or .pkl file')
            self._recorder = PredictionRecorder()
            self.evaluator.metrics.append(self._recorder)

    @property
    def model(self):
        return model_of(self)

    def named_subnets(self) -> List[Tuple[str, object, int]]:
        """``(name, subnet, resolution)`` to evaluate, in order."""
        model = self.model
        if not hasattr(model, 'set_subnet'):
            # A static model that knows its subnet's size is tested there,
            # unless the loop names sizes.
            own = getattr(model, 'resolution', None)
            sizes = self.resolutions if self.resolutions_given or not own \
                else [own]
            for size in sizes:
                check_resolution(size, f'{self.stage}_cfg.resolutions',
                                 getattr(model, 'min_resolution', 1))
            return [(f'static_R{r}', None, r) for r in sizes]
        check_supernet_resolutions(model, self.resolutions,
                                   f'{self.stage}_cfg.resolutions')
        entries = []
        for spec in self.subnets:
            for name, subnet in expand_subnet_spec(model, spec):
                sizes = ([subnet.resolution]
                         if subnet.resolution else self.resolutions)
                entries += [(f'{name}_R{r}', subnet, r) for r in sizes]
        return entries

    def run(self) -> dict:
        return run_subnet_loop(self, self._evaluate_all)

    def _evaluate_all(self) -> dict:
        model = self.model
        entries = self.named_subnets()
        metrics, rows = OrderedDict(), []
        progress = ProgressLog(len(entries), f'{self.stage} subnets')
        message_hub = self.runner.message_hub
        predictions = OrderedDict()
        evaluator = self.subnet_evaluator
        try:
            for name, subnet, resolution in entries:
                message_hub.update_info(SUBNET_NAME_KEY, name)
                result = evaluator.evaluate(subnet, resolution)
                if self._recorder is not None:
                    predictions[name] = dict(
                        resolution=resolution,
                        subnet=None
                        if subnet is None else model.dump_subnet(subnet),
                        metrics=dict(result),
                        predictions=self._recorder.take())
                metrics.update(
                    (f'{name}/{key}', value) for key, value in result.items())
                rows.append((name, subnet, resolution, result))
                progress.update(f'{name}: {format_metrics(result)}'
                                f'{evaluator.last_calibration}')
        finally:
            message_hub.update_info(SUBNET_NAME_KEY, None)
        self._log_table(model, rows)
        if self.out is not None and is_main_process():
            write_predictions(self.out, predictions)
        return metrics

    def _log_table(self, model, rows) -> None:
        if not rows:
            return
        keys = list(rows[0][3])
        width = max(len('subnet'), *(len(r[0]) for r in rows))
        header = f'{"subnet":<{width}} {"MFLOPs":>8} {"Params(M)":>9} ' + \
            ' '.join(f'{k:>16}' for k in keys)
        lines = [header, '-' * len(header)]
        for name, subnet, resolution, result in rows:
            if subnet is not None:
                cost = model.estimate_resources(subnet, resolution)
                macs, params = cost['macs'], cost['params']
            else:  # the static model's own count
                macs, params = count_macs_params(
                    model, (1, 3, resolution, resolution),
                    lambda m, x: m(x, mode='tensor'))
            flops = f'{macs / 1e6:>8.1f}'
            params = f'{params / 1e6:>9.2f}'
            values = ' '.join(f'{result.get(k, float("nan")):>16.2f}'
                              for k in keys)
            lines.append(f'{name:<{width}} {flops} {params} {values}')
        print_log(
            f'{self.stage} subnets:\n' + '\n'.join(lines), logger='current')


@LOOPS.register_module()
class SubnetTestLoop(SubnetValLoop):
    """Test of a set of subnets; arguments as :class:`SubnetValLoop`,
    ``subnets`` defaulting to the active one (``'current'``)."""
    stage = 'test'
    default_subnets = ('current', )
    # The test hooks (``before_test_iter``...), not the validation ones.
    run_iter = TestLoop.run_iter

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.test_loss: Dict[str, list] = {}  # what TestLoop.run_iter fills


class SubnetScoringLoop(TestLoop):
    """What the search and the accuracy-predictor loops share: candidate
    (subnet, resolution) pairs of a supernet, scored by ``score_key`` after
    BN recalibration, with progress saved to JSON files in the work dir.

    Args:
        runner, dataloader, evaluator, calibrate_bn,
        calibration_dataloader, fp16: As :class:`SubnetValLoop`.
        resolutions (list[int]): Candidate input sizes.
        score_key (str): The metric that scores a candidate.
        save_interval (int): How often progress is saved.
    """
    stage = 'test'
    supernet_only = True
    evaluates_subnets = False
    # True: each process recalibrates and evaluates on its own, on all
    # calibration and evaluation images (a sharded population), instead of
    # sharing both across processes.
    per_process = False

    def __init__(self, runner, dataloader, evaluator,
                 resolutions: Sequence[int], score_key: str,
                 calibrate_bn: Optional[dict],
                 calibration_dataloader: Optional[dict], save_interval: int,
                 fp16: bool):
        self.resolutions = [int(r) for r in resolutions]
        if not self.resolutions:
            raise ValueError('resolutions must not be empty')
        self.subnet_evaluator = SubnetEvaluator(
            self, dataloader if isinstance(dataloader, dict) else None,
            calibrate_bn, calibration_dataloader,
            len(self.resolutions) > 1, self.per_process)
        super().__init__(runner, dataloader, evaluator, fp16)
        self.score_key = score_key
        self.save_interval = max(1, int(save_interval))

    @property
    def model(self):
        return model_of(self)

    @property
    def calibrate_bn(self) -> Optional[dict]:
        return self.subnet_evaluator.calibrate_bn

    def check_resolutions(self, model) -> None:
        check_supernet_resolutions(model, self.resolutions,
                                   f'{self.stage}_cfg.resolutions')

    def class_names(self) -> Optional[dict]:
        """The class names of the dataset scored on (``dict(classes=...)``,
        for exported subnets), None without one."""
        dataset = getattr(getattr(self, 'dataloader', None), 'dataset', None)
        return class_names_meta(getattr(dataset, 'metainfo', None))

    def measure_score(self, subnet, score_key: str) -> float:
        return self.subnet_evaluator.measure_score(subnet, score_key)

    def build_codec(self) -> PopulationCodec:
        """The population codec of the supernet's family, for
        ``resolutions``."""
        model = self.model
        if not hasattr(model, 'search_space'):
            raise TypeError(f'{type(self).__name__} needs a supernet (an OFA '
                            f'model), not {type(model).__name__}')
        self.check_resolutions(model)
        return model.backbone.population_codec(self.resolutions,
                                               model.mutator.couplings)

    @staticmethod
    def save_progress(path: Path,
                      settings: dict,
                      data: dict,
                      main_process_only: bool = True) -> None:
        """Write ``data`` with the ``settings`` it belongs to (atomically;
        by the main process only, unless ``main_process_only`` is False)."""
        if is_main_process() or not main_process_only:
            text = json.dumps(dict(settings=settings, **data))
            atomic_write(path, lambda file: file.write(text.encode()))

    @staticmethod
    def load_progress(path: Path, settings: dict) -> Optional[dict]:
        """What :meth:`save_progress` wrote, if it was saved with the same
        settings; other settings are an error naming each difference."""
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        saved = data.pop('settings')
        wanted = json.loads(json.dumps(settings))
        if saved != wanted:
            changed = ', '.join(f'{k}: {saved.get(k)!r} -> {wanted.get(k)!r}'
                                for k in sorted(set(saved) | set(wanted))
                                if saved.get(k) != wanted.get(k))
            raise ValueError(
                f'{path} was saved with other settings ({changed}); remove '
                'it or use another work_dir to start afresh')
        return data


class PredictionRecorder(BaseMetric):
    """Keeps each sample's prediction (gathered across processes) for
    ``out``; adds no metric."""

    def __init__(self):
        super().__init__(collect_device='cpu')
        self._taken = []

    def process(self, data_batch, data_samples) -> None:
        for sample in data_samples:
            record = dict(
                pred_label=int(sample['pred_label']),
                pred_score=[float(v) for v in sample['pred_score']])
            if 'gt_label' in sample:
                record['gt_label'] = int(sample['gt_label'])
            if 'img_path' in sample:
                record['img_path'] = str(sample['img_path'])
            self.results.append(record)

    def compute_metrics(self, results: list) -> dict:
        self._taken = list(results)
        return {}

    def take(self) -> list:
        """The predictions of the last evaluation (main process)."""
        taken, self._taken = self._taken, []
        return taken


def write_predictions(path, subnets: dict) -> None:
    """Per-subnet metrics and predictions to ``path`` (.json or .pkl)."""
    path = Path(path)
    if path.suffix == '.json':
        text = json.dumps(dict(subnets=subnets), indent=1)
        atomic_write(path, lambda file: file.write(text.encode()))
    else:
        import pickle
        atomic_write(path,
                     lambda file: pickle.dump(dict(subnets=subnets), file))
    print_log(
        f'predictions and metrics of {len(subnets)} subnet(s) '
        f'written to {path}',
        logger='current')


def local_loader(loader: DataLoader) -> DataLoader:
    """``loader``'s dataset, batches and workers, every sample in order in
    this process alone (no split across processes, no padding)."""
    if loader.batch_size is None:
        raise ValueError('per-process evaluation needs a dataloader with a '
                         'batch_size, not a batch_sampler')
    return DataLoader(
        loader.dataset,
        batch_size=loader.batch_size,
        sampler=SequentialSampler(loader.dataset),
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        worker_init_fn=loader.worker_init_fn,
        persistent_workers=loader.persistent_workers)


def evaluate_locally(evaluator, size: int) -> dict:
    """What ``evaluator.evaluate(size)`` computes, from this process's
    results alone (no gathering across processes)."""
    metrics = {}
    for metric in evaluator.metrics:
        values = metric.compute_metrics(_to_cpu(metric.results[:size]))
        metric.results.clear()
        if metric.prefix:
            values = {f'{metric.prefix}/{k}': v for k, v in values.items()}
        for name in values:
            if name in metrics:
                raise ValueError(f'two metrics of the evaluator are named '
                                 f'{name!r}; give them different prefixes')
        metrics.update(values)
    return metrics
