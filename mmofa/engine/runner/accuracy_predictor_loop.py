"""Build an accuracy data set of subnets and train the accuracy predictor."""
import json
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.logging import print_log

from mmofa.engine.progress import ProgressLog
from mmofa.models.task_modules import MLPAccuracyPredictor
from mmofa.registry import LOOPS
from mmofa.structures import PopulationCodec
from mmofa.utils.checkpoint import save_checkpoint_file
from .population_results import kendall_tau
from .subnet_loops import SubnetScoringLoop, run_subnet_loop


@LOOPS.register_module()
class AccuracyPredictorLoop(SubnetScoringLoop):
    """Measure ``num_samples`` random (subnet, resolution) pairs of a
    supernet (of any family), then fit an :class:`MLPAccuracyPredictor` to
    them, or fit it to a population measured before (``dataset``: the
    results of ``tools/analysis/eval_population.py``, e.g. the CVPR 2022
    track's subnets). The held-out share is reported as RMSE and as
    Kendall's tau between predicted and measured accuracy.

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
        dataset (str, optional): A population's ``results.json`` (written
            by ``tools/analysis/eval_population.py`` /
            ``merge_population.py``) to fit instead of measuring samples;
            its subnets' resolutions must be among ``resolutions``.
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
                 fp16: bool = False,
                 dataset: Optional[str] = None):
        super().__init__(runner, dataloader, evaluator, resolutions, score_key,
                         calibrate_bn, calibration_dataloader, save_interval,
                         fp16)
        self.dataset = dataset
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
        return run_subnet_loop(self, self._build)

    def _build(self) -> dict:
        codec = self.build_codec()
        directory = Path(self.runner.work_dir) / 'predictor'
        if self.dataset is not None:
            population, scores = self.read_dataset(codec)
        else:
            population, scores = self.measure(codec, directory)
        return self.fit(codec, population, scores, directory)

    def read_dataset(self, codec: PopulationCodec):
        """The subnets and scores of a population's ``results.json``."""
        path = Path(self.dataset)
        if not path.is_file():
            raise FileNotFoundError(
                f'test_cfg.dataset {str(path)!r} does not exist (the '
                'results.json of tools/analysis/eval_population.py)')
        data = json.loads(path.read_text())
        if 'subnets' not in data or 'settings' not in data:
            raise ValueError(f'{path} is not a population results.json '
                             '(settings, summary, subnets)')
        backbone = self.model.backbone
        subnets, scores = [], []
        for i, record in enumerate(data['subnets']):
            subnet = backbone.parse_subnet(record['arch'],
                                           f'{path}: subnet {i}')
            subnets.append(subnet.with_resolution(record['resolution']))
            scores.append(float(record['score']))
        print_log(
            f'accuracy predictor: {len(subnets)} measured subnets from '
            f'{path}',
            logger='current')
        return codec.from_subnets(subnets), scores

    def measure(self, codec: PopulationCodec, directory: Path):
        """``num_samples`` random pairs, measured (resumable)."""
        model = self.model
        population = self.samples(codec)
        subnets = codec.to_subnets(population)
        fmt = 'arch_dict' if 'arch_dict' in model.backbone.subnet_formats \
            else model.backbone.subnet_formats[0]
        archs = [model.dump_subnet(subnet, fmt) for subnet in subnets]
        dataset_file = directory / 'dataset.json'
        settings = dict(
            num_samples=self.num_samples,
            seed=self.seed,
            resolutions=list(self.resolutions),
            score_key=self.score_key)
        scores = self._load(dataset_file, settings)
        progress = ProgressLog(
            len(subnets),
            'accuracy data set: subnets measured',
            interval=10.0,
            done=len(scores))
        for i, subnet in enumerate(subnets):
            if i < len(scores):
                continue
            scores.append(self.measure_score(subnet, self.score_key))
            done = len(scores)
            if done % self.save_interval == 0 or done == len(subnets):
                self._save(dataset_file, settings, archs, scores)
            progress.update(f'last {scores[-1]:.2f}')
        return population, scores

    def fit(self, codec: PopulationCodec, population, scores: list,
            directory: Path) -> dict:
        """Fit, save and report the predictor (RMSE and Kendall's tau on
        the held-out share)."""
        features = codec.encode(population)
        accuracies = np.asarray(scores) / 100
        predictor = MLPAccuracyPredictor(codec.encoding_size, self.hidden_size,
                                         self.num_layers)
        before, after = predictor.fit(features, accuracies, **self.train_cfg)
        held_out, _ = predictor.split(
            len(features), self.train_cfg.get('val_fraction', 0.2),
            torch.Generator().manual_seed(self.train_cfg.get('seed', 0)))
        tau = kendall_tau(
            predictor.predict(features[held_out]), accuracies[held_out])
        if is_main_process():
            save_checkpoint_file(
                dict(
                    state_dict=predictor.state_dict(),
                    meta=dict(
                        resolutions=list(self.resolutions),
                        num_samples=len(scores),
                        val_rmse=after,
                        val_kendall_tau=tau)), directory / 'predictor.pth')
        print_log(
            f'accuracy predictor: validation RMSE {before:.3f} % (mean '
            f'accuracy) -> {after:.3f} % (trained), Kendall tau {tau:.4f} '
            f'on {len(held_out)} held-out subnets; saved to '
            f'{directory / "predictor.pth"}',
            logger='current')
        return {
            'predictor/val_rmse': after,
            'predictor/baseline_rmse': before,
            'predictor/val_kendall_tau': tau
        }

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
