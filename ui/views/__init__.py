"""One module per main view; main_window.VIEWS lists them in tab order."""
