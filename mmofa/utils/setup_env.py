import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmofa module into its registry, set scope ``mmofa``.

    Args:
        init_default_scope (bool): Make ``mmofa`` the default scope, so that
            configs may name mmofa components without the ``mmofa.`` prefix.
            Defaults to True.
    """
    import mmofa.datasets  # noqa: F401,F403
    import mmofa.engine  # noqa: F401,F403
    import mmofa.models  # noqa: F401,F403

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mmofa', scope_name='mmofa')
    elif current.scope_name != 'mmofa':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "mmofa"; `register_all_modules` creates a new '
                      'default scope named "mmofa".')
        name = f'mmofa-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='mmofa')
