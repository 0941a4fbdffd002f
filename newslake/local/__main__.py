"""``python -m newslake.local up|down|status``: the local platform's lifecycle (make up / down).

``python -m newslake.local token [CLIENT]`` prints an access token of a local machine client
(default: the privacy office's), as a deployed client gets from Cognito's token endpoint."""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import BotoCoreError, ClientError

from newslake.errors import NewslakeError
from newslake.local import lifecycle, oauth, server
from newslake.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m newslake.local")
    parser.add_argument("command", choices=["up", "down", "status", "token"])
    parser.add_argument("client", nargs="?", help="token: the machine client's name")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        if args.command == "token":
            print(oauth.client_token(settings, args.client or settings.privacy_client_name))
        elif args.command in ("up", "down"):
            run = lifecycle.up if args.command == "up" else lifecycle.down
            print("\n".join(run(settings)))
        else:
            running = server.is_running(settings)
            print(
                f"local platform {'running' if running else 'stopped'} at {settings.endpoint_url}"
            )
            return 0 if running else 3
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(
            f"error: the local platform at {settings.endpoint_url} failed while provisioning "
            f"({exc}); see {settings.moto_log_file}, then `make down && make up`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
