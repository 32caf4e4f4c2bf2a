import random

import pytest
import torch.nn as nn

from mmofa.models.mutables import ChoiceError, OneShotMutableValue
from mmofa.models.mutators import OFAMutator


class TinySupernet(nn.Module):
    """Two stages of two blocks: a kernel and an expand mutable per block."""

    def __init__(self):
        super().__init__()
        self.mutables = nn.ModuleList()
        for stage in (1, 2):
            for block in (0, 1):
                prefix = f'layer{stage}.{block}'
                self.mutables.append(
                    OneShotMutableValue([3, 5, 7], f'{prefix}.kernel_size'))
                self.mutables.append(
                    OneShotMutableValue([3, 4, 6], f'{prefix}.expand_ratio'))
            self.mutables.append(
                OneShotMutableValue([1, 2], f'layer{stage}.depth'))


def make_mutator(**kwargs):
    supernet = TinySupernet()
    mutator = OFAMutator(**kwargs)
    mutator.prepare_from_supernet(supernet)
    return supernet, mutator


def test_mutable_choices_and_errors():
    mutable = OneShotMutableValue([7, 3, 5], 'layer2.0.kernel_size')
    assert mutable.candidates == (3, 5, 7)
    assert mutable.current_choice == 7 and mutable.dim == 'kernel_size'
    mutable.current_choice = 5.0
    assert mutable.current_choice == 5 and isinstance(mutable.current_choice,
                                                      int)
    with pytest.raises(
            ChoiceError,
            match=r'layer2.0.kernel_size = 9 is not '
            r'allowed; allowed: \[3, 5, 7\]'):
        mutable.current_choice = 9
    with pytest.raises(ChoiceError, match='repeat'):
        OneShotMutableValue([3, 3], 'x')
    with pytest.raises(ChoiceError, match='numbers'):
        OneShotMutableValue(['3'], 'x')
    assert mutable.derive(lambda k: k * 2).candidates == (6, 10, 14)


def test_mutator_finds_groups_and_dims():
    _, mutator = make_mutator()
    assert len(mutator.groups) == 10
    assert mutator.dims == ('kernel_size', 'expand_ratio', 'depth')
    assert mutator.search_space['layer1.depth'] == (1, 2)


def test_sampling_is_reproducible_with_a_seed():
    _, mutator = make_mutator()
    first = mutator.sample_choices('random', generator=123)
    again = mutator.sample_choices('random', generator=random.Random(123))
    assert first == again
    draws = {
        tuple(mutator.sample_choices('random', generator=seed).values())
        for seed in range(20)
    }
    assert len(draws) > 10
    assert set(mutator.sample_choices('max').values()) == {7, 6, 2}
    assert set(mutator.sample_choices('min').values()) == {3, 1}


def test_set_and_current_choices():
    supernet, mutator = make_mutator()
    mutator.set_choices({'layer1.0.kernel_size': 3, 'layer2.depth': 1})
    assert supernet.mutables[0].current_choice == 3
    assert mutator.current_choices['layer2.depth'] == 1
    with pytest.raises(ChoiceError, match="unknown group 'layer9.depth'"):
        mutator.set_choices({'layer9.depth': 1})
    with pytest.raises(
            ChoiceError,
            match=r'layer1.depth = 3 is not allowed;'
            r' allowed: \[1, 2\]'):
        mutator.set_choices({'layer1.depth': 3})


def test_constraints_restrict_sampling_only():
    _, mutator = make_mutator()
    mutator.set_constraints({'kernel_size': [7], 'expand_ratio': [4, 6]})
    assert mutator.constraints == {
        'kernel_size': (7, ),
        'expand_ratio': (4, 6)
    }
    generator = random.Random(0)
    for _ in range(20):
        choices = mutator.sample_choices('random', generator)
        for name, value in choices.items():
            if name.endswith('kernel_size'):
                assert value == 7
            if name.endswith('expand_ratio'):
                assert value in (4, 6)
    assert mutator.sample_choices('min')['layer1.0.expand_ratio'] == 4
    mutator.set_choices({'layer1.0.kernel_size': 3})  # still settable
    mutator.clear_constraints()
    assert mutator.search_space['layer1.0.kernel_size'] == (3, 5, 7)


def test_bad_constraints():
    _, mutator = make_mutator()
    with pytest.raises(ChoiceError, match="unknown dimension 'width'"):
        mutator.set_constraints({'width': [1]})
    with pytest.raises(
            ChoiceError, match=r'kernel_size=\[9\] leaves no '
            'choice'):
        mutator.set_constraints({'kernel_size': [9]})
    with pytest.raises(ChoiceError, match=r'\[9\] is not a candidate'):
        mutator.set_constraints({'kernel_size': [7, 9]})


def test_custom_groups_share_one_choice():
    supernet, mutator = make_mutator(
        custom_groups={'layer1.expand_ratio': 'layer1.*.expand_ratio'})
    assert len(mutator.groups['layer1.expand_ratio']) == 2
    assert len(mutator.groups) == 9
    mutator.set_choices({'layer1.expand_ratio': 3})
    assert supernet.mutables[1].current_choice == 3
    assert supernet.mutables[3].current_choice == 3
    mutator.set_alias_choices({
        'layer1.0.expand_ratio': 4,
        'layer1.1.expand_ratio': 4
    })
    with pytest.raises(ChoiceError, match='must be equal'):
        mutator.set_alias_choices({
            'layer1.0.expand_ratio': 4,
            'layer1.1.expand_ratio': 6
        })


def test_bad_custom_groups():
    with pytest.raises(ChoiceError, match='match no mutable'):
        make_mutator(custom_groups={'g': 'layer9.*'})
    with pytest.raises(ChoiceError, match='mixes'):
        make_mutator(custom_groups={'g': 'layer1.0.*'})
    with pytest.raises(ValueError, match='no mutables'):
        OFAMutator().prepare_from_supernet(nn.Linear(2, 2))
