from django.apps import AppConfig


class CliConfig(AppConfig):
    # An installed app only so that Django finds its management commands; no models.
    name = "closeloop.cli"
    label = "cli"
