"""`python -m shaobing_matcher` starts one faust worker."""

import faust

from .entrypoints import web  # noqa: F401  (registers the HTTP pages)
from .entrypoints.app import app, settings

# Not faust's `worker` command: it redirects stdout into faust's own logger, which swallowed the
# JSON logs (shaobing_runtime.logging writes them to stdout). The web port is the app's.
faust.Worker(
    app, loglevel=settings.log_level.lower(), redirect_stdouts=False
).execute_from_commandline()
