"""The ``kubectl devns`` command group: global flags, the commands, and how a failure becomes one line on stderr
and an exit code (1 for errors, 2 for bad usage, 130 when interrupted), as kubectl does."""

from __future__ import annotations

import importlib
import sys

import click
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError

from .errors import PluginError, describe_api_error
from .session import Session, kube_options

#: command -> "module:attribute". A command's module (and what it imports of the official client, whose modules
#: are large) is loaded only when that command runs: `onboard` starts in about half the time it would otherwise.
COMMANDS = {
    "onboard": "credentials:onboard", "token": "credentials:token", "create": "create:create",
    "list": "listing:list_", "status": "show:status", "extend": "change:extend", "delete": "change:delete",
    "wake": "change:wake",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(f".{module}", __package__), attribute)

HELP = """Onboard developers and manage DevNamespaces (devns.io).

\b
Admins:     kubectl devns onboard dana@example.com --team payments
            kubectl devns token ci-payments --service-account deployer
Developers: kubectl devns create            (prompts for what is missing)
            kubectl devns list --mine
            kubectl devns status NAME | extend NAME 3d | wake NAME | delete NAME
"""


@click.group(cls=LazyGroup, help=HELP,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120})
@kube_options
def cli() -> None:
    pass


def main(argv: list[str] | None = None) -> int:
    """The console script ``kubectl-devns``."""
    try:
        return cli.main(args=argv, prog_name="kubectl devns", obj=Session(), standalone_mode=False) or 0
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except PluginError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except ApiException as exc:
        click.echo(describe_api_error(exc), err=True)
        return 1
    except HTTPError as exc:
        click.echo(f"error: cannot reach the API server: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
