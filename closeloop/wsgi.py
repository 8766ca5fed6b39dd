import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
application = get_wsgi_application()

from closeloop.core.warm import web_process_warm  # noqa: E402  (needs the apps loaded above)

web_process_warm()
