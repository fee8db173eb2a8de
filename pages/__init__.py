"""The NiceGUI pages, one module per route group; `register_all` adds them to the app."""
