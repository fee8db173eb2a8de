"""The app as the User fixture runs it: settings from the environment the UI tests prepare."""

from nicegui import ui

from portal_ui import app
from portal_ui.config import load_settings
from portal_ui.db import make_engine

settings = load_settings()
app.build(settings, make_engine(settings.database_url), start_mail=False)
ui.run(storage_secret=settings.session_secret(), language="en-US")
