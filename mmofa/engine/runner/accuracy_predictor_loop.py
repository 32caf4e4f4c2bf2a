"""Build an accuracy data set of subnets and train the accuracy predictor."""
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from mmengine.dist import is_main_process
from mmengine.logging import print_log

from mmofa.engine.hooks.random_state_hook import (get_random_state,
                                                  set_random_state)
from mmofa.models.task_modules import MLPAccuracyPredictor
from mmofa.registry import LOOPS
from mmofa.structures import PopulationCodec
from mmofa.utils.checkpoint import save_checkpoint_file
from .subnet_loops import SubnetScoringLoop


@LOOPS.register_module()
class AccuracyPredictorLoop(SubnetScoringLoop):
    """Measure ``num_samples`` random (subnet, resolution) pairs of a
    supernet, then fit an :class:`MLPAccuracyPredictor` to them.

    Each sample is measured as in the search: BN recalibrated at its
    resolution, then evaluated on the test dataloader. Samples are drawn
    once from ``seed`` (distinct pairs) and saved to
    ``work_dir/predictor/dataset.json`` every ``save_interval`` samples, so
    a rerun continues where it stopped. The predictor (the official
    encoding and MLP size by default) goes to
    ``work_dir/predictor/predictor.pth``; the search loads it with
    ``predictor=dict(checkpoint=...)``.

    Args:
        runner, dataloader, evaluator: As :class:`SubnetTestLoop`.
        num_samples (int): Pairs to measure. Defaults to 1000.
        resolutions (list[int]): Candidate sizes (those of the search).
        seed (int): Seed of the sample. Defaults to 0.
        score_key (str): Metric to predict. Defaults to
            ``'accuracy/top1'``.
        hidden_size (int): Defaults to 400 (official).
        num_layers (int): Defaults to 3 (official).
        train (dict): Keyword arguments of
            :meth:`MLPAccuracyPredictor.fit` (epochs, lr, batch_size, ...).
        calibrate_bn, calibration_dataloader, fp16: As
            :class:`SubnetValLoop`.
        save_interval (int): Samples between saves. Defaults to 10.
    """
    stage = 'test'

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator,
                 num_samples: int = 1000,
                 resolutions: Sequence[int] = (224, ),
                 seed: int = 0,
                 score_key: str = 'accuracy/top1',
                 hidden_size: int = 400,
                 num_layers: int = 3,
                 train: Optional[dict] = None,
                 calibrate_bn: Optional[dict] = dict(),
                 calibration_dataloader: Optional[dict] = None,
                 save_interval: int = 10,
                 fp16: bool = False):
        super().__init__(runner, dataloader, evaluator, resolutions, score_key,
                         calibrate_bn, calibration_dataloader, save_interval,
                         fp16)
        self.num_samples = int(num_samples)
        self.seed = seed
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.train_cfg = dict(train or {})

    def samples(self, codec: PopulationCodec):
        """``num_samples`` distinct random pairs, the same on every rank."""
        rng = np.random.default_rng(self.seed)
        population = codec.random(0, rng)
        keys = set()
        for _ in range(1000):
            draw = codec.random(self.num_samples, rng)
            fresh = []
            for i, key in enumerate(codec.unique_keys(draw)):
                if key not in keys and len(keys) < self.num_samples:
                    keys.add(key)
                    fresh.append(i)
            population = population.concatenate(
                [population, draw[np.array(fresh, dtype=np.int64)]])
            if len(population) == self.num_samples:
                return population
        raise ValueError(f'the space has fewer than {self.num_samples} '
                         'distinct (subnet, resolution) pairs')

    def run(self) -> dict:
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        model = self.model
        codec = self.build_codec()
        population = self.samples(codec)
        subnets = codec.to_subnets(population)
        archs = [model.dump_subnet(subnet, 'arch_dict') for subnet in subnets]
        directory = Path(self.runner.work_dir) / 'predictor'
        dataset_file = directory / 'dataset.json'
        settings = dict(
            num_samples=self.num_samples,
            seed=self.seed,
            resolutions=list(self.resolutions),
            score_key=self.score_key)
        scores = self._load(dataset_file, settings)
        saved = self._snapshot(model)
        random_state = get_random_state()
        start, todo = time.perf_counter(), len(subnets) - len(scores)
        try:
            for i, subnet in enumerate(subnets):
                if i < len(scores):
                    continue
                scores.append(self.measure_score(subnet, self.score_key))
                done = len(scores)
                if done % self.save_interval == 0 or done == len(subnets):
                    self._save(dataset_file, settings, archs, scores)
                    elapsed = time.perf_counter() - start
                    left = elapsed / (done - (len(subnets) - todo)) * (
                        len(subnets) - done)
                    print_log(
                        f'accuracy data set: {done}/{len(subnets)} subnets '
                        f'measured, last {scores[-1]:.2f}, about '
                        f'{left:.0f} s left',
                        logger='current')
        finally:
            self._restore(model, saved)
            set_random_state(random_state)
        predictor = MLPAccuracyPredictor(codec.encoding_size, self.hidden_size,
                                         self.num_layers)
        before, after = predictor.fit(
            codec.encode(population),
            np.asarray(scores) / 100, **self.train_cfg)
        if is_main_process():
            save_checkpoint_file(
                dict(
                    state_dict=predictor.state_dict(),
                    meta=dict(
                        resolutions=list(self.resolutions),
                        num_samples=len(scores),
                        val_rmse=after)), directory / 'predictor.pth')
        print_log(
            f'accuracy predictor: validation RMSE {before:.3f} % (mean '
            f'accuracy) -> {after:.3f} % (trained); saved to '
            f'{directory / "predictor.pth"}',
            logger='current')
        metrics = {
            'predictor/val_rmse': after,
            'predictor/baseline_rmse': before
        }
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    def _save(self, path: Path, settings: dict, archs: list,
              scores: list) -> None:
        self.save_progress(
            path, settings,
            dict(samples=[
                dict(subnet=arch, score=score)
                for arch, score in zip(archs, scores)
            ]))

    def _load(self, path: Path, settings: dict) -> list:
        data = self.load_progress(path, settings)
        return [] if data is None else [
            float(s['score']) for s in data['samples']
        ]
