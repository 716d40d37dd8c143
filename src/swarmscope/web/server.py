"""``swarmscope serve``: the workbench app under uvicorn, on loopback unless told otherwise."""

from __future__ import annotations

from pathlib import Path

from .security import LOOPBACK_HOSTS, WILDCARD_HOSTS, host_name, new_secret


def serve(
    case: str | Path, host: str = "127.0.0.1", port: int = 8765, token: str | None = None, analyst: str | None = None
) -> None:
    """Serve the workbench for ``case`` until interrupted; prints the address to open.

    On a host other than loopback a token is required: the given one, or a
    new random one, printed in the address (``?token=``) and never stored.
    """
    import uvicorn

    from .app import create_app

    if not 0 < port < 65536:
        raise ValueError(f"port must be 1-65535, got {port}")
    if token is None and host_name(host) not in LOOPBACK_HOSTS:
        token = new_secret()
    app = create_app(case, token=token, analyst=analyst, host=host)
    shown = "127.0.0.1" if host_name(host) in WILDCARD_HOSTS else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    print(f"swarmscope workbench for {Path(case).name}: {url}", flush=True)
    if host_name(host) in WILDCARD_HOSTS:
        print(
            "listening on every interface: from another machine use this machine's address with the same ?token=",
            flush=True,
        )
    # access_log off: the first request's address carries the token
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
