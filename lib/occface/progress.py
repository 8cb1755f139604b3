"""Progress bars that end, in a terminal and in a saved notebook: ``tqdm.auto``'s bar, whose notebook widget
also writes its final state into the notebook's output when it closes.

A notebook widget's text fallback (``text/plain``, what an executed notebook keeps once widget state is
dropped: ``occface.executed``) is its state when it was displayed, 0 %, however far the bar then went. Here the
widget is displayed with a display id and, on ``close``, the display is updated in place (an
``update_display_data`` message, which a live front end and nbclient/papermill both apply), so the saved
output reads ``150/150``, or where an interrupted bar stopped. Use it as a context manager, or iterate it to
its end, so that it closes."""

from __future__ import annotations

from tqdm.auto import tqdm as _auto

try:
    from tqdm.notebook import tqdm_notebook as _notebook
except ImportError:  # no ipywidgets: tqdm.auto is the text bar
    _notebook = None

NOTEBOOK = _notebook is not None and issubclass(_auto, _notebook)


class tqdm(_auto):  # noqa: N801 (tqdm's own name, a drop-in replacement)
    def __init__(self, *args, **kwargs):
        self._handle = None
        wanted = kwargs.get("display", True)
        if NOTEBOOK and wanted and kwargs.get("delay", 0) <= 0:
            kwargs["display"] = False  # shown below, with a handle to update on close
        super().__init__(*args, **kwargs)
        if NOTEBOOK and wanted and not self.disable and not self.displayed and self.delay <= 0:
            from IPython.display import display

            self._handle = display(self.container, display_id=True)
            self.displayed = True

    def close(self):
        super().close()
        handle, self._handle = self._handle, None
        if handle is not None and self.leave:  # the final state, in place of the 0 % shown at the start
            handle.update(self.container)
