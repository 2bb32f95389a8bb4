"""Operating the bot: `/healthz` (`health`), `/metrics` (`metrics`), log lines (`logs`) and
`formabot doctor`'s checks (`doctor`)."""
