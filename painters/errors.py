"""Errors painters raises.

Every mistake a user can fix (a bad plan, an unsupported model, a wrong sweep file, missing data) raises a
:class:`PaintersError`; each class keeps the matching built-in exception as a second base (``ValueError``,
``FileNotFoundError``, ...) so ``except ValueError`` keeps working. The CLI prints a ``PaintersError`` as one message
(exit code 2) and shows the traceback of anything else: a bug must not look like a user error.
"""


class PaintersError(Exception):
    """A mistake the user can fix; the message says what was given, where, and what to do."""


class PlanError(PaintersError, ValueError):
    """A layer plan that cannot apply: the message says what was given and what is allowed."""


class ModelRefusal(PlanError):
    """A well-formed plan that this model's forward cannot run (e.g. a stage left with no block). A sweep leaves
    such variants out with a note instead of stopping; ``painters.apply`` raises it like any plan error."""


class UnsupportedModelError(PaintersError, ValueError):
    """A model painters cannot drive exactly: the message says why."""


class ConfigError(PaintersError, ValueError):
    """A bad option or argument (a task option, a sweep field, a batch size...)."""


class DataError(PaintersError, ValueError):
    """Data that cannot be used as given (a missing column, mismatched labels, an unreadable file)."""


class DataNotFoundError(PaintersError, FileNotFoundError):
    """A data file or folder that does not exist."""


class UnknownNameError(PaintersError, KeyError, ValueError):
    """A name that no registry holds (an op, a task, a zoo model...): the message lists what there is (and the
    closest names)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingPackageError(PaintersError, ImportError):
    """An optional package a feature needs is not installed: the message says what to install."""
