from .mutable_value import (ChoiceError, DerivedMutable, OneShotMutableValue,
                            is_number, sample_from)

__all__ = [
    'ChoiceError', 'DerivedMutable', 'OneShotMutableValue', 'is_number',
    'sample_from'
]
