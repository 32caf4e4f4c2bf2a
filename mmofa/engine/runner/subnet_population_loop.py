"""Evaluate a population of subnets: random, FLOPs buckets or a file."""
import hashlib
import json
import random
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import torch.distributed as dist
from mmengine.dist import (all_gather_object, broadcast_object_list,
                           get_dist_info, get_world_size, is_main_process)
from mmengine.logging import print_log

from mmofa.engine.dist import patient_group
from mmofa.engine.progress import ProgressLog
from mmofa.registry import LOOPS
from mmofa.structures import read_subnet_file
from mmofa.structures.subnet_base import is_number
from mmofa.utils.arguments import check_keys
from .population_results import (combine_records, merge_shards, parse_shard,
                                 shard_indices, shard_path, write_population)
from .subnet_loops import (SubnetScoringLoop, expand_subnet_spec,
                           run_subnet_loop)

POPULATION_KEYS = dict(
    random=(('num', ), ('seed', )),
    flops_buckets=(('targets', ), ('tolerance', 'num_per_target', 'seed',
                                   'max_draws')),
    file=(('path', ), ('reference_key', )))
POPULATION_DEFAULTS = dict(
    random=dict(seed=0),
    flops_buckets=dict(
        tolerance=0.5, num_per_target=10, seed=0, max_draws=100000),
    file=dict(reference_key='acc'))


@LOOPS.register_module()
class SubnetPopulationLoop(SubnetScoringLoop):
    """Evaluate many subnets of a supernet, each after BN recalibration,
    with their MFLOPs and params; results to JSON, CSV and a plot.

    The population is one of:

    - ``dict(type='random', num=100, seed=0)``: random subnets (the same
      as ``SubnetValLoop``'s ``dict(type='random', ...)``);
    - ``dict(type='flops_buckets', targets=[200, 300], tolerance=0.5,
      num_per_target=10, seed=0, max_draws=100000)``: per target (MFLOPs)
      and resolution, random subnets within ``tolerance`` of it, by
      rejection sampling;
    - ``dict(type='file', path=..., reference_key='acc')``: a JSON or YAML
      list of subnets, a mapping name -> subnet, or the CVPR 2022 NAS
      track's ``{name: {"arch": subnet or code, "acc": reference}}``.

    Each subnet is evaluated at its own resolution, else at each of
    ``resolutions`` (names get ``_R<size>`` when there are several). Every
    process evaluates a shard of the population on its own (calibration
    and evaluation images are not split across processes, so results do
    not depend on the split): under ``torchrun`` process ``rank`` takes
    shard ``rank/world_size``; independent workers take ``shard='i/n'``.
    Each shard saves its results to
    ``work_dir/population/shards/shard_<i>_of_<n>.json`` every
    ``save_interval`` subnets; a rerun with the same settings skips what
    is there. When all shards are done the results are merged into
    ``work_dir/population/`` (see :func:`write_population`).

    Args:
        runner, dataloader, evaluator: As :class:`SubnetTestLoop`.
        population (dict): The subnets, see above.
        resolutions (list[int]): Sizes for subnets without their own.
        score_key (str): The metric reported as each subnet's accuracy.
        shard (str | tuple, optional): ``'i/n'``: evaluate shard ``i`` of
            ``n`` (0-based) in this process; only without ``torchrun``.
        calibrate_bn, calibration_dataloader, fp16: As
            :class:`SubnetValLoop`.
        save_interval (int): Subnets between saves. Defaults to 10.
        merge_timeout (float): Under torchrun, how long (seconds) processes
            that are done wait for the others before the merge. Shards end
            at different times (resumed shards, slower devices) by more
            than the process group's collective timeout, so the merge uses
            a gloo group of its own with this timeout. Defaults to 7 days.
    """
    stage = 'test'
    per_process = True

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator,
                 population: dict = dict(type='random', num=100, seed=0),
                 resolutions: Sequence[int] = (224, ),
                 score_key: str = 'accuracy/top1',
                 shard: Union[str, Tuple[int, int], None] = None,
                 calibrate_bn: Optional[dict] = dict(),
                 calibration_dataloader: Optional[dict] = None,
                 save_interval: int = 10,
                 fp16: bool = False,
                 merge_timeout: float = 7 * 24 * 3600):
        super().__init__(runner, dataloader, evaluator, resolutions, score_key,
                         calibrate_bn, calibration_dataloader, save_interval,
                         fp16)
        self.population = check_population(population)
        self.shard = None if shard is None else parse_shard(
            shard, 'test_cfg.shard')
        self.merge_timeout = merge_timeout

    # --------------------------------------------------------- population
    def population_entries(self, model) -> List[dict]:
        """Every (subnet, resolution) of the population, in order: dicts
        with ``name``, ``subnet``, ``resolution`` and, where known, ``arch``
        (as given in the file), ``reference`` and ``target``."""
        spec = self.population
        if spec['type'] == 'random':
            named = [(name, subnet, {}) for name, subnet in expand_subnet_spec(
                model, dict(type='random', num=spec['num'], seed=spec['seed']))
                     ]
            return self._sized(named)
        if spec['type'] == 'flops_buckets':
            return self._bucket_entries(model, spec)
        return self._sized(self._file_subnets(model, spec))

    def _sized(self, named) -> List[dict]:
        entries = []
        for name, subnet, extra in named:
            sizes = ([subnet.resolution]
                     if subnet.resolution else self.resolutions)
            for size in sizes:
                entries.append(
                    dict(
                        extra,
                        name=name if len(sizes) == 1 else f'{name}_R{size}',
                        subnet=subnet,
                        resolution=size))
        return entries

    def _bucket_entries(self, model, spec: dict) -> List[dict]:
        entries = []
        tolerance, wanted = spec['tolerance'], spec['num_per_target']
        for size in self.resolutions:
            for target in spec['targets']:
                generator = random.Random(f'{spec["seed"]}-{target}-{size}')
                found = 0
                for _ in range(spec['max_draws']):
                    subnet = model.sample_subnet('random', generator)
                    flops = model.estimate_resources(subnet, size)['macs']
                    if abs(flops / 1e6 - target) <= tolerance:
                        name = f'flops{target:g}-{found}'
                        if len(self.resolutions) > 1:
                            name += f'_R{size}'
                        entries.append(
                            dict(
                                name=name,
                                subnet=subnet,
                                resolution=size,
                                target=target))
                        found += 1
                        if found == wanted:
                            break
                else:
                    low, high = (
                        model.estimate_resources(
                            model.sample_subnet(mode), size)['macs'] / 1e6
                        for mode in ('min', 'max'))
                    raise ValueError(
                        f'population flops_buckets: target {target:g} '
                        f'MFLOPs at {size}px: {found} of {wanted} subnets '
                        f'within +-{tolerance:g} after max_draws = '
                        f'{spec["max_draws"]} random draws; subnets range '
                        f'from {low:.2f} to {high:.2f} MFLOPs there. Widen '
                        'the tolerance, raise max_draws or move the target')
        return entries

    def _file_subnets(self, model, spec: dict) -> list:
        path = spec['path']
        data = read_subnet_file(path)
        if isinstance(data, list):
            items = [(f'subnet{i}', item) for i, item in enumerate(data)]
        elif isinstance(data, dict) and data:
            items = list(data.items())
        else:
            raise ValueError(f'population file {path}: expected a list of '
                             'subnets or a mapping name -> subnet, got '
                             f'{type(data).__name__}')
        named = []
        for name, item in items:
            extra = {}
            if isinstance(item, dict) and 'arch' in item:
                extra['arch'] = item['arch']
                reference = item.get(spec['reference_key'])
                if is_number(reference):
                    extra['reference'] = float(reference)
                item = item['arch']
            source = f'population file {path}, entry {name!r}'
            try:
                subnet = model.backbone.parse_subnet(item, source)
            except (KeyError, TypeError, ValueError) as error:
                message = str(error)
                if source not in message:
                    message = f'{source}: {message}'
                raise ValueError(message) from None
            named.append((str(name), subnet, extra))
        return named

    def population_settings(self, entries: List[dict]) -> dict:
        """What the saved results depend on (checked on resume/merge)."""
        population = dict(self.population)
        if population['type'] == 'file':
            path = Path(population.pop('path'))
            population['file'] = path.name
            population['sha256'] = hashlib.sha256(
                path.read_bytes()).hexdigest()
        names = hashlib.sha256('\n'.join(
            f'{e["name"]}@{e["resolution"]}'
            for e in entries).encode()).hexdigest()
        checkpoint = self.runner.cfg.get('load_from')
        return dict(
            population=population,
            resolutions=list(self.resolutions),
            score_key=self.score_key,
            calibrate_bn=self.calibrate_bn,
            checkpoint=None if checkpoint is None else Path(checkpoint).name,
            total=len(entries),
            names_sha256=names)

    def process_shard(self) -> Tuple[int, int]:
        """``(index, count)`` of the shard this process evaluates."""
        rank, world_size = get_dist_info()
        if world_size > 1:
            if self.shard is not None:
                raise ValueError(
                    f'shard = {self.shard[0]}/{self.shard[1]} and '
                    f'{world_size} processes: under torchrun each process '
                    'takes its own shard; give no shard')
            return rank, world_size
        return self.shard or (0, 1)

    # ---------------------------------------------------------------- run
    def run(self) -> dict:
        model = self.model
        if not hasattr(model, 'set_subnet'):
            raise TypeError(f'{type(self).__name__} needs a supernet (an OFA '
                            f'model), not {type(model).__name__}')
        self.check_resolutions(model)
        return run_subnet_loop(self, self._evaluate_population)

    def _evaluate_population(self) -> dict:
        model = self.model
        index, count = self.process_shard()
        # Made while the processes are together; used once all are done.
        group = patient_group(self.merge_timeout) if get_world_size() > 1 \
            else None
        try:
            entries = self.population_entries(model)
            settings = self.population_settings(entries)
            records = self.evaluate_shard(entries, settings, index, count)
            summary = self.merge(settings, records, index, count, group)
        finally:
            if group is not None:
                dist.destroy_process_group(group)
        metrics = {}
        if summary is not None:
            for key in ('num_subnets', 'mean_score', 'kendall_tau'):
                if summary.get(key) is not None:
                    metrics[f'population/{key}'] = summary[key]
        return metrics

    def evaluate_shard(self, entries: List[dict], settings: dict, index: int,
                       count: int) -> List[dict]:
        """Evaluate this process's shard, resuming from its file."""
        path = shard_path(self.output_dir, index, count)
        shard_settings = dict(settings, shard=[index, count])
        data = self.load_progress(path, shard_settings)
        records = {} if data is None else {
            r['index']: r
            for r in data['records']
        }
        indices = shard_indices(len(entries), index, count)
        todo = [i for i in indices if i not in records]
        label = 'population' + (f' shard {index}/{count}' if count > 1 else '')
        if records:
            print_log(
                f'{label}: resuming, {len(records)} of {len(indices)} '
                f'subnets already evaluated ({path})',
                logger='current')

        def save() -> None:
            self.save_progress(
                path,
                shard_settings,
                dict(records=[records[i] for i in sorted(records)]),
                main_process_only=False)

        progress = ProgressLog(
            len(indices),
            f'{label}: subnets evaluated',
            done=len(indices) - len(todo))
        for done, i in enumerate(todo, 1):
            records[i] = self.evaluate_entry(i, entries[i])
            if done % self.save_interval == 0 or done == len(todo):
                save()
            last = records[i]
            progress.update(f'{last["name"]}: {last["score"]:.2f} at '
                            f'{last["flops"]:.2f} MFLOPs')
        if not todo:
            save()
        return [records[i] for i in sorted(records)]

    def evaluate_entry(self, index: int, entry: dict) -> dict:
        """BN recalibration and evaluation of one entry, its costs and the
        architecture written to the submission JSON."""
        model = self.model
        subnet, size = entry['subnet'], entry['resolution']
        metrics = self.subnet_evaluator.evaluate(subnet, size)
        if self.score_key not in metrics:
            raise KeyError(f'score_key {self.score_key!r} is not among the '
                           f'metrics {sorted(metrics)}')
        cost = model.estimate_resources(subnet, size)
        record = dict(
            index=index,
            name=entry['name'],
            resolution=size,
            flops=cost['macs'] / 1e6,
            params=cost['params'] / 1e6,
            score=float(metrics[self.score_key]),
            metrics={
                k: _scalar(v)
                for k, v in metrics.items()
            },
            arch=entry['arch'] if 'arch' in entry else self.dump_arch(
                subnet, size))
        for key in ('target', 'reference'):
            if key in entry:
                record[key] = entry[key]
        return json.loads(json.dumps(record))  # as a merge reads it back

    def dump_arch(self, subnet, resolution: int):
        """The subnet as the backbone's architecture code where it has one
        (``dump_subnet(fmt='arch_code')``), else as an mmofa mapping with
        its resolution."""
        model = self.model
        if 'arch_code' in model.backbone.subnet_formats:
            return model.dump_subnet(subnet, 'arch_code')
        return model.dump_subnet(subnet.with_resolution(resolution), 'mmofa')

    # -------------------------------------------------------------- merge
    @property
    def output_dir(self) -> Path:
        return Path(self.runner.work_dir) / 'population'

    def merge(self,
              settings: dict,
              records: List[dict],
              index: int,
              count: int,
              group: Optional[dist.ProcessGroup] = None) -> Optional[dict]:
        """Merge all shards and write the outputs (main process): gathered
        from the processes under torchrun (over ``group``), read from the
        shard files for independent workers (once all are done). Returns
        the summary, or None while shards are missing."""
        summary = None
        if get_world_size() > 1:
            parts = all_gather_object(records, group)
            if is_main_process():
                summary = self._write(
                    settings, combine_records(parts, settings['total']))
            shared = [summary]
            broadcast_object_list(shared, group=group)
            return shared[0]
        if count == 1:
            return self._write(settings, records)
        try:
            merged_settings, merged = merge_shards(self.output_dir)
        except ValueError as error:
            print_log(
                f'population shard {index}/{count} done; not merged yet: '
                f'{error}',
                logger='current')
            return None
        return self._write(merged_settings, merged)

    def _write(self, settings: dict, records: List[dict]) -> dict:
        summary = write_population(self.output_dir, settings, records)
        tau = summary.get('kendall_tau')
        print_log(
            f'population: {summary["num_subnets"]} subnets, '
            f'{self.score_key} mean {summary["mean_score"]:.2f} '
            f'(min {summary["min_score"]:.2f}, max '
            f'{summary["max_score"]:.2f})' +
            ('' if 'num_references' not in summary else
             f', Kendall tau with the references {tau}') +
            f'; written to {self.output_dir}',
            logger='current')
        return summary


def check_population(population: dict) -> dict:
    """The population spec with its defaults; unknown or missing keys are
    an error naming what is allowed."""
    if not isinstance(population,
                      dict) or population.get('type') not in POPULATION_KEYS:
        raise ValueError(
            f'population = {population!r}: expected a dict with type '
            f'{" / ".join(repr(t) for t in POPULATION_KEYS)}, e.g. '
            "dict(type='random', num=100, seed=0)")
    spec = dict(population)
    kind = spec.pop('type')
    required, optional = POPULATION_KEYS[kind]
    check_keys(spec, optional, f'population type {kind!r}', required)
    spec = dict(POPULATION_DEFAULTS[kind], **spec, type=kind)
    counts = dict(
        random=('num', ), flops_buckets=('num_per_target', 'max_draws'))
    for key in counts.get(kind, ()):
        if not isinstance(spec[key], int) or spec[key] < 1:
            raise ValueError(f'population {kind}: {key} = {spec[key]!r} must '
                             'be a positive integer')
    if kind == 'flops_buckets':
        if not spec['targets'] or spec['tolerance'] < 0:
            raise ValueError(f'population flops_buckets: targets = '
                             f'{spec["targets"]!r} must not be empty and '
                             f'tolerance = {spec["tolerance"]!r} must be '
                             '>= 0')
        spec['targets'] = [float(t) for t in spec['targets']]
        spec['tolerance'] = float(spec['tolerance'])
    return spec


def _scalar(value):
    """A metric as a plain number where it is one (JSON-safe)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
