"""Validate once before training starts."""
from mmengine.hooks import Hook

from mmofa.registry import HOOKS


@HOOKS.register_module()
class ValidateBeforeTrainHook(Hook):
    """Run the validation loop before the first training iteration, so a
    fine-tuning log starts with the accuracy it starts from. Skipped when a
    run resumes past iteration 0."""
    priority = 'LOW'

    def before_train(self, runner) -> None:
        if runner.iter == 0 and runner.val_loop is not None:
            runner.val_loop.run()
