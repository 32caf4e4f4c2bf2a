"""The runtimes latency tables are measured in: torch eager, ONNX Runtime
(CPU, or CUDA with onnxruntime-gpu) and TensorRT (through ONNX Runtime's
TensorRT execution provider). Each prepares modules (exports, builds
sessions) and times them, and describes itself (runtime, versions, device,
threads) for the table file.

Timing is interleaved: every round runs each prepared module once, in
turn, and a module's latency is the median over the rounds. A module thus
runs as it does inside a network, after other layers have taken the caches
(timed back to back, a block finds its weights in cache, which it does not
in a network: tables came out 20 % under end-to-end timings), and a machine
that slows down for a while slows every module alike instead of the few
timed then (back-to-back timings of the same 30 subnets disagreed by a
Kendall tau of 0.44 to 0.9 on a shared 2-core machine; interleaved, 0.92 to
0.96).
"""
import io
import statistics
import time
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

#: What ``build_latency_table.py --runtime`` takes.
RUNTIMES = ('torch', 'onnxruntime', 'tensorrt')


def _median_and_spread(times) -> Tuple[float, float]:
    """Median of ``times`` and their spread: the interquartile range
    relative to the median."""
    median = statistics.median(times)
    if len(times) < 4 or median <= 0:
        return median, 0.0
    low, high = np.percentile(times, [25, 75])
    return median, float((high - low) / median)


#: One prepared forward: calling it runs the module once in the runtime.
Runnable = Callable[[], object]
#: How a module to time is given: ``(build, input shape)``; built only
#: when its turn to be prepared comes.
ModuleToTime = Tuple[Callable[[], nn.Module], Tuple[int, ...]]
#: Parameter bytes of the modules prepared and timed together: more are
#: timed in groups of this size (each group interleaved).
GROUP_BYTES = 2**30


class LatencyRuntime:
    """Times modules in one runtime, interleaved (see the module's doc).

    A runtime implements :meth:`prepare` (and :meth:`version`); the timing
    protocol is the base's.

    Args:
        device (str): ``'cpu'`` or ``'cuda'``.
        threads (int, optional): CPU threads of the runtime (torch's, or
            ONNX Runtime's intra-op threads); None leaves its default.
        warmup (int): Untimed rounds before the timed ones. Defaults to 3.
        repeats (int): Timed rounds; the median of a module's runs is its
            latency. Defaults to 30.
    """
    name = ''

    def __init__(self,
                 device: str = 'cpu',
                 threads: Optional[int] = None,
                 warmup: int = 3,
                 repeats: int = 30):
        if device not in ('cpu', 'cuda'):
            raise ValueError(f"device = {device!r}; allowed: 'cpu', 'cuda'")
        if device == 'cuda' and not torch.cuda.is_available():
            raise RuntimeError(f'--runtime {self.name} --device cuda: this '
                               'machine has no usable GPU (torch finds none)')
        self.device = device
        self.threads = threads
        self.warmup = int(warmup)
        self.repeats = max(1, int(repeats))

    def describe(self) -> dict:
        """What the table file records of the runtime."""
        return dict(
            name=self.name,
            version=self.version(),
            device=self.device
            if self.device == 'cpu' else torch.cuda.get_device_name(),
            threads=self.threads
            if self.threads is not None else torch.get_num_threads())

    def version(self) -> str:
        raise NotImplementedError

    def prepare(self, module: nn.Module, inputs: torch.Tensor) -> Runnable:
        """``module(inputs)`` made ready to run in this runtime (exported,
        compiled, on the device): a call runs it once."""
        raise NotImplementedError

    def time_runnables(self, runnables: Sequence[Runnable]
                       ) -> List[Tuple[float, float]]:
        """``(median ms, spread)`` of each prepared runnable: ``warmup``
        untimed rounds, then ``repeats`` rounds, each running every
        runnable once in turn."""
        cuda = self.device == 'cuda'
        times = [[] for _ in runnables]
        for round_ in range(self.warmup + self.repeats):
            for i, run in enumerate(runnables):
                if cuda:
                    torch.cuda.synchronize()
                start = time.perf_counter()
                run()
                if cuda:
                    torch.cuda.synchronize()
                if round_ >= self.warmup:
                    times[i].append((time.perf_counter() - start) * 1000)
        return [_median_and_spread(t) for t in times]

    def time_modules(self,
                     modules: Sequence[ModuleToTime],
                     progress: Optional[Callable[[int], None]] = None,
                     group_bytes: int = GROUP_BYTES
                     ) -> List[Tuple[float, float]]:
        """``(median ms, spread)`` of each module on a random input of its
        shape, timed interleaved; modules are prepared and timed in groups
        of at most ``group_bytes`` of parameters (one group for every
        network here but the largest ResNets). ``progress(n)`` is called
        as the figures of ``n`` more modules are known."""
        results: List[Tuple[float, float]] = []
        group: List[Runnable] = []
        size = 0

        def time_group():
            results.extend(self.time_runnables(group))
            if progress is not None:
                progress(len(group))
            group.clear()

        for build, shape in modules:
            module = build().eval()
            nbytes = sum(p.numel() * p.element_size()
                         for p in module.parameters())
            if group and size + nbytes > group_bytes:
                time_group()
                size = 0
            group.append(self.prepare(module, torch.randn(*shape)))
            size += nbytes
        if group:
            time_group()
        return results

    def time(self, module: nn.Module,
             inputs: torch.Tensor) -> Tuple[float, float]:
        """``(median ms, spread)`` of ``module(inputs)`` alone in this
        runtime (back to back: warm caches)."""
        return self.time_runnables([self.prepare(module, inputs)])[0]


class TorchRuntime(LatencyRuntime):
    """Torch eager mode, no grad, synchronised on GPUs."""
    name = 'torch'

    def version(self) -> str:
        return f'torch {torch.__version__}'

    def prepare(self, module, inputs):
        module = module.to(self.device).eval()
        inputs = inputs.to(self.device)

        def run():
            with torch.no_grad():
                return module(inputs)

        return run


class Touch(nn.Module):
    """The least a runtime can run on an input: one element of it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :1]


class LogitsOf(nn.Module):
    """``model(images, mode='tensor')`` as a plain ``forward`` (what ONNX
    export and runtimes see of a classifier)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images, mode='tensor')


def onnx_bytes(module: nn.Module, inputs: torch.Tensor) -> bytes:
    """``module`` exported to ONNX for the shape of ``inputs``: the
    TorchScript exporter (fast: a latency table exports hundreds of
    parts), else the dynamo exporter where the first is gone."""
    buffer = io.BytesIO()
    module = module.cpu().eval()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            torch.onnx.export(
                module, (inputs.cpu(), ),
                buffer,
                input_names=['input'],
                output_names=['output'],
                dynamo=False)
        except (TypeError, RuntimeError, ValueError):
            buffer = io.BytesIO()
            torch.onnx.export(
                module, (inputs.cpu(), ),
                buffer,
                input_names=['input'],
                output_names=['output'],
                dynamo=True,
                verbose=False)
    return buffer.getvalue()


class OnnxRuntime(LatencyRuntime):
    """ONNX Runtime: the CPU execution provider on ``'cpu'``, the CUDA one
    on ``'cuda'`` (onnxruntime-gpu). The module is exported to ONNX
    first; ONNX Runtime's graph optimisations (fusions) apply."""
    name = 'onnxruntime'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = self.providers()[0]

    def providers(self) -> list:
        try:
            import onnxruntime
        except ImportError:
            raise ImportError(
                f'--runtime {self.name} needs onnxruntime: pip install '
                'onnxruntime (onnxruntime-gpu for --device cuda)') from None
        wanted = self.wanted_provider()
        available = onnxruntime.get_available_providers()
        if wanted not in available:
            raise RuntimeError(
                f'--runtime {self.name} --device {self.device} needs '
                f'ONNX Runtime\'s {wanted}, which onnxruntime '
                f'{onnxruntime.__version__} here lacks (it has {available}): '
                f'{self.install_hint()}')
        return [wanted]

    def wanted_provider(self) -> str:
        return 'CPUExecutionProvider' if self.device == 'cpu' else \
            'CUDAExecutionProvider'

    def install_hint(self) -> str:
        return 'pip install onnxruntime-gpu on a machine with a GPU'

    def version(self) -> str:
        import onnxruntime
        return f'onnxruntime {onnxruntime.__version__} ({self.provider})'

    def session(self, module: nn.Module, inputs: torch.Tensor):
        import onnxruntime
        options = onnxruntime.SessionOptions()
        if self.threads is not None:
            options.intra_op_num_threads = int(self.threads)
            options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(
            onnx_bytes(module, inputs), options, providers=[self.provider])

    def prepare(self, module, inputs):
        session = self.session(module, inputs)
        feed: Dict[str, np.ndarray] = {
            session.get_inputs()[0].name: inputs.cpu().numpy()
        }
        return lambda: session.run(None, feed)


class TensorRTRuntime(OnnxRuntime):
    """TensorRT through ONNX Runtime's TensorRT execution provider
    (onnxruntime-gpu built with TensorRT, and the tensorrt package); GPU
    only."""
    name = 'tensorrt'

    def __init__(self, device: str = 'cuda', **kwargs):
        if device != 'cuda':
            raise ValueError(f'--runtime tensorrt runs on GPUs: --device '
                             f'{device!r} must be cuda')
        super().__init__(device, **kwargs)

    def wanted_provider(self) -> str:
        return 'TensorrtExecutionProvider'

    def install_hint(self) -> str:
        return ('pip install onnxruntime-gpu tensorrt on a machine with an '
                'NVIDIA GPU')


def build_runtime(name: str, **kwargs) -> LatencyRuntime:
    """The runtime called ``name`` (one of :data:`RUNTIMES`)."""
    classes = dict(
        torch=TorchRuntime, onnxruntime=OnnxRuntime, tensorrt=TensorRTRuntime)
    if name not in classes:
        raise ValueError(f'runtime {name!r}; allowed: {list(RUNTIMES)}')
    return classes[name](**kwargs)
