"""The error of a config value that a user can fix, and the checks of the
components' arguments that raise it.

Every registered component of the plugin refuses a bad argument with
:class:`ConfigValueError`; :class:`pirl_plugin.engine.PIRLRunner` prints
it on one line, naming the config field, and exits with status 1. Any
other exception keeps its traceback.
"""
import numbers
from typing import Any, Optional


class ConfigValueError(ValueError):
    """A config value a component or the runner refuses; the message says
    which values are valid.

    Args:
        message (str): one line.
        field (str, optional): the refused argument, as written in the
            component's config dict (``'temperature'``); the runner
            prefixes the component's place in the config
            (``model.head.temperature``). None when the message names the
            field itself.
    """

    def __init__(self, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.field = field


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (not a bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(owner: str, field: str, value: Any) -> None:
    """Refuse a value that is not a number (a string, None, a bool).

    Args:
        owner (str): the component's name, for the message.
        field (str): the argument's name.
        value: the value.

    Raises:
        ConfigValueError: naming the field.
    """
    if not is_number(value):
        raise ConfigValueError(
            f'{owner} {field} must be a number, got {value!r}', field)


def check_choice(owner: str, field: str, value: Any, choices) -> None:
    """Refuse a value that is not one of ``choices``.

    Args:
        owner (str): the component's name, for the message.
        field (str): the argument's name.
        value: the value.
        choices (Iterable[str]): the valid values.

    Raises:
        ConfigValueError: naming the field and the choices.
    """
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ConfigValueError(
            f'{owner} {field} must be one of {choices}, got {value!r}', field)


def check_size(owner: str,
               field: str,
               value: Any,
               optional: bool = False) -> None:
    """Refuse a size (channels, patches, pixels) that is not an integer
    >= 1.

    Args:
        owner (str): the component's name, for the message.
        field (str): the argument's name.
        value: the value.
        optional (bool): whether None is allowed. Defaults to False.

    Raises:
        ConfigValueError: naming the field.
    """
    if optional and value is None:
        return
    if not (isinstance(value, numbers.Integral)
            and not isinstance(value, bool) and value >= 1):
        raise ConfigValueError(
            f'{owner} {field} must be an integer >= 1, got {value!r}', field)
