"""The Once-for-All accuracy predictor: an MLP on one-hot subnet codes."""
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmofa.registry import TASK_UTILS
from mmofa.utils.checkpoint import load_checkpoint_file, state_dict_of


@TASK_UTILS.register_module()
class MLPAccuracyPredictor(nn.Module):
    """Top-1 accuracy (as a fraction) of a subnet from its one-hot code.

    ``in_features -> hidden -> ... -> 1`` with ReLUs, plus a constant
    ``base_acc`` (the mean accuracy of the training set), as the official
    ``AccuracyPredictor``; its state dict has the official keys, so an
    official predictor checkpoint loads as it is.

    Args:
        in_features (int): Size of the code
            (:attr:`MobileNetV3PopulationCodec.encoding_size`).
        hidden_size (int): Width of the hidden layers. Defaults to 400.
        num_layers (int): Hidden layers. Defaults to 3.
    """

    def __init__(self,
                 in_features: int,
                 hidden_size: int = 400,
                 num_layers: int = 3):
        super().__init__()
        self.in_features = in_features
        layers = [
            nn.Sequential(
                nn.Linear(in_features if i == 0 else hidden_size, hidden_size),
                nn.ReLU(inplace=True)) for i in range(num_layers)
        ]
        layers.append(nn.Linear(hidden_size, 1, bias=False))
        self.layers = nn.Sequential(*layers)
        self.base_acc = nn.Parameter(torch.zeros(1), requires_grad=False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``[N, in_features]`` codes to ``[N]`` predicted accuracies."""
        if features.dim() != 2 or features.shape[1] != self.in_features:
            raise ValueError(
                f'predictor input has shape {tuple(features.shape)}; '
                f'expected [N, {self.in_features}] codes')
        return self.layers(features)[:, 0] + self.base_acc

    @torch.no_grad()
    def predict(self, features: np.ndarray) -> np.ndarray:
        """Accuracies of a batch of numpy codes, as float64 numpy."""
        param = self.base_acc
        inputs = torch.from_numpy(np.asarray(features, dtype=np.float32))
        return self(inputs.to(param.device)).double().cpu().numpy()

    @staticmethod
    def split(num: int, val_fraction: float,
              generator: torch.Generator) -> Tuple[np.ndarray, np.ndarray]:
        """The held-out and training indices :meth:`fit` uses (a seeded
        shuffle; call with a generator seeded as ``fit``'s ``seed``)."""
        order = torch.randperm(num, generator=generator).numpy()
        num_val = max(1, int(round(num * val_fraction)))
        return order[:num_val], order[num_val:]

    def fit(self,
            features: np.ndarray,
            accuracies: np.ndarray,
            epochs: int = 300,
            batch_size: int = 256,
            lr: float = 1e-3,
            weight_decay: float = 1e-4,
            val_fraction: float = 0.2,
            seed: int = 0,
            log_interval: int = 50) -> Tuple[float, float]:
        """Train on ``(code, accuracy)`` pairs (accuracies as fractions).

        Holds out ``val_fraction`` of the samples (after a seeded shuffle),
        sets ``base_acc`` to the mean training accuracy, and minimises the
        MSE of the residual with Adam. Returns the validation RMSE before
        and after training, in accuracy points (%).
        """
        features = np.asarray(features, dtype=np.float32)
        accuracies = np.asarray(accuracies, dtype=np.float32)
        if len(features) != len(accuracies) or len(features) < 2:
            raise ValueError(
                f'need at least 2 (code, accuracy) pairs of equal count; got '
                f'{len(features)} codes and {len(accuracies)} accuracies')
        generator = torch.Generator().manual_seed(seed)
        val, train = self.split(len(features), val_fraction, generator)
        device = self.base_acc.device
        x_train = torch.from_numpy(features[train]).to(device)
        y_train = torch.from_numpy(accuracies[train]).to(device)
        x_val = torch.from_numpy(features[val]).to(device)
        y_val = torch.from_numpy(accuracies[val]).to(device)
        self.base_acc.data.fill_(float(y_train.mean()))

        def val_rmse() -> float:
            self.eval()
            with torch.no_grad():
                error = self(x_val) - y_val
            return float(error.pow(2).mean().sqrt()) * 100

        before = val_rmse()
        optimizer = torch.optim.Adam(
            [p for p in self.parameters() if p.requires_grad],
            lr=lr,
            weight_decay=weight_decay)
        for epoch in range(epochs):
            self.train()
            perm = torch.randperm(len(train), generator=generator)
            for start in range(0, len(train), batch_size):
                index = perm[start:start + batch_size].to(device)
                loss = nn.functional.mse_loss(
                    self(x_train[index]), y_train[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            if log_interval and (epoch + 1) % log_interval == 0:
                print_log(
                    f'predictor epoch {epoch + 1}/{epochs}: validation RMSE '
                    f'{val_rmse():.3f} %',
                    logger='current')
        after = val_rmse()
        self.eval()
        return before, after


def load_predictor(checkpoint: str,
                   in_features: int,
                   device: Optional[str] = None,
                   **kwargs) -> MLPAccuracyPredictor:
    """An :class:`MLPAccuracyPredictor` from an mmofa or official
    checkpoint (a state dict, possibly under ``'state_dict'``); its layer
    sizes are read from the file."""
    state = state_dict_of(load_checkpoint_file(checkpoint), str(checkpoint))
    weights = sorted(
        k for k in state
        if k.startswith('layers.') and k.endswith('.0.weight'))
    if not weights or 'base_acc' not in state:
        raise ValueError(
            f'{checkpoint}: not an accuracy predictor checkpoint (needs '
            f'layers.N.0.weight and base_acc; has {sorted(state)[:6]})')
    hidden, features = state['layers.0.0.weight'].shape
    if features != in_features:
        raise ValueError(
            f'{checkpoint}: predictor takes codes of size {features}, the '
            f'search space and resolutions give {in_features}')
    predictor = MLPAccuracyPredictor(
        features, hidden_size=hidden, num_layers=len(weights), **kwargs)
    predictor.load_state_dict(state, strict=True)
    return predictor.to(device or 'cpu').eval()
