"""What the pages share at run time: the settings and the database (runtime), sessions and
the front door (sessions, hardening), live updates (live), the staff layout, bulk jobs."""
