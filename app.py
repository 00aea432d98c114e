"""WSGI entry point: `gunicorn app:app`."""

from ekatra import create_app

app = create_app()
