from .mlp_accuracy_predictor import MLPAccuracyPredictor, load_predictor

__all__ = ['MLPAccuracyPredictor', 'load_predictor']
