"""Running the user's model code without letting it end the program: ``sys.exit``, Ctrl-C stand-ins and hangs.

Code the user agreed to run may still call ``sys.exit()`` (a script's ``if __name__`` block gone wrong), raise
``KeyboardInterrupt`` or loop forever. `user_code` turns the first two into a `ModelError` naming the file, and,
in the main thread (the command line), stops code that runs longer than ``LATENT_EXPLORER_CODE_TIMEOUT``
seconds (default 300) with a `ModelError` too. Worker threads cannot be interrupted from outside in Python;
there a hang is the job's to cancel or abandon.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from latent_explorer.core.errors import ModelError

TIMEOUT_ENV = "LATENT_EXPLORER_CODE_TIMEOUT"
DEFAULT_TIMEOUT_S = 300.0


class _CodeTimeout(BaseException):
    """Raised into the user's code by the alarm; a BaseException so that ``except Exception`` in it cannot eat it."""


def code_timeout() -> float:
    """Seconds the user's import or factory may run in the main thread (0: no limit)."""
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(text) if text else DEFAULT_TIMEOUT_S
    except ValueError:
        raise ModelError(f"{TIMEOUT_ENV} = '{text}' is not a number of seconds",
                         hint="e.g. 300, or 0 for none") from None
    return max(value, 0.0)


@contextlib.contextmanager
def user_code(what: str, source: str | Path) -> Iterator[None]:
    """Run the block as the user's code: exits, interrupts and (main thread) hangs become a `ModelError`."""
    timeout = code_timeout()
    use_alarm = timeout > 0 and threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous = None
    if use_alarm:
        def on_alarm(signum, frame):
            raise _CodeTimeout()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except SystemExit as exc:
        raise ModelError(f"{what}: the model's code called sys.exit({exc.code!r})", path=source,
                         hint="remove the sys.exit/exit() call, or move it under "
                              "if __name__ == \"__main__\":") from None
    except KeyboardInterrupt:
        raise ModelError(f"{what}: the model's code raised KeyboardInterrupt", path=source,
                         hint="the code (or a Ctrl-C) interrupted loading; fix the code and load it again") from None
    except _CodeTimeout:
        raise ModelError(f"{what}: the model's code did not finish within {timeout:g} s", path=source,
                         hint=f"the code may loop forever; if it is only slow, raise {TIMEOUT_ENV}") from None
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
