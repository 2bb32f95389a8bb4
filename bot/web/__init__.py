"""The web app (Starlette): the channels' webhooks, `/healthz` and `/metrics`, built in `app`."""
