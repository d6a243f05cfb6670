"""The exceptions of jacobian_sym: every error a user can cause is one of these."""


class JacobianSymError(ValueError):
    """Base class: a one-line message that names the problem."""


class ShapeError(JacobianSymError):
    """Two shapes that do not fit together (both shapes are named)."""


class ParseError(JacobianSymError):
    """Text that does not parse; the message carries the line and column."""

    def __init__(self, message, *, source=None, line=None, col=None):
        if source is not None:
            where = ":".join(str(p) for p in (source, line, col) if p is not None)
        else:
            where = ", ".join(f"{k} {p}" for k, p in (("line", line), ("column", col)) if p is not None)
        super().__init__(f"{where}: {message}" if where else message)
        self.source, self.line, self.col = source, line, col
        self.message = message


class UnknownFunctionError(JacobianSymError):
    """A function name that is not in the op table."""


class DerivationError(JacobianSymError):
    """The engine cannot derive what was asked (e.g. the variable is not in the expression)."""


class ClosedFormError(DerivationError):
    """An index expression for which no closed matrix form was recognised."""


class SizeError(JacobianSymError):
    """Concrete sizes whose explicit check would cost too much."""


class BatchError(ShapeError):
    """A model whose loss over a batch would not be the sum of its one-example losses."""


class SingularMatrixError(JacobianSymError):
    """A matrix that an inverse, a solve or a log-determinant needs nonsingular is singular."""


class LabelRangeError(JacobianSymError):
    """An int class label or token id outside 0 … C−1 (the message names the first and its position)."""
